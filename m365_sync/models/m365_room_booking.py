"""Bookings of rooms: Odoo appointments that book a room, and the room calendars' blocks.

Why this file exists: a room's time is taken either by an Odoo appointment that
books it (``origin`` *odoo*, one row per appointment and room) or by a meeting
made in Outlook that the room calendar holds (``origin`` *outlook*, a busy block
read by the room job). One model for both gives the rooms-by-time view one source,
and lets the room poll recognise the appointments Odoo booked (same ``iCalUId``,
or the same event id) so that nothing is shown twice.

How an appointment books a room (the way Outlook does):

* **the organiser's account** (``via`` *organiser*): the organiser's main account
  uploads (Up, Up and Down); the room is an attendee of type ``resource`` of the
  organiser's event (``calendar.event._m365_appointment``), the room's booking
  assistant answers, and the answer — the room attendee's ``status.response`` —
  comes back with the push or, later, from the room job (``$batch`` of the
  organisers' events, ``$select=attendees``);
* **the room calendar itself** (``via`` *room*): the organiser has no connected
  account; the booking is written into the room's calendar with the tenant's
  application permission ``Calendars.ReadWrite``, through the outbox (this model
  is a record of the outbox: ``m365.push.mixin``). No booking assistant sees such a
  write, so Odoo applies its rule first: a booking that overlaps another one of
  the room (known from the poll and from Odoo) is declined unless the room allows
  double bookings (Exchange's ``AllowConflicts``).

Moves, edits and cancellations follow (a move asks the room again: the answer is
reset to *waiting*); removing the room or deleting the appointment releases it.
Everything goes through the outbox: when Graph is down nothing is lost.
"""

from datetime import timedelta

from odoo import api, fields, models

from m365_graph import Appointment, build_payload
from m365_graph.sync.rooms import conflicts, room_answer

ANSWERS = [
    ("none", "Waiting for the room"),
    ("notResponded", "Not answered"),
    ("tentativelyAccepted", "Tentative"),
    ("accepted", "Accepted"),
    ("declined", "Declined"),
    ("organizer", "Organiser"),
]
VIA = [
    ("organiser", "The organiser's account (room invited)"),
    ("room", "Written into the room calendar"),
    ("none", "Not sent"),
]


