"""The room job (``m365.job``): the tenant's rooms, their calendars and their answers.

Two kinds of unit, both under the tenant's room lock (so they never write the same
room's blocks at once):

* ``{"tenant": id}`` — the cron's unit (every 5 minutes, each tenant at its own
  interval, Settings): reads the room list (``/places/microsoft.graph.room``, at
  most every :data:`LISTING_INTERVAL`) and applies it (``m365_graph.sync.rooms.
  plan_rooms``: created, renamed, re-keyed, missing, archived after the grace);
  then polls the calendars of every mapped room (``$batch``, 20 rooms per round
  trip) into ``m365.room.booking`` blocks, and reads the answers of the rooms
  still waiting on the organisers' events.
* ``{"room": id}`` — one room's calendar and answers. The *Read now* button runs it,
  and so do change notifications: each mapped room's calendar has its
  subscription (``m365.subscription`` of kind *room*, kept by
  ``m365.job.subscription``); a notification marks the room ``sync_requested``
  and dispatches this unit for that one room (inline or as a queue job). A unit
  that could not run then (the tenant unit held the lock) is listed by this cron
  while the request stands. While every room subscription of the tenant is
  active, the tenant unit polls at the safety-net interval
  (``tenant._m365_poll_minutes``: Settings' "safety poll") instead of the room
  interval.

A room whose mailbox refuses the app (403 ``ErrorAccessDenied``: an application
access policy, or the permission missing) or no longer exists (404) keeps its
blocks and shows the error in plain words; the other rooms go on. Reading again
with no change in Outlook writes nothing.
"""

import logging
from collections import Counter
from datetime import datetime, time, timedelta, timezone

from odoo import api, fields, models

from m365_graph import GraphError
from m365_graph.resources.places import list_rooms, read_room_answers, read_room_calendars
from m365_graph.sync.rooms import ROOM_VALUE_FIELDS, Known, plan_rooms

_logger = logging.getLogger(__name__)

#: First key of the room job's advisory lock (the second: the tenant id).
LOCK_CLASS = 365_010
#: The room list is read at most this often (Places itself lags by up to 48 hours).
LISTING_INTERVAL = timedelta(hours=6)
#: The room job's circuit breaker.
ROOM_BUDGET = {"max_wait": 60.0, "max_failures": 6}
UTC = timezone.utc


