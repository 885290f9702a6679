"""Values shared by several models of the addon: selections, datetime helpers, and
the names of people in error messages."""

import re
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


#: A Graph object id (users, events' owners): what error messages name mailboxes by.
GUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)


def name_people(env, text):
    """``text`` with each Microsoft 365 user id replaced by the person it is.

    m365_graph names a mailbox by what the request used — often a user's Graph id
    ("the calendar of 87f66390-…"). People reading an error want a name: ids of
    synchronised contacts and connected accounts become "Name (e-mail)"; other ids
    (request ids, tenant ids) stay as they are.
    """
    if not text or not isinstance(text, str):
        return text
    ids = {match.lower() for match in GUID_RE.findall(text)}
    if not ids:
        return text
    names = {}
    accounts = env["m365.account"].sudo().search([("graph_user_id", "in", list(ids))])
    for account in accounts:
        names[account.graph_user_id.lower()] = (account.user_id.name, account.email)
    partners = (
        env["res.partner"]
        .sudo()
        .with_context(active_test=False)
        .search([("m365_user_id", "in", list(ids - names.keys()))])
    )
    for partner in partners:
        names.setdefault(partner.m365_user_id.lower(), (partner.name, partner.email))

    def person(match):
        found = names.get(match.group(0).lower())
        if not found:
            return match.group(0)
        name, email = found
        return f"{name} ({email})" if email and email != name else name

    return GUID_RE.sub(person, text)


#: Zone names meaning "no time zone chosen" (Odoo's default for users made in Settings).
UTC_ZONES = frozenset({"", "UTC", "Etc/UTC", "GMT", "Etc/GMT", "Universal", "Zulu", "Etc/Zulu"})


def is_utc_zone(tz):
    """True for a user whose time zone is unset or UTC: their local days are UTC days."""
    return (tz or "") in UTC_ZONES
