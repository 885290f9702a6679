"""Tenants to start from: the default one, a realistic demo, big benchmark ones,
and JSON seed files.

Seed format (JSON object; every key optional)::

    {
      "tenant": {"id": "<guid>", "domain": "contoso.onmicrosoft.com",
                 "domains": ["contoso.onmicrosoft.com", "contoso.com"],
                 "displayName": "Contoso"},
      "app": {"clientId": "<guid>", "clientSecret": "…", "displayName": "Odoo M365 Sync",
              "roles": ["User.Read.All", "Calendars.ReadWrite"],          # granted now
              "requestedRoles": ["User.Read.All", "Calendars.ReadWrite", "Place.Read.All"],
              "requestedScopes": ["User.Read", "Calendars.ReadWrite", "offline_access", …],
              "redirectUris": ["http://localhost*", "https://odoo.example.com/m365/oauth"]},
      "apps": [ {…same keys, more app registrations…} ],
      "signedInUser": "adele.vance@contoso.onmicrosoft.com",
      "users": [
        {"displayName": "Adele Vance", "userPrincipalName": "adele.vance@…", "mail": "…",
         "givenName": "…", "surname": "…", "jobTitle": "…", "department": "…",
         "officeLocation": "…", "businessPhones": ["…"], "mobilePhone": "…",
         "accountEnabled": true, "userType": "Member", "id": "<guid>",
         "hasMailbox": true,                       # false = unlicensed (no mailbox)
         "isRoom": false, "room": {"capacity": 12, "building": "…", "floorNumber": 2},
         "events": [ <Graph event JSON as POSTed to /events, optionally with "id"> ]}
      ],
      "shares": [{"owner": "<upn>", "delegate": "<upn>", "write": true}],
      "bulk": {"users": 10000, "eventsPerUser": 50, "mailboxes": 1000,
               "start": "2026-11-01", "days": 28, "seed": 0}
    }

Event ``dateTime`` values may be relative to the day the seed is loaded:
``"today+2T09:00:00"`` or ``"today-1T00:00:00"`` (handy for demo files).
``bulk`` users are generated procedurally and quickly (10,000 users and
1,000 mailboxes x 50 events in well under 10 s): see :func:`bulk_seed`.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .mailbox_store import StoredEvent
from .tenant_state import TenantState
from .zone_lookup import UTC, zone

_RELATIVE = re.compile(r"^today(?P<offset>[+-]\d+)?(?:T(?P<time>[\d:.]+))?$")


def weekly_recurrence(first: datetime, occurrences: int, interval: int = 1) -> dict:
    """Graph's ``patternedRecurrence`` of a weekly series starting with ``first``.

    The weekday is ``first``'s own and the range is numbered, as Outlook writes a
    "weekly, N times" series (Graph docs, "patternedRecurrence resource type").
    """
    return {
        "pattern": {
            "type": "weekly",
            "interval": interval,
            "daysOfWeek": [first.strftime("%A").lower()],
        },
        "range": {
            "type": "numbered",
            "startDate": first.date().isoformat(),
            "numberOfOccurrences": occurrences,
        },
    }


def load_seed(path_or_dict) -> dict:
    """A seed dict from a dict (returned as is) or a JSON file path."""
    if isinstance(path_or_dict, dict):
        return path_or_dict
    return json.loads(Path(path_or_dict).read_text(encoding="utf-8"))


def _resolve_time(value: dict, today: date) -> dict:
    if not isinstance(value, dict):
        return value
    text = str(value.get("dateTime", ""))
    match = _RELATIVE.match(text)
    if not match:
        return value
    day = today + timedelta(days=int(match.group("offset") or 0))
    clock = match.group("time") or "00:00:00"
    return {**value, "dateTime": f"{day.isoformat()}T{clock}"}


def apply_seed(state: TenantState, seed) -> None:
    """Load a seed (dict or path) into a fresh state."""
    seed = load_seed(seed)
    with state.lock:
        tenant = seed.get("tenant") or {}
        if tenant.get("id"):
            state.tenant_id = tenant["id"]
        if tenant.get("domain"):
            state.tenant_domain = tenant["domain"]
        state.domains = list(dict.fromkeys([state.tenant_domain, *(tenant.get("domains") or [])]))
        state.display_name = tenant.get("displayName", state.display_name)
        if seed.get("app"):
            _apply_app(state, seed["app"], default=True)
        for extra in seed.get("apps") or []:
            _apply_app(state, extra, default=False)
        today = datetime.now(UTC).date()
        for user in seed.get("users") or []:
            _apply_user(state, user, today)
        for share in seed.get("shares") or []:
            state.share_calendar(share["owner"], share["delegate"], bool(share.get("write", True)))
        if seed.get("signedInUser"):
            state.signed_in_user = seed["signedInUser"]
        if seed.get("bulk"):
            bulk = seed["bulk"]
            _apply_bulk(
                state,
                count=int(bulk.get("users", 0)),
                per_user=int(bulk.get("eventsPerUser", 0)),
                start=_as_datetime(bulk.get("start")),
                days=int(bulk.get("days", 28)),
                mailboxes=bulk.get("mailboxes"),
                seed=int(bulk.get("seed", 0)),
            )


def _apply_app(state: TenantState, data: dict, default: bool) -> None:
    client_id = data.get("clientId") or (state.default_client_id if default else state.new_guid())
    current = state.apps.get(state.default_client_id) if default else None
    secret = data.get("clientSecret") or (current.secret if current else state.random_token(24))
    if default and client_id != state.default_client_id:
        state.apps.pop(state.default_client_id, None)
        state.default_client_id = client_id
    fields = {}
    if "displayName" in data:
        fields["display_name"] = data["displayName"]
    if "redirectUris" in data:
        fields["redirect_uris"] = list(data["redirectUris"])
    if "requestedRoles" in data:
        fields["requested_roles"] = set(data["requestedRoles"])
    if "roles" in data:
        fields["roles"] = set(data["roles"])
    if "requestedScopes" in data:
        fields["requested_scopes"] = set(data["requestedScopes"])
    state.add_app(client_id, secret, **fields)


_USER_KEYS = {
    "displayName": None,
    "userPrincipalName": "upn",
    "mail": "mail",
    "givenName": "given_name",
    "surname": "surname",
    "jobTitle": "job_title",
    "department": "department",
    "officeLocation": "office_location",
    "businessPhones": "business_phones",
    "mobilePhone": "mobile_phone",
    "accountEnabled": "account_enabled",
    "userType": "user_type",
    "hasMailbox": "has_mailbox",
    "id": "id",
    "preferredLanguage": "preferred_language",
}


def _apply_user(state: TenantState, data: dict, today: date) -> None:
    kwargs = {}
    extra = {}
    for key, value in data.items():
        if key in ("events", "isRoom", "room", "displayName"):
            continue
        if key in _USER_KEYS:
            kwargs[_USER_KEYS[key]] = value
        else:
            extra[key] = value
    room = data.get("room")
    if data.get("isRoom") and room is None:
        room = {"capacity": 8}
    user = state.add_user(data["displayName"], room=room, **kwargs, **extra)
    for event in data.get("events") or []:
        payload = dict(event)
        payload["start"] = _resolve_time(payload.get("start"), today)
        payload["end"] = _resolve_time(payload.get("end"), today)
        if isinstance(payload.get("recurrence"), dict):
            rng = dict(payload["recurrence"].get("range") or {})
            for key in ("startDate", "endDate"):
                if isinstance(rng.get(key), str) and rng[key].startswith("today"):
                    rng[key] = _resolve_time({"dateTime": rng[key]}, today)["dateTime"][:10]
            payload["recurrence"] = {**payload["recurrence"], "range": rng}
        event_id = payload.pop("id", None)
        state.create_event(user["id"], payload, event_id=event_id)


def _as_datetime(value) -> datetime:
    if value is None:
        today = datetime.now(UTC).date()
        return datetime.combine(today - timedelta(days=today.weekday()), time(0), UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), UTC)
    text = str(value).replace("Z", "+00:00")
    parsed = (
        datetime.fromisoformat(text)
        if "T" in text
        else datetime.combine(date.fromisoformat(text), time(0))
    )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- the default tenant --------------------------------------------------------------------


def default_seed() -> dict:
    """A small tenant: a few members, a disabled user, an unlicensed user, a guest, a room.

    No events: tests add what they need with ``state.add_event``.
    """
    return {
        "users": [
            {
                "displayName": "Adele Vance",
                "jobTitle": "Retail Manager",
                "department": "Retail",
                "officeLocation": "18/2111",
                "businessPhones": ["+1 425 555 0109"],
                "mobilePhone": "+1 425 555 0199",
            },
            {
                "displayName": "Alex Wilber",
                "jobTitle": "Marketing Assistant",
                "department": "Marketing",
                "officeLocation": "131/1104",
                "businessPhones": ["+1 858 555 0110"],
            },
            {
                "displayName": "Megan Bowen",
                "jobTitle": "Marketing Manager",
                "department": "Marketing",
                "officeLocation": "12/1110",
                "businessPhones": ["+1 412 555 0109"],
            },
            {
                "displayName": "Lynne Robbins",
                "jobTitle": "Planner",
                "department": "Retail",
                "officeLocation": "20/1104",
                "businessPhones": ["+1 918 555 0107"],
            },
            {
                "displayName": "Diego Siciliani",
                "jobTitle": "HR Manager",
                "department": "HR",
                "officeLocation": "14/1108",
                "businessPhones": ["+1 205 555 0108"],
            },
            {
                "displayName": "Isaiah Langer",
                "jobTitle": "Sales Rep",
                "department": "Sales",
                "hasMailbox": False,
                "businessPhones": ["+1 918 555 0104"],
            },
            {
                "displayName": "Pradeep Gupta",
                "jobTitle": "Accountant",
                "department": "Finance",
                "accountEnabled": False,
            },
            {
                "displayName": "Jordan Miller (Fabrikam)",
                "userPrincipalName": "jordan.miller_fabrikam.com#EXT#@contoso.onmicrosoft.com",
                "mail": "jordan.miller@fabrikam.com",
                "userType": "Guest",
                "hasMailbox": False,
            },
            {
                "displayName": "Conference Room Rainier",
                "userPrincipalName": "rainier@contoso.onmicrosoft.com",
                "isRoom": True,
                "room": {"capacity": 12, "building": "Building 1", "floorNumber": 1},
            },
        ]
    }


# -- the demo tenant -----------------------------------------------------------------------

_DEMO_PEOPLE = [
    ("Adele Vance", "Retail Manager", "Retail"),
    ("Alex Wilber", "Marketing Assistant", "Marketing"),
    ("Megan Bowen", "Marketing Manager", "Marketing"),
    ("Lynne Robbins", "Planner", "Retail"),
    ("Diego Siciliani", "HR Manager", "Human Resources"),
    ("Isaiah Langer", "Sales Representative", "Sales"),
    ("Joni Sherman", "Paralegal", "Legal"),
    ("Lee Gu", "Director of Engineering", "Engineering"),
    ("Miriam Graham", "Director", "Sales"),
    ("Nestor Wilke", "Director of Operations", "Operations"),
    ("Patti Fernandez", "President", "Executive Management"),
    ("Pradeep Gupta", "Accountant", "Finance"),
    ("Grady Archie", "Senior Designer", "Research & Development"),
    ("Henrietta Mueller", "Developer", "Research & Development"),
    ("Johanna Lorenz", "Senior Engineer", "Engineering"),
    ("Lidia Holloway", "Product Manager", "Engineering"),
    ("Irvin Sayers", "Director", "Research & Development"),
    ("Debra Berger", "Administrative Assistant", "Executive Management"),
    ("Christie Cline", "Buyer", "Sales"),
    ("Enrico Cattaneo", "Attorney", "Legal"),
    ("Emily Braun", "Budget Analyst", "Finance"),
    ("Allan Deyoung", "IT Admin", "IT"),
    ("Cameron White", "Project Manager", "Operations"),
    ("Nora Klein", "Consultant", "Consulting"),
    ("Jonas Becker", "Consultant", "Consulting"),
    ("Sofia Rossi", "Project Manager", "Consulting"),
    ("Lukas Weber", "Field Technician", "Service"),
    ("Hanna Schmidt", "Support Engineer", "Service"),
]
_OFFICES = ["Berlin 2.14", "Berlin 3.02", "Munich 1.07", "Hamburg 4.11", "Remote"]


def demo_seed(today: date | None = None, seed: int = 7) -> dict:
    """A realistic tenant for demos: ~30 people with phones and titles, three
    rooms, a guest, a disabled and an unlicensed user, and a few weeks of
    appointments around today (meetings, recurring team syncs, "Focus time"
    and "Lunch break" blocks, private appointments, out-of-office days)."""
    rng = random.Random(seed)
    today = today or datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    tz_name = "W. Europe Standard Time"
    users = []
    for index, (name, title, department) in enumerate(_DEMO_PEOPLE):
        user = {
            "displayName": name,
            "jobTitle": title,
            "department": department,
            "officeLocation": _OFFICES[index % len(_OFFICES)],
            "businessPhones": [f"+49 30 5550 {1000 + index * 7}"],
            "mobilePhone": f"+49 151 555 {200000 + index * 1311}",
            "events": [],
        }
        if name == "Pradeep Gupta":
            user["accountEnabled"] = False
        if name == "Isaiah Langer":
            user["hasMailbox"] = False
        users.append(user)

    def slot(day: date, hour: float, minutes: int) -> tuple[dict, dict]:
        start = datetime.combine(day, time(int(hour), round((hour % 1) * 60)))
        end = start + timedelta(minutes=minutes)
        return (
            {"dateTime": start.isoformat(), "timeZone": tz_name},
            {"dateTime": end.isoformat(), "timeZone": tz_name},
        )

    working_days = [
        monday + timedelta(days=d)
        for d in range(-14, 21)
        if (monday + timedelta(days=d)).weekday() < 5
    ]
    subjects = [
        "Customer call",
        "Project review",
        "1:1",
        "Sprint planning",
        "Quote follow-up",
        "Workshop",
        "Site visit",
        "Budget review",
    ]
    for index, user in enumerate(users):
        if user.get("hasMailbox") is False or user.get("accountEnabled") is False:
            continue
        events = user["events"]
        # A recurring weekly team sync (Monday 09:30) and daily lunch breaks.
        start, end = slot(monday - timedelta(days=14), 9.5, 30)
        events.append(
            {
                "subject": f"{user['department']} team sync",
                "start": start,
                "end": end,
                "showAs": "busy",
                "isOnlineMeeting": True,
                "recurrence": {
                    "pattern": {
                        "type": "weekly",
                        "interval": 1,
                        "daysOfWeek": ["monday"],
                        "firstDayOfWeek": "monday",
                    },
                    "range": {
                        "type": "endDate",
                        "startDate": (monday - timedelta(days=14)).isoformat(),
                        "endDate": (monday + timedelta(days=35)).isoformat(),
                    },
                },
            }
        )
        if index % 2 == 0:
            start, end = slot(monday - timedelta(days=14), 12.5, 45)
            events.append(
                {
                    "subject": "Lunch break",
                    "start": start,
                    "end": end,
                    "showAs": "free" if index % 4 == 0 else "busy",
                    "categories": ["Lunch break"],
                    "recurrence": {
                        "pattern": {"type": "daily", "interval": 1},
                        "range": {
                            "type": "numbered",
                            "startDate": (monday - timedelta(days=14)).isoformat(),
                            "numberOfOccurrences": 35,
                        },
                    },
                }
            )
        for day in working_days:
            if rng.random() < 0.35:
                start, end = slot(day, rng.choice([8, 13.5, 15]), rng.choice([60, 90, 120]))
                events.append(
                    {
                        "subject": "Focus time",
                        "start": start,
                        "end": end,
                        "showAs": "busy",
                        "categories": ["Focus time"],
                    }
                )
            if rng.random() < 0.5:
                start, end = slot(day, rng.choice([10.5, 11, 14, 16]), rng.choice([30, 45, 60]))
                events.append(
                    {
                        "subject": rng.choice(subjects),
                        "body": {
                            "contentType": "html",
                            "content": "<p>Agenda: status, next steps.</p>",
                        },
                        "start": start,
                        "end": end,
                        "showAs": rng.choice(["busy", "busy", "tentative"]),
                        "location": {
                            "displayName": rng.choice(
                                ["Teams", "Conference Room Rainier", "Customer site"]
                            )
                        },
                        "categories": rng.choice([[], [], ["Customer"]]),
                    }
                )
        # A private appointment and an out-of-office day.
        start, end = slot(monday + timedelta(days=2 + index % 3), 7.5, 60)
        events.append(
            {
                "subject": "Doctor",
                "start": start,
                "end": end,
                "sensitivity": "private",
                "showAs": "oof",
            }
        )
        off = monday + timedelta(days=7 + index % 5)
        events.append(
            {
                "subject": "Vacation",
                "isAllDay": True,
                "showAs": "oof",
                "start": {"dateTime": f"{off.isoformat()}T00:00:00", "timeZone": tz_name},
                "end": {
                    "dateTime": f"{(off + timedelta(days=1)).isoformat()}T00:00:00",
                    "timeZone": tz_name,
                },
            }
        )
    rooms = [
        ("Conference Room Rainier", "rainier", 12, "Berlin HQ", 2),
        ("Conference Room Adams", "adams", 6, "Berlin HQ", 3),
        ("Training Room Baker", "baker", 20, "Munich Office", 1),
    ]
    for name, alias, capacity, building, floor in rooms:
        room_events = []
        for day in working_days[::2]:
            start, end = slot(day, rng.choice([9, 11, 14]), 60)
            room_events.append({"subject": "Booked", "start": start, "end": end, "showAs": "busy"})
        users.append(
            {
                "displayName": name,
                "userPrincipalName": f"{alias}@contoso.onmicrosoft.com",
                "isRoom": True,
                "room": {
                    "capacity": capacity,
                    "building": building,
                    "floorNumber": floor,
                    "bookingType": "standard",
                },
                "events": room_events,
            }
        )
    users.append(
        {
            "displayName": "Jordan Miller (Fabrikam)",
            "userPrincipalName": "jordan.miller_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "mail": "jordan.miller@fabrikam.com",
            "userType": "Guest",
            "hasMailbox": False,
            "jobTitle": "Partner Consultant",
        }
    )
    return {
        "tenant": {
            "domains": ["contoso.onmicrosoft.com", "contoso.example"],
            "displayName": "Contoso",
        },
        "app": {"roles": ["User.Read.All", "Calendars.ReadWrite", "Place.Read.All"]},
        "signedInUser": "adele.vance@contoso.onmicrosoft.com",
        "users": users,
        "shares": [
            {
                "owner": "megan.bowen@contoso.onmicrosoft.com",
                "delegate": "adele.vance@contoso.onmicrosoft.com",
                "write": True,
            }
        ],
    }


# -- big tenants for benchmarks --------------------------------------------------------------


def bulk_seed(
    users: int,
    events_per_user: int,
    start=None,
    days: int = 28,
    *,
    mailboxes: int | None = None,
    seed: int = 0,
) -> dict:
    """A seed for a large tenant, generated procedurally when loaded.

    ``users`` directory users; the first ``mailboxes`` of them (default: all)
    get ``events_per_user`` single events each, spread over ``days`` days from
    ``start`` (date/datetime/ISO string; default: this week's Monday, UTC).
    Loading 10,000 users and 1,000 mailboxes x 50 events takes about a second.
    """
    begin = _as_datetime(start)
    return {
        "bulk": {
            "users": users,
            "eventsPerUser": events_per_user,
            "mailboxes": mailboxes,
            "start": begin.isoformat(),
            "days": days,
            "seed": seed,
        }
    }


_FIRST = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Eva",
    "Felix",
    "Greta",
    "Hannes",
    "Ida",
    "Jakob",
    "Katrin",
    "Leon",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
]
_LAST = [
    "Adler",
    "Bauer",
    "Conrad",
    "Dietrich",
    "Engel",
    "Fischer",
    "Graf",
    "Hahn",
    "Ilg",
    "Jung",
    "Keller",
    "Lang",
    "Maier",
    "Neumann",
    "Otto",
    "Peters",
]
_DEPARTMENTS = ["Sales", "Engineering", "Service", "Finance", "Operations", "Consulting"]
_SUBJECTS = [
    "Customer call",
    "Project review",
    "1:1",
    "Planning",
    "Workshop",
    "Site visit",
    "Focus time",
    "Lunch break",
]
_SHOW_AS = ["busy", "busy", "busy", "tentative", "oof", "free", "workingElsewhere"]


def _apply_bulk(
    state: TenantState,
    *,
    count: int,
    per_user: int,
    start: datetime,
    days: int,
    mailboxes,
    seed: int,
) -> None:
    """Fast path: builds users and events directly, without per-item payload parsing."""
    rng = random.Random(seed)
    domain = state.tenant_domain
    mailbox_count = count if mailboxes is None else min(int(mailboxes), count)
    offset = len(state.user_records())
    utc_zone = zone("UTC")
    for index in range(count):
        first, last = _FIRST[index % len(_FIRST)], _LAST[(index // len(_FIRST)) % len(_LAST)]
        number = offset + index
        user = state.add_user(
            f"{first} {last} {number:05d}",
            upn=f"{first.lower()}.{last.lower()}.{number:05d}@{domain}",
            given_name=first,
            surname=last,
            job_title="Consultant",
            department=_DEPARTMENTS[index % len(_DEPARTMENTS)],
            business_phones=[f"+49 30 {1000000 + number}"],
            has_mailbox=index < mailbox_count,
        )
        if index >= mailbox_count or per_user <= 0:
            continue
        box = state.mailboxes[user["id"]]
        organizer = {"emailAddress": {"name": user["displayName"], "address": user["mail"]}}
        for _ in range(per_user):
            day = rng.randrange(days)
            begin = start + timedelta(
                days=day,
                hours=rng.choice((8, 9, 10, 11, 13, 14, 15, 16)),
                minutes=rng.choice((0, 30)),
            )
            seq = state.next_seq()
            event = StoredEvent(
                state.new_event_id(), state.new_ical_uid(), state.new_change_key(), state.now(), seq
            )
            event.start = begin.astimezone(utc_zone)
            event.end = event.start + timedelta(minutes=rng.choice((30, 45, 60, 90)))
            subject = rng.choice(_SUBJECTS)
            event.props = {
                "subject": subject,
                "showAs": rng.choice(_SHOW_AS),
                "organizer": organizer,
            }
            if subject in ("Focus time", "Lunch break"):
                event.props["categories"] = [subject]
            box.add(event)
