"""Privacy and upload rules, and Teams meetings: pure decisions, one function each.

Why this file exists: what OCA's filters for Odoo's own Outlook sync and
calendar-sync services offer — private appointments left out, a domain for
uploads, "future appointments only", declined invitations out of busy time — is
a handful of small rules whose combinations are easy to get wrong. They live here,
without Odoo or I/O; the addon reads a user's settings (defaults per company) into
:class:`UploadRules` and asks.

Upload (Odoo → Outlook), :func:`upload_decision`:

* a private appointment goes up as ``sensitivity: private`` (``private_mode``
  ``"private"``, the default) or not at all (``"skip"``);
* ``from_today``: appointments that ended before today (in the user's zone) stay
  in Odoo;
* the company's or user's domain (evaluated by the addon: ``in_domain``).

An appointment a rule newly excludes after it was uploaded is removed from Outlook
once (the addon queues one deletion through the outbox; afterwards it has no
link, so nothing more is sent).

Download (Outlook → Odoo), :func:`busy_block`: with ``private_as_busy`` an
Outlook private (or confidential) appointment comes down as a "Busy" block: its
times and availability only, no title, description, location or meeting link.

Busy time and workload, :func:`counts_as_busy`: a declined invitation never counts
(Graph keeps it in the calendar when the user chose to keep declined meetings,
``responseStatus.response == "declined"``); a tentative one (``showAs: tentative``
or ``response: tentativelyAccepted``) counts only with ``tentative_busy``.

Teams meetings (Graph docs "event resource type": ``isOnlineMeeting``,
``onlineMeetingProvider``, ``onlineMeeting``; "calendar resource type":
``allowedOnlineMeetingProviders``, ``defaultOnlineMeetingProvider``):

* :func:`teams_fields` — what the upload body says: ``isOnlineMeeting: true`` and
  ``onlineMeetingProvider: teamsForBusiness``, or ``isOnlineMeeting: false``;
* :func:`teams_refusal` — a calendar whose ``allowedOnlineMeetingProviders`` lacks
  ``teamsForBusiness`` (a tenant without Teams, a user without a Teams licence)
  cannot get one: the reason in plain words. Graph does not refuse such a create:
  it makes the event without a meeting and answers ``isOnlineMeeting: false``
  (microsoftgraph/microsoft-graph-docs-contrib#8864), so the answer is checked too
  (:func:`meeting_missing`);
* :func:`meeting_kept` — switching a meeting off with ``PATCH isOnlineMeeting:
  false`` (and ``onlineMeeting: null``) is publicly reported to leave the Teams
  meeting and its join link in place (microsoftgraph/microsoft-graph-docs#17308,
  microsoftgraph/microsoft-graph-docs-contrib#2054, #3956): when Graph's answer
  still carries the meeting, the event is replaced (deleted and created again
  without it), which is the only way reported to remove it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = [
    "PRIVATE_MODES",
    "TEAMS",
    "UploadRules",
    "busy_block",
    "counts_as_busy",
    "join_url",
    "meeting_kept",
    "meeting_missing",
    "teams_fields",
    "teams_refusal",
    "upload_decision",
]

PRIVATE_MODES = ("private", "skip")
TEAMS = "teamsForBusiness"
BUSY_TITLE = "Busy"
_PRIVATE = frozenset({"private", "confidential"})


@dataclass(frozen=True)
class UploadRules:
    """A user's upload rules (the addon fills in the company's defaults)."""

    private_mode: str = "private"
    from_today: bool = False


def upload_decision(
    rules: UploadRules,
    *,
    private: bool,
    last_day: date | None,
    today: date,
    in_domain: bool = True,
) -> tuple[bool, str | None]:
    """``(goes up, why not)`` for one appointment under ``rules``.

    ``last_day`` is the appointment's last local day (``None``: unknown, kept);
    ``in_domain`` whether it matches the upload domain.
    """
    if rules.private_mode not in PRIVATE_MODES:
        raise ValueError(f"unknown private mode {rules.private_mode!r}")
    if private and rules.private_mode == "skip":
        return False, "private appointments are not sent to Outlook"
    if rules.from_today and last_day is not None and last_day < today:
        return False, "only appointments from today on are sent to Outlook"
    if not in_domain:
        return False, "the appointment is outside the upload rule"
    return True, None


def busy_block(values: Mapping[str, Any], sensitivity: str | None, *, private_as_busy: bool):
    """The pulled ``calendar.event`` values, as a "Busy" block when the rule says so."""
    if not private_as_busy or (sensitivity or "").lower() not in _PRIVATE:
        return dict(values)
    out = dict(values)
    out.update(
        name=BUSY_TITLE,
        description=False,
        location=False,
        videocall_location=False,
        privacy="private",
    )
    return out


def counts_as_busy(show_as: str | None, response: str | None, *, tentative_busy: bool) -> bool:
    """Does an Outlook appointment count as busy time (busy-time import, workload)?"""
    answer = (response or "").lower()
    if answer == "declined":
        return False
    status = (show_as or "").lower()
    if status in {"busy", "oof"}:
        return answer != "tentativelyaccepted" or tentative_busy
    if status == "tentative":
        return tentative_busy
    return False


def teams_fields(teams: bool) -> dict[str, Any]:
    """The upload body's online-meeting properties."""
    if teams:
        return {"isOnlineMeeting": True, "onlineMeetingProvider": TEAMS}
    return {"isOnlineMeeting": False}


def teams_refusal(allowed: Iterable[str] | None) -> str | None:
    """Why a calendar cannot hold a Teams meeting (``None``: it can).

    ``allowed`` is the calendar's ``allowedOnlineMeetingProviders``; ``None`` when
    only Graph's answer is known (an event created without the meeting asked for).
    """
    if allowed is None:
        return (
            "Microsoft 365 saved the appointment without a Teams meeting: the "
            "organisation does not use Teams, or your account has no Teams licence. "
            "Ask your Microsoft 365 administrator."
        )
    providers = [p for p in allowed if isinstance(p, str)]
    if TEAMS in providers:
        return None
    offered = ", ".join(p for p in providers if p != "unknown") or "none"
    return (
        "This Microsoft 365 calendar cannot hold Teams meetings (online meeting "
        f"providers it allows: {offered}). The organisation does not use Teams, or "
        "your account has no Teams licence: ask your Microsoft 365 administrator."
    )


def join_url(raw: Mapping[str, Any]) -> str | None:
    """The Teams join link of a Graph event (``onlineMeeting.joinUrl``), if any."""
    online = raw.get("onlineMeeting")
    if isinstance(online, Mapping):
        url = online.get("joinUrl")
        if isinstance(url, str) and url:
            return url
    url = raw.get("onlineMeetingUrl")
    return url if isinstance(url, str) and url else None


def meeting_missing(payload: Mapping[str, Any], raw: Mapping[str, Any]) -> bool:
    """A meeting was asked for and Graph's answer has none (no Teams for this calendar)."""
    return bool(payload.get("isOnlineMeeting")) and join_url(raw) is None


def meeting_kept(payload: Mapping[str, Any], raw: Mapping[str, Any]) -> bool:
    """The meeting was switched off and Graph's answer still carries it (see above)."""
    return payload.get("isOnlineMeeting") is False and join_url(raw) is not None
