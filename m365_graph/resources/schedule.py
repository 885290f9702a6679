"""Free/busy of many people at once: ``calendar: getSchedule`` in chunks of 20, in ``$batch``.

Why this file exists: the scheduling views show colleagues' Outlook availability
(:mod:`m365_graph.sync.availability` holds the rules). Graph's ``POST
/users/{id}/calendar/getSchedule`` (or ``/me/calendar/getSchedule`` with a delegated
sign-in; https://learn.microsoft.com/graph/api/calendar-getschedule) takes

* at most 20 ``schedules`` (SMTP addresses) per call, a window under 62 days
  (``startTime``/``endTime`` as ``dateTimeTimeZone``) and an
  ``availabilityViewInterval`` in minutes (5 to 1440, default 30);
* application permission ``Calendars.ReadBasic.All`` (or ``Calendars.Read``), or
  delegated ``Calendars.ReadBasic``/``Calendars.Read``;

and answers one ``scheduleInformation`` per address, in order — ``error`` for an
address it cannot resolve (someone outside the tenant: response code 5009,
microsoftgraph/microsoft-graph-docs#11225) while the others are answered.

More than 20 people are cut into chunks of 20; two chunks or more travel in one
``$batch`` (at most 20 calls per round trip), chained in four ``dependsOn`` lanes
because every call goes to the same mailbox's calendar (Outlook's 4 concurrent
requests per mailbox; see :mod:`m365_graph.resources.outbox`). 200 people over 5
days are therefore 10 getSchedule calls in one round trip.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..core.client import GraphClient
from ..core.errors import BadResponse, GraphError, GraphUnavailable
from ..core.timezones import to_graph_datetime
from ..core.types import BatchRequest
from ..sync.availability import MAX_SCHEDULES, PersonSchedule, check_window, parse_schedules
from .calendar import calendar_path

__all__ = ["LANES", "get_schedules", "schedule_body"]

LANES = 4


def schedule_body(
    schedules: Sequence[str], start: datetime, end: datetime, interval: int = 30
) -> dict[str, Any]:
    """The request body of one getSchedule call (times in UTC)."""
    if not 1 <= len(schedules) <= MAX_SCHEDULES:
        raise ValueError("getSchedule takes 1 to 20 schedules per call")
    if not 5 <= int(interval) <= 1440:
        raise ValueError("availabilityViewInterval is 5 to 1440 minutes")
    return {
        "schedules": list(schedules),
        "startTime": to_graph_datetime(start),
        "endTime": to_graph_datetime(end),
        "availabilityViewInterval": int(interval),
    }


def _permission(client: GraphClient) -> str:
    return "Calendars.ReadBasic" if client.kind == "delegated" else "Calendars.ReadBasic.All"


def _fail(chunk: Sequence[str], error: GraphError) -> list[PersonSchedule]:
    return [PersonSchedule(address, error=str(error)) for address in chunk]


def _answer(chunk: Sequence[str], body: Any, skipped: list[str]) -> list[PersonSchedule]:
    try:
        value = body.get("value") if isinstance(body, dict) else None
        people, bad = parse_schedules(value)
    except BadResponse as exc:
        return [PersonSchedule(address, error=exc.message) for address in chunk]
    skipped.extend(bad)
    by_id = {p.schedule_id.lower(): p for p in people}
    # Graph answers in the order asked; one it left out gets an error of its own.
    return [
        by_id.get(address.lower())
        or PersonSchedule(address, error="Outlook gave no availability for this address")
        for address in chunk
    ]


def get_schedules(
    client: GraphClient,
    mailbox: str,
    addresses: Iterable[str],
    start: datetime,
    end: datetime,
    *,
    interval: int = 30,
    skipped: list[str] | None = None,
) -> dict[str, PersonSchedule]:
    """``{address: PersonSchedule}`` of every address (case as given), asked as ``mailbox``.

    ``mailbox`` is ``"me"`` (delegated) or a user id/UPN whose calendar asks (the
    application permission). A person Graph cannot answer has ``error`` set; a
    failure of a whole call is reported on each person of its chunk, except a sign-in
    failure or an open circuit breaker, which raise.
    """
    check_window(start, end)
    wanted = list(dict.fromkeys(a.strip() for a in addresses if a and a.strip()))
    skipped = skipped if skipped is not None else []
    if not wanted:
        return {}
    chunks = [wanted[i : i + MAX_SCHEDULES] for i in range(0, len(wanted), MAX_SCHEDULES)]
    url = f"{calendar_path(mailbox)}/calendar/getSchedule"
    permission = _permission(client)
    what = f"Reading the availability of {len(wanted)} people (getSchedule)"
    out: list[PersonSchedule] = []
    if len(chunks) == 1:
        try:
            answer = client.request(
                "POST",
                url,
                json=schedule_body(chunks[0], start, end, interval),
                what=what,
                permission=permission,
                retry_safe=True,  # a read, although a POST
            )
            out.extend(_answer(chunks[0], answer.json_object(what), skipped))
        except GraphUnavailable:
            raise
        except GraphError as exc:
            if exc.status in (401,):
                raise
            out.extend(_fail(chunks[0], exc))
        return {p.schedule_id: p for p in _keyed(wanted, out)}
    for first in range(0, len(chunks), 20):
        group = chunks[first : first + 20]
        requests = [
            BatchRequest(
                id=str(i),
                method="POST",
                url=url,
                headers={"Content-Type": "application/json"},
                body=schedule_body(chunk, start, end, interval),
                retry_safe=True,
            )
            for i, chunk in enumerate(group)
        ]
        requests = [
            dataclasses.replace(r, depends_on=(requests[i - LANES].id,)) if i >= LANES else r
            for i, r in enumerate(requests)
        ]
        try:
            answers = client.batch(requests, what=what)
        except GraphUnavailable:
            raise
        except GraphError as exc:
            for chunk in group:
                out.extend(_fail(chunk, exc))
            continue
        for chunk, answer in zip(group, answers, strict=True):
            error = answer.error(what=what, permission=permission)
            if error is not None:
                out.extend(_fail(chunk, error))
            else:
                out.extend(_answer(chunk, answer.body, skipped))
    return {p.schedule_id: p for p in _keyed(wanted, out)}


def _keyed(wanted: list[str], people: list[PersonSchedule]) -> list[PersonSchedule]:
    # Key every answer by the address as the caller gave it.
    return [dataclasses.replace(p, schedule_id=a) for a, p in zip(wanted, people, strict=True)]
