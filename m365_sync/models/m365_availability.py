"""Colleagues' Outlook free/busy while scheduling, for the appointment form and the
activity schedule dialog.

Why this file exists: both views show the chosen people's availability for the day
of the proposed time, highlight a conflict and suggest the next free slot. This
service model (no table) does the Odoo half: who is asked (their e-mail
addresses), the getSchedule call through the tenant's application permission
(``m365_graph.resources.schedule``: chunks of 20, one ``$batch``), a short cache,
the organiser's working hours (their resource calendar) and the Odoo appointments
of the same people, then ``m365_graph.sync.availability`` for conflicts and the
slot. The answer is plain JSON for the ``m365_availability`` field widget.

Privacy: a title is shown only for the viewer's own calendar and never for a
private item; everyone else's items are times and a status. The application
permission is the busy-time one (``Calendars.ReadBasic.All``), so availability
works where the tenant's *Calendar busy time* feature is on.

Cache: each person's schedule for a window is kept :data:`CACHE_SECONDS` in the
worker's memory (keyed by database, tenant, address and window), so moving the
proposed time or adding a person asks Graph only for what is new.
"""

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo import api, models
from odoo.exceptions import UserError, ValidationError

from m365_graph import GraphError
from m365_graph.resources.schedule import get_schedules
from m365_graph.sync.availability import (
    busy_intervals,
    conflicts,
    next_free_slot,
    visible_items,
)

_logger = logging.getLogger(__name__)

CACHE_SECONDS = 180
#: How far ahead the next free slot is looked for (one getSchedule window).
SEARCH_DAYS = 7
_CACHE = {}
_CACHE_LOCK = threading.Lock()


def _iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(moment):
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


class M365Availability(models.AbstractModel):
    _name = "m365.availability"
    _description = "Microsoft 365 availability while scheduling"

    @api.model
    def _m365_zone(self, user):
        try:
            return ZoneInfo(user.tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return timezone.utc

    @api.model
    def _m365_schedules(self, tenant, asker, addresses, start, end):
        """``{address: PersonSchedule}``, from the cache or one getSchedule round.

        ``asker``: the mailbox whose calendar asks (the organiser's address); with the
        application permission any mailbox of the tenant may ask for anyone.
        """
        key_base = (self.env.cr.dbname, tenant.id, _iso(start), _iso(end))
        now = time.monotonic()
        out, missing = {}, []
        with _CACHE_LOCK:
            for address in addresses:
                hit = _CACHE.get((*key_base, address.lower()))
                if hit and now - hit[0] < CACHE_SECONDS:
                    out[address] = hit[1]
                else:
                    missing.append(address)
        if missing:
            client = tenant._m365_graph_client()
            try:
                answers = get_schedules(client, asker, missing, start, end)
            finally:
                client.close()
            with _CACHE_LOCK:
                for address, person in answers.items():
                    # Graph's own per-person answers (an error for someone outside the
                    # tenant too) are kept; a failed call is asked again next time.
                    if person.ok or person.error_code:
                        _CACHE[(*key_base, address.lower())] = (now, person)
                if len(_CACHE) > 5000:
                    for key in [k for k, v in _CACHE.items() if now - v[0] >= CACHE_SECONDS]:
                        _CACHE.pop(key, None)
            out.update(answers)
        return out

    @api.model
    def _m365_odoo_busy(self, partners, start, end, exclude):
        """Odoo appointments of these people in the window (busy ones), aware UTC."""
        events = (
            self.env["calendar.event"]
            .sudo()
            .search(
                [
                    ("partner_ids", "in", partners.ids),
                    ("show_as", "=", "busy"),
                    ("start", "<", end.replace(tzinfo=None)),
                    ("stop", ">", start.replace(tzinfo=None)),
                    ("id", "not in", exclude.ids),
                ]
            )
        )
        # An appointment pulled from Outlook is already in getSchedule's answer.
        return [(_aware(e.start), _aware(e.stop)) for e in events if not e.m365_link_ids]

    @api.model
    def _m365_working(self, user, start, end):
        calendar = user.sudo().resource_calendar_id or user.sudo().company_id.resource_calendar_id
        if not calendar:
            return [(start, end)]
        intervals = calendar._work_intervals_batch(start, end)[False]
        return [(_aware(s), _aware(e)) for s, e, _meta in intervals]

    @api.model
    def _m365_view(self, partners, proposed_start, proposed_stop, organizer, exclude=None):
        """The widget's JSON for ``partners`` around the proposed time (naive UTC)."""
        exclude = exclude or self.env["calendar.event"]
        organizer = organizer or self.env.user
        people = partners.filtered("email")
        if not proposed_start or not people:
            return {"people": [], "message": False}
        tenant = organizer.sudo().company_id.m365_tenant_id
        if not tenant or not tenant.active or not tenant.busy_sync:
            return {
                "people": [],
                "message": self.env._(
                    "Outlook availability needs Microsoft 365 busy time (Settings → Microsoft 365)."
                ),
            }
        zone = self._m365_zone(organizer)
        begin = _aware(proposed_start)
        finish = _aware(proposed_stop) if proposed_stop else begin + timedelta(hours=1)
        finish = max(finish, begin + timedelta(minutes=5))
        local_day = begin.astimezone(zone).date()
        day_start = datetime.combine(local_day, datetime.min.time(), tzinfo=zone).astimezone(
            timezone.utc
        )
        window_end = day_start + timedelta(days=SEARCH_DAYS)
        addresses = list(dict.fromkeys(p.email.strip() for p in people))
        try:
            schedules = self._m365_schedules(
                tenant.sudo(), organizer.email or organizer.login, addresses, day_start, window_end
            )
        except (GraphError, UserError, ValidationError) as exc:
            # Graph unreachable, sign-in refused, tenant not configured: say so, never
            # break the form.
            return {"people": [], "message": str(exc.args[0] if exc.args else exc)}
        tentative = organizer._m365_tentative_busy()
        busy = {}
        rows = []
        own = self.env.user.partner_id
        by_address = {p.email.strip().lower(): p for p in people}
        for address in addresses:
            person = schedules.get(address)
            partner = by_address[address.lower()]
            row = {"name": partner.display_name, "email": address, "busy": [], "error": False}
            if person is None or not person.ok:
                row["error"] = person.error if person else self.env._("No answer")
                rows.append(row)
                continue
            busy[address] = busy_intervals(person.items, tentative_busy=tentative)
            day_items = [
                item
                for item in visible_items(person, may_see_titles=partner == own)
                if item["start"] < _iso(day_start + timedelta(days=1))
                and item["end"] > _iso(day_start)
                and item["status"] not in ("free", "workingElsewhere")
            ]
            row["busy"] = day_items
            rows.append(row)
        clash = conflicts(busy, begin, finish)
        for row in rows:
            row["conflict"] = row["email"] in clash
        everyone = [iv for ivs in busy.values() for iv in ivs]
        everyone += self._m365_odoo_busy(people, day_start, window_end, exclude)
        working = self._m365_working(organizer, day_start, window_end)
        slot = next_free_slot(everyone, working, finish - begin, begin)
        suggestion = False
        if slot and (clash or slot[0] != begin):
            suggestion = {"start": _iso(slot[0]), "end": _iso(slot[1])}
        return {
            "day_start": _iso(day_start),
            "day_end": _iso(day_start + timedelta(days=1)),
            "proposed": {"start": _iso(begin), "end": _iso(finish)},
            "people": rows,
            "conflict": bool(clash),
            "suggestion": suggestion,
            "tz": str(zone),
            "message": False,
        }