class M365RoomBooking(models.Model):
    _name = "m365.room.booking"
    _description = "Microsoft 365 room booking"
    _inherit = ["m365.push.mixin"]
    _order = "start, id"

    room_id = fields.Many2one("m365.room", required=True, index=True, ondelete="cascade")
    tenant_id = fields.Many2one(related="room_id.tenant_id", store=True)
    company_id = fields.Many2one(related="room_id.company_id", store=True, index=True)
    origin = fields.Selection(
        [("odoo", "Odoo appointment"), ("outlook", "Room calendar")],
        required=True,
        default="outlook",
        readonly=True,
    )
    via = fields.Selection(VIA, readonly=True)
    calendar_event_id = fields.Many2one(
        "calendar.event", string="Appointment", index=True, ondelete="set null", readonly=True
    )
    start = fields.Datetime(required=True, readonly=True)
    stop = fields.Datetime(required=True, readonly=True)
    allday = fields.Boolean(string="All day", readonly=True)
    duration = fields.Float(string="Hours", compute="_compute_duration", store=True)
    show_as = fields.Char(default="busy", readonly=True)
    subject = fields.Char(readonly=True, help="Shown only when the room shows titles.")
    organizer_name = fields.Char(string="Organiser", readonly=True)
    organizer_email = fields.Char(string="Organiser's e-mail", readonly=True)
    graph_event_id = fields.Char(string="Event in the room calendar", readonly=True, index=True)
    ical_uid = fields.Char(string="iCalUId", readonly=True, index=True)
    response = fields.Selection(ANSWERS, string="Room's answer", default="none", readonly=True)
    response_note = fields.Char(string="Note", readonly=True)

    @api.depends("start", "stop")
    def _compute_duration(self):
        for booking in self:
            if booking.start and booking.stop:
                booking.duration = (booking.stop - booking.start).total_seconds() / 3600.0
            else:
                booking.duration = 0.0

    @api.depends("subject", "organizer_name", "room_id", "response")
    def _compute_display_name(self):
        for booking in self:
            title = booking.subject or booking.organizer_name or self.env._("Booked")
            if booking.response == "declined":
                title = self.env._("%(title)s (declined)", title=title)
            booking.display_name = title

    # ------------------------------------------------------------------
    # Appointments → bookings (called by calendar.event, same transaction)
    # ------------------------------------------------------------------
    @api.model
    def _m365_sync_events(self, events):
        """Make the Odoo bookings of ``events`` match their rooms, times and state."""
        Booking = self.sudo()
        events = events.sudo().with_context(active_test=False).exists()
        existing = Booking.search(
            [("calendar_event_id", "in", events.ids), ("origin", "=", "odoo")]
        )
        by_event = existing.grouped("calendar_event_id")
        accounts = self._m365_upload_accounts(events.user_id)
        to_queue = Booking
        for event in events:
            mine = by_event.get(event, Booking)
            wanted = event.m365_room_ids if event.active else event.m365_room_ids.browse()
            (mine.filtered(lambda b, wanted=wanted: b.room_id not in wanted)).unlink()
            account = accounts.get(event.user_id.id)
            via = "organiser" if account else "room"
            values = {
                "start": event.start,
                "stop": event.stop or event.start,
                "allday": event.allday,
                "show_as": "free" if event.show_as == "free" else "busy",
                "organizer_name": event.user_id.name or False,
                "organizer_email": (account.email if account else event.user_id.email) or False,
            }
            for room in wanted:
                # The rooms view is open to every employee: a title only when the room
                # shows titles, never for a private appointment.
                values["subject"] = (
                    event.name if room.show_titles and event.privacy != "private" else False
                )
                booking = mine.filtered(lambda b, room=room: b.room_id == room)[:1]
                if booking:
                    moved = (booking.start, booking.stop) != (values["start"], values["stop"])
                    changes = {k: v for k, v in values.items() if booking[k] != v}
                    if moved or booking.via != via:
                        changes.update(response="none", response_note=False, via=via)
                    if changes:
                        booking.write(changes)
                    # Written into the room calendar: the appointment's change (its
                    # title, or a declined booking asked again) is queued; a body the
                    # room calendar already has is dropped by the outbox.
                    to_queue |= booking
                else:
                    to_queue |= Booking.create(
                        {
                            **values,
                            "room_id": room.id,
                            "origin": "odoo",
                            "via": via,
                            "calendar_event_id": event.id,
                        }
                    )
        to_queue.filtered(lambda b: b.via == "room")._m365_queue_room_writes()

    def _m365_tenant_writes(self):
        """The tenant may write into room calendars (rooms on, not known to lack it)."""
        tenant = self.room_id.tenant_id[:1].sudo()
        if not (tenant and tenant.active and tenant.room_sync and tenant.is_configured):
            return False
        if tenant.connection_state in ("ok", "missing"):
            roles = {role.strip() for role in (tenant.granted_roles or "").split(",")}
            return "Calendars.ReadWrite" in roles
        return True

    def _m365_queue_room_writes(self):
        """Queue the writes into the room calendars (organisers without an account)."""
        entries = []
        Link = self.env["m365.event.link"]
        for booking in self:
            link = Link._m365_links_of(booking)[:1]
            if not booking._m365_tenant_writes():
                booking.write(
                    {
                        "via": "none",
                        "response": "none",
                        "response_note": self.env._(
                            "Not sent: the organiser has no connected Microsoft 365 account "
                            "(Up or Up and Down) and the tenant cannot write into room "
                            "calendars (Rooms off, or Calendars.ReadWrite not granted)."
                        ),
                    }
                )
                continue
            # Asked again only when new, moved or declined: a booking the room calendar
            # holds keeps its place (first come, first served), as Exchange does.
            if (
                booking.response != "accepted"
                and not booking.room_id.allow_conflicts
                and booking._m365_conflicting()
            ):
                other = booking._m365_conflicting()[:1]
                booking.write(
                    {
                        "response": "declined",
                        "response_note": self.env._(
                            "Declined: the room is booked then (%(who)s).",
                            who=other.organizer_name or other.subject or other.room_id.name,
                        ),
                    }
                )
                if link:
                    entries.append(booking._m365_room_entry("delete", link))
                continue
            built = build_payload(booking._m365_appointment())
            entries.append(booking._m365_room_entry("update" if link else "create", link, built))
        self.env["m365.outbox"]._m365_enqueue(entries)

    def _m365_conflicting(self):
        """Other bookings of the room overlapping this one (not declined, not free)."""
        self.ensure_one()
        others = self.search(
            [
                ("room_id", "=", self.room_id.id),
                ("id", "!=", self.id),
                ("response", "!=", "declined"),
                ("start", "<", self.stop),
                ("stop", ">", self.start),
                "|",
                ("calendar_event_id", "=", False),
                ("calendar_event_id", "!=", self.calendar_event_id.id),
            ]
        )
        mine = {self.graph_event_id} - {False}
        return others.filtered(
            lambda other: (
                other.graph_event_id not in mine
                and conflicts(self.start, self.stop, [(other.start, other.stop, other.show_as)])
            )
        )

    def _m365_appointment(self):
        self.ensure_one()
        event = self.calendar_event_id
        return Appointment(
            subject=event.name or self.subject or self.env._("Booked"),
            start=event.start or self.start,
            stop=event.stop or self.stop,
            all_day=event.allday,
            start_date=event.start_date,
            stop_date=event.stop_date,
            time_zone=event.event_tz or event.user_id.tz or None,
            description=self.env._(
                "Booked in Odoo by %(who)s.", who=event.user_id.name or self.organizer_name or "?"
            ),
            location=self.room_id.name,
            show_as=self.show_as,
            private=event.privacy == "private",
            categories=("Odoo",),
        )

    def _m365_room_entry(self, operation, link, built=None):
        self.ensure_one()
        room = self.room_id
        entry = {
            "res_model": self._name,
            "res_id": self.id,
            "res_name": f"{room.name}: {self.calendar_event_id.name or self.subject or ''}",
            "operation": operation,
            "writer": "application",
            "account_id": False,
            "tenant_id": room.tenant_id.id,
            "company_id": room.company_id.id,
            "user_id": (self.calendar_event_id.user_id or self.env.user).id,
            "mailbox": room.email,
            "link": link,
            "transaction_id": self.env["m365.outbox"]._m365_transaction_id(
                self._name, self.id, f"room/{room.email}"
            ),
        }
        if operation == "delete" and link:
            entry["graph_event_id"] = link.graph_event_id
        if built is not None:
            entry.update(
                payload=built.payload,
                payload_hash=built.hash,
                notes="\n".join(built.warnings) or False,
            )
        return entry

    def unlink(self):
        entries = []
        Link = self.env["m365.event.link"].sudo()
        for booking in self.sudo():
            if booking.via == "room":
                link = Link._m365_links_of(booking)[:1]
                if link:
                    entries.append(booking._m365_room_entry("delete", link))
        result = super().unlink()
        self.env["m365.outbox"]._m365_enqueue(entries)
        return result

    # ------------------------------------------------------------------
    # The room's answer
    # ------------------------------------------------------------------
    def _m365_take_answer(self, event_body):
        """Read the room's answer from the organiser's event (a Graph body)."""
        for booking in self:
            answer = room_answer(event_body or {}, booking.room_id.email)
            if answer is None:
                continue
            values = {"response": answer.response}
            if answer.response == "declined":
                values["response_note"] = self.env._(
                    "Declined by the room (it is booked then, or the booking is outside the "
                    "room's booking window)."
                )
            elif answer.response != "none":
                values["response_note"] = False
            uid = event_body.get("iCalUId") if isinstance(event_body, dict) else None
            if uid and not booking.ical_uid:
                values["ical_uid"] = uid
            changes = {k: v for k, v in values.items() if booking[k] != v}
            if changes:
                booking.write(changes)

    # ------------------------------------------------------------------
    # Hooks of the outbox drain (writes into the room calendar)
    # ------------------------------------------------------------------
    def _m365_link_user(self, item):
        return self.calendar_event_id.user_id or super()._m365_link_user(item)

    def _m365_after_push(self, link, event, created):
        values = {"response": "accepted", "response_note": False, "graph_event_id": event.id}
        if event.ical_uid:
            values["ical_uid"] = event.ical_uid
        self.write(values)

    def _m365_push_failed(self, items):
        for booking in self:
            item = items.filtered(lambda i, booking=booking: i.res_id == booking.id)[-1:]
            if item and item.operation != "delete":
                booking.write(
                    {
                        "response": "none",
                        "response_note": self.env._(
                            "Not booked: %(error)s", error=item.last_error or ""
                        ),
                    }
                )

    # ------------------------------------------------------------------
    # The room calendar → blocks (called by the room job)
    # ------------------------------------------------------------------
    @api.model
    def _m365_apply_blocks(self, room, blocks, low, high, counts):
        """Make the room's blocks in ``[low, high)`` those just read (a complete read).

        Blocks that are appointments Odoo booked (same iCalUId, or the event Odoo
        wrote) update those bookings instead of being added; blocks no longer in the
        calendar are removed; nothing is written when nothing changed.
        """
        Booking = self.sudo()
        window = [
            ("room_id", "=", room.id),
            ("start", "<", high.replace(tzinfo=None)),
            ("stop", ">", low.replace(tzinfo=None)),
        ]
        current = Booking.search(window)
        ours = Booking.search([("room_id", "=", room.id), ("origin", "=", "odoo")])
        by_uid = {b.ical_uid: b for b in ours if b.ical_uid}
        by_event = {b.graph_event_id: b for b in ours if b.graph_event_id}
        outlook = {b.graph_event_id: b for b in current if b.origin == "outlook"}
        seen = set()
        to_create = []
        for block in blocks:
            values = block.values(titles=room.show_titles)
            own = by_event.get(block.event_id) or (
                by_uid.get(block.ical_uid) if block.ical_uid else None
            )
            if own:
                changes = {}
                if own.via == "organiser" and own.graph_event_id != block.event_id:
                    changes["graph_event_id"] = block.event_id
                if own.response in ("none", "notResponded") and own.via == "organiser":
                    changes["response"] = "accepted"
                    changes["response_note"] = False
                if changes:
                    own.write(changes)
                    counts["updated"] += 1
                continue
            seen.add(block.event_id)
            existing = outlook.get(block.event_id)
            if existing:
                changes = {k: v for k, v in values.items() if existing[k] != v}
                if changes:
                    existing.write(changes)
                    counts["updated"] += 1
            else:
                to_create.append({**values, "room_id": room.id, "origin": "outlook"})
        if to_create:
            Booking.create(to_create)
            counts["created"] += len(to_create)
        gone = current.filtered(lambda b: b.origin == "outlook" and b.graph_event_id not in seen)
        if gone:
            counts["deleted"] += len(gone)
            gone.unlink()

    @api.model
    def _m365_waiting_answers(self, rooms, low):
        """Bookings through the organiser still waiting for the room's answer, with the
        organiser event to read: ``{booking: (mailbox, event id)}``."""
        waiting = self.sudo().search(
            [
                ("room_id", "in", rooms.ids),
                ("origin", "=", "odoo"),
                ("via", "=", "organiser"),
                ("response", "in", ("none", "notResponded", "tentativelyAccepted")),
                ("stop", ">", (low - timedelta(days=1)).replace(tzinfo=None)),
            ]
        )
        out = {}
        Link = self.env["m365.event.link"].sudo()
        for booking in waiting:
            event = booking.calendar_event_id
            link = Link.search(
                [("calendar_event_id", "=", event.id), ("origin", "=", "odoo")], limit=1
            )
            if link and link.mailbox:
                out[booking] = (link.mailbox, link.graph_event_id)
        return out
