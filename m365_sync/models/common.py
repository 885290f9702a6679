"""Values shared by several models of the addon: selections and datetime helpers."""

from datetime import timezone

from m365_graph import naive_utc as _graph_naive_utc

#: Graph's event types (``event.type``), as links and busy slots show them.
EVENT_TYPES = [
    ("singleInstance", "Single"),
    ("occurrence", "Occurrence"),
    ("exception", "Changed occurrence"),
    ("seriesMaster", "Series"),
]
#: Directions of a connected account's calendar sync.
DIRECTIONS = [
    ("down", "Down (Outlook → Odoo)"),
    ("up", "Up (Odoo → Outlook)"),
    ("both", "Up and Down"),
    ("none", "None (paused)"),
]


def naive_utc(moment):
    """Aware datetime → naive UTC (Odoo's convention); a naive one is already that;
    ``None`` (or any empty value) becomes ``False``, as fields expect."""
    return _graph_naive_utc(moment) if moment else False


def aware_utc(moment):
    """Naive UTC (Odoo's convention) → aware UTC; an aware datetime is kept."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
