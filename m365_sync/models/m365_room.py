"""The tenant's rooms, imported from Microsoft 365 (``/places/microsoft.graph.room``).

Why this file exists, and why a model of its own rather than ``resource.resource``
of type *material*: a room here is a **room mailbox** — an e-mail address that is
invited to meetings, answers them (accept/decline) and keeps a calendar — with
Places data (capacity, building, floor, wheelchair access, bookable). A material
``resource.resource`` is a planning resource: it carries a working-time calendar
and a time efficiency, shows up in Odoo's resource planning and workload views,
and has no mailbox, answer or booking. Making rooms resources would give every
room a fake working calendar and put it into workload (``m365.workload.day`` is
computed per resource), and ``calendar.event`` books partners, not resources. So
a room is an ``m365.room``: what Microsoft 365 says about it (written by the room
job only), plus what the administrator decides in Odoo — whether the room is
*mapped* (offered on appointments and its calendar polled) and whether its
bookings show their titles.

Rooms are matched to Graph by e-mail address first (Graph's room id "isn't
immutable"), then id; a room missing from the listing is marked missing and
archived only after a grace period, since Places lags behind Exchange by up to
48 hours (``m365_graph.sync.rooms``).
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

#: Fields written by the room import only (Microsoft 365 is their source).
GRAPH_FIELDS = frozenset(
    {"graph_id", "email", "capacity", "building", "floor", "wheelchair", "bookable"}
)


class M365Room(models.Model):
    _name = "m365.room"
    _description = "Microsoft 365 room"
    _order = "building, floor, name"

    name = fields.Char(required=True)
    email = fields.Char(string="Room mailbox", required=True, readonly=True, index=True)
    graph_id = fields.Char(string="Graph room id", readonly=True)
    tenant_id = fields.Many2one("m365.tenant", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="tenant_id.company_id", store=True, index=True)
    capacity = fields.Integer(readonly=True)
    building = fields.Char(readonly=True)
    floor = fields.Char(readonly=True)
    wheelchair = fields.Boolean(string="Wheelchair accessible", readonly=True)
    bookable = fields.Boolean(
        readonly=True,
        default=True,
        help="Microsoft 365 says the room can be booked (booking type 'standard'); a "
        "'reserved' room is first come, first served and is not offered on appointments.",
    )
    active = fields.Boolean(default=True)
    mapped = fields.Boolean(
        string="Use in Odoo",
        default=True,
        help="Offer the room on appointments and show its bookings. Unmapped rooms are "
        "kept but neither booked from Odoo nor read.",
    )
    show_titles = fields.Boolean(
        string="Show titles",
        help="Show the titles of the room's bookings in Odoo. Off: only the time and the "
        "organiser are shown. Exchange replaces the subject of room bookings with the "
        "organiser's name unless the room is set to keep subjects.",
    )
    allow_conflicts = fields.Boolean(
        string="Allow double bookings",
        help="When Odoo writes into the room calendar itself (the organiser has no "
        "connected account), accept a booking that overlaps another one, as Exchange's "
        "AllowConflicts does. Off: such a booking is declined.",
    )
    missing_since = fields.Datetime(
        readonly=True,
        help="The room was no longer listed by Microsoft 365 since then. It is archived "
        "after three days (new and changed rooms take up to 48 hours to show).",
    )
    last_sync = fields.Datetime(string="Calendar read", readonly=True)
    sync_requested = fields.Boolean(
        string="Calendar to read",
        readonly=True,
        copy=False,
        help="Microsoft 365 notified a change of the room calendar: the room job reads it.",
    )
    last_error = fields.Text(string="Calendar error", readonly=True)
    booking_ids = fields.One2many("m365.room.booking", "room_id", string="Bookings")
    booking_count = fields.Integer(compute="_compute_booking_count")

    _email_uniq = models.Constraint(
        "UNIQUE(tenant_id, email)", "A room mailbox is imported once per tenant."
    )

    @api.depends("name", "building", "floor", "capacity")
    def _compute_display_name(self):
        for room in self:
            where = ", ".join(p for p in (room.building, room.floor and f"floor {room.floor}") if p)
            label = room.name or room.email or ""
            if where:
                label = f"{label} ({where})"
            if room.capacity:
                label = self.env._("%(room)s · %(seats)s seats", room=label, seats=room.capacity)
            room.display_name = label

    def _compute_booking_count(self):
        counts = dict(
            self.env["m365.room.booking"]._read_group(
                [("room_id", "in", self.ids)], ["room_id"], ["__count"]
            )
        )
        for room in self:
            room.booking_count = counts.get(room, 0)

    def write(self, vals):
        if GRAPH_FIELDS.intersection(vals) and not self.env.su:
            raise UserError(
                self.env._(
                    "The mailbox, capacity, building, floor and booking type of a room come "
                    "from Microsoft 365: change them there (the next room import brings them)."
                )
            )
        result = super().write(vals)
        if vals.get("show_titles") is False:
            # Titles no longer allowed: those already read go at once.
            self.env["m365.room.booking"].sudo().search(
                [("room_id", "in", self.ids), ("origin", "=", "outlook"), ("subject", "!=", False)]
            ).write({"subject": False})
        if {"mapped", "active"} & set(vals) and self.env["m365.subscription"].sudo().search_count(
            [("room_id", "in", self.ids)], limit=1
        ):
            # The room's change-notification subscription goes (or comes) with it.
            self.env["m365.job.subscription"]._m365_trigger()
        if "mapped" in vals or "active" in vals:
            # An unmapped room is no longer shown: its polled blocks go; bookings made
            # from Odoo stay with their appointment.
            gone = self.filtered(lambda room: not (room.mapped and room.active))
            self.env["m365.room.booking"].sudo().search(
                [("room_id", "in", gone.ids), ("origin", "=", "outlook")]
            ).unlink()
        return result

    def action_map(self):
        self.write({"mapped": True})

    def action_unmap(self):
        self.write({"mapped": False})

    def action_open_bookings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("m365_sync.action_m365_room_booking")
        action["domain"] = [("room_id", "=", self.id)]
        action["context"] = {"default_room_id": self.id}
        return action

    def action_sync_now(self):
        """Button: read this room's calendar now (the room unit of the room job)."""
        self.ensure_one()
        job = self.env["m365.job.rooms"]
        run = job._m365_run_unit({"room": self.id}, due_only=False)
        if run is None:
            raise UserError(self.env._("The room is being read right now; try again shortly."))
        return True
