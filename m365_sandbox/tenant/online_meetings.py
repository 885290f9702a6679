"""Teams meetings on events: who may have one, its documented shape, and how Graph keeps it.

Why this file exists: an event created with ``isOnlineMeeting: true`` and
``onlineMeetingProvider: teamsForBusiness`` gets a Teams meeting, described by
``onlineMeeting`` (an ``onlineMeetingInfo``: ``joinUrl``, ``conferenceId``,
``tollNumber``, ``tollFreeNumbers``, ``phones``, ``quickDial``; Graph docs
"onlineMeetingInfo resource type",
https://learn.microsoft.com/graph/api/resources/onlinemeetinginfo). Which providers a
calendar offers is the calendar's ``allowedOnlineMeetingProviders`` and
``defaultOnlineMeetingProvider`` (Graph docs "calendar resource type").

Behaviour reproduced, with the reports it follows:

* A tenant without Teams, or a user without a Teams licence: the calendar allows
  no provider (``allowedOnlineMeetingProviders: []``, default ``unknown``), and a
  create asking for Teams is *not* refused: the event is made without a meeting
  and answers ``isOnlineMeeting: false`` (microsoftgraph/microsoft-graph-docs-contrib#8864,
  "Created meeting IsOnlineMeeting=false even though the request set it to true").
* Switching the meeting off with ``PATCH {"isOnlineMeeting": false}`` (even with
  ``"onlineMeeting": null``) leaves the meeting, its join link and the join
  button in place (microsoftgraph/microsoft-graph-docs#17308,
  microsoftgraph/microsoft-graph-docs-contrib#2054 and #3956): the sandbox keeps
  the meeting; deleting the event is the way to remove it.
"""

from __future__ import annotations

import hashlib

TEAMS = "teamsForBusiness"


def providers(teams_enabled: bool, licensed: bool) -> list[str]:
    """``allowedOnlineMeetingProviders`` of a user's calendar."""
    return [TEAMS] if teams_enabled and licensed else []


def default_provider(teams_enabled: bool, licensed: bool) -> str:
    return TEAMS if teams_enabled and licensed else "unknown"


def meeting_info(event_id: str) -> dict:
    """A Teams ``onlineMeetingInfo`` for ``event_id`` (stable per event)."""
    digest = hashlib.sha256(event_id.encode()).hexdigest()
    conference = str(int(digest[:12], 16))[:9]
    return {
        "joinUrl": (
            f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{event_id[-24:]}%40thread.v2/0"
        ),
        "conferenceId": conference,
        "tollNumber": "+1 323-555-0166",
        "tollFreeNumbers": [],
        "phones": [{"number": "+1 323-555-0166", "type": "home"}],
        "quickDial": f"+1 323-555-0166,,{conference}#",
    }


def settle(props: dict, event_id: str, allowed: bool, before: dict | None = None) -> None:
    """Apply the rules above to an event's stored properties after a create or PATCH.

    ``before``: the meeting the event had before a PATCH (``None`` on create).
    """
    if before is not None:
        # A PATCH never removes an existing meeting (reports above).
        props["isOnlineMeeting"] = True
        props["onlineMeetingProvider"] = TEAMS
        props["onlineMeeting"] = before
        return
    if not props.get("isOnlineMeeting"):
        props.pop("onlineMeeting", None)
        return
    if not allowed:
        props["isOnlineMeeting"] = False
        props["onlineMeetingProvider"] = "unknown"
        props["onlineMeeting"] = None
        return
    props["onlineMeetingProvider"] = TEAMS
    props["onlineMeeting"] = meeting_info(event_id)