class M365JobRooms(models.AbstractModel):
    _name = "m365.job.rooms"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: rooms"

    _m365_job_kind = "rooms"
    _m365_lock_class = LOCK_CLASS
    _m365_budget = ROOM_BUDGET

    # ------------------------------------------------------------------
    # Units
    # ------------------------------------------------------------------
    @api.model
    def _m365_units(self, due_only=True):
        tenants = self.env["m365.tenant"].sudo().search([("room_sync", "=", True)])
        tenants = tenants.filtered("is_configured")
        units = [{"tenant": tenant.id} for tenant in tenants]
        requested = (
            self.env["m365.room"]
            .sudo()
            .search(
                [
                    ("tenant_id", "in", tenants.ids),
                    ("sync_requested", "=", True),
                    ("mapped", "=", True),
                ]
            )
        )
        units += [{"room": room.id} for room in requested]
        if due_only:
            units = [unit for unit in units if self._m365_unit_due(unit)]
        return units

    @api.model
    def _m365_unit_identity(self, unit):
        if "room" in unit:
            return f"rooms:room:{unit['room']}"
        return f"rooms:tenant:{unit['tenant']}"

    @api.model
    def _m365_tenant_of(self, unit):
        if "room" in unit:
            return self.env["m365.room"].sudo().browse(unit["room"]).exists().tenant_id
        return self.env["m365.tenant"].sudo().browse(unit["tenant"]).exists()

    @api.model
    def _m365_lock_key(self, unit):
        return LOCK_CLASS, self._m365_tenant_of(unit).id or 0

    @api.model
    def _m365_unit_scope(self, unit):
        return {"tenant": self._m365_tenant_of(unit)}

    @api.model
    def _m365_unit_active(self, unit):
        tenant = self._m365_tenant_of(unit)
        if not (tenant and tenant.active and tenant.room_sync):
            return False
        if "room" in unit:
            room = self.env["m365.room"].sudo().browse(unit["room"])
            return bool(room.active and room.mapped)
        return True

    @api.model
    def _m365_unit_due(self, unit):
        tenant = self._m365_tenant_of(unit)
        if "room" in unit and self.env["m365.room"].sudo().browse(unit["room"]).sync_requested:
            return True
        last = self._m365_last_run(unit)
        minutes = max(5, tenant.room_interval_minutes or 15)
        if "tenant" in unit:
            # Notified rooms: the poll is only the safety net.
            minutes = tenant._m365_poll_minutes(minutes, "room")
        interval = timedelta(minutes=minutes)
        return not last or last.start + interval <= fields.Datetime.now()

    # ------------------------------------------------------------------
    # The work
    # ------------------------------------------------------------------
    @api.model
    def _m365_do_unit(self, unit, run):
        tenant = self._m365_tenant_of(unit)
        Room = self.env["m365.room"].sudo().with_context(active_test=False)
        client = tenant._m365_graph_client()
        client.budget = self._m365_new_budget()
        counts = Counter()
        problems = []
        with client as graph:
            if "room" in unit:
                rooms = Room.browse(unit["room"])
                # Asked by a notification: answered by this read (a notification that
                # arrives meanwhile asks again once this transaction is committed).
                if rooms.sync_requested:
                    rooms.sync_requested = False
            else:
                if self._m365_listing_due(tenant):
                    try:
                        self._m365_import_rooms(tenant, graph, run, counts)
                    except GraphError as exc:
                        problems.append(self.env._("Room list: %(error)s", error=exc))
                rooms = Room.search(
                    [("tenant_id", "=", tenant.id), ("active", "=", True), ("mapped", "=", True)]
                )
            self._m365_poll(tenant, rooms, graph, run=run, counts=counts, problems=problems)
        run._m365_add_stats(client.counters.snapshot())
        run._m365_count(**{k: counts[k] for k in ("created", "updated", "deleted")})
        summary = self.env._(
            "%(rooms)s room(s) read: %(created)s booking(s) added, %(updated)s updated, "
            "%(deleted)s removed.",
            rooms=counts["rooms"],
            created=counts["created"],
            updated=counts["updated"],
            deleted=counts["deleted"],
        )
        if problems:
            run._m365_fail("\n".join([summary, *problems]))
        else:
            run._m365_done(summary)

    @api.model
    def _m365_listing_due(self, tenant):
        return not tenant.room_listed_at or (
            tenant.room_listed_at + LISTING_INTERVAL <= fields.Datetime.now()
        )

    @api.model
    def _m365_import_rooms(self, tenant, graph, run, counts):
        """Apply one complete room listing (created, changed, missing, archived)."""
        listing = list_rooms(graph)
        for skipped in listing.skipped:
            run._m365_count(skipped_reason=self.env._("Room skipped: %(why)s", why=skipped.reason))
        Room = self.env["m365.room"].sudo().with_context(active_test=False)
        rooms = Room.search([("tenant_id", "=", tenant.id)])
        known = [
            Known(
                room.id,
                room.email,
                room.graph_id or None,
                {name: room[name] for name in ROOM_VALUE_FIELDS},
                missing_since=room.missing_since.replace(tzinfo=UTC)
                if room.missing_since
                else None,
                active=room.active,
            )
            for room in rooms
        ]
        now = datetime.now(UTC)
        plan = plan_rooms(listing.rooms, known, now)
        if plan.create:
            Room.create(
                [
                    {
                        **room.values(),
                        "tenant_id": tenant.id,
                        "show_titles": tenant.room_show_titles,
                    }
                    for room in plan.create
                ]
            )
            counts["rooms_created"] += len(plan.create)
        for room_id, changes in plan.update:
            Room.browse(room_id).write({**changes, "missing_since": False})
        Room.browse(plan.seen).write({"missing_since": False})
        Room.browse(plan.missing).write({"missing_since": fields.Datetime.now()})
        Room.browse(plan.archive).write({"active": False})
        for email in plan.duplicates:
            run._m365_count(skipped_reason=self.env._("Room listed twice: %(email)s", email=email))
        tenant.room_listed_at = fields.Datetime.now()

    @api.model
    def _m365_window(self, tenant):
        today = datetime.now(UTC).date()
        low = datetime.combine(today - timedelta(days=1), time.min, tzinfo=UTC)
        high = datetime.combine(
            today + timedelta(days=max(1, tenant.room_days_ahead or 60)), time.min, tzinfo=UTC
        )
        return low, high

    @api.model
    def _m365_poll(self, tenant, rooms, graph, *, run, counts, problems):
        """Read the rooms' calendars into blocks, then the answers still awaited."""
        rooms = rooms.filtered(lambda room: room.active and room.mapped)
        if not rooms:
            return
        low, high = self._m365_window(tenant)
        Booking = self.env["m365.room.booking"].sudo()
        by_email = {room.email: room for room in rooms}
        calendars = read_room_calendars(graph, list(by_email), low, high)
        now = fields.Datetime.now()
        for email, calendar in calendars.items():
            room = by_email[email]
            counts["rooms"] += 1
            for skipped in calendar.skipped:
                run._m365_count(
                    skipped_reason=self.env._(
                        "%(room)s: a booking was skipped (%(why)s)",
                        room=room.name,
                        why=skipped.reason,
                    )
                )
            if not calendar.ok:
                message = self.env._(
                    "The calendar of %(room)s could not be read: %(error)s Its bookings are "
                    "kept as last read.",
                    room=room.name,
                    error=calendar.error,
                )
                if room.last_error != message:
                    room.last_error = message
                problems.append(message)
                continue
            with self.env.cr.savepoint():
                Booking._m365_apply_blocks(room, calendar.slots, low, high, counts)
            room.write({"last_sync": now, "last_error": False, "sync_requested": False})
        waiting = Booking._m365_waiting_answers(rooms, low)
        if not waiting:
            return
        try:
            answers = read_room_answers(graph, waiting.values())
        except GraphError as exc:
            problems.append(self.env._("Room answers: %(error)s", error=exc))
            return
        for booking, key in waiting.items():
            body = answers.get(key)
            if isinstance(body, dict):
                booking._m365_take_answer(body)
            elif body is not None:
                run._m365_count(
                    skipped_reason=self.env._(
                        "%(room)s: the answer could not be read (%(error)s)",
                        room=booking.room_id.name,
                        error=body,
                    )
                )
