"""Appointments know their Microsoft 365 events, and their changes go to Outlook.

Personal sync links a ``calendar.event`` to one Graph event per connected account
that holds it; the links are shown on the appointment so that a user can tell an
appointment that came from Outlook.

Upload ("Up" and "Both"): creating, editing, archiving or deleting an
appointment queues an ``m365.outbox`` row in the same transaction, for the
organiser's *main* account when its direction is Up or Both:

* appointments created in Odoo, and appointments that came from that main
  account, are sent; an appointment that came from another of the user's accounts
  is not copied into the main one;
* the appointments of an Odoo recurrence are sent as one Outlook series (queued
  on the ``calendar.recurrence``, see ``calendar_recurrence.py``); an occurrence
  edited alone ("This event") becomes a changed occurrence of the series, and an
  occurrence deleted or archived alone is cancelled in Outlook;
* archiving deletes the Outlook event, like deleting; restoring sends it again;
* the personal pull's own writes (context ``m365_pull``) are never sent back;
* the organiser's privacy and upload rules (``m365_graph.sync.rules``: private
  appointments as private or not at all, an upload filter, "only from today on")
  decide what goes up; an appointment a rule newly excludes after it was sent is
  deleted from Outlook once;
* the *Teams meeting* switch asks Graph for a Teams meeting; its join link comes
  back into the videocall field. Switching it off is a PATCH that real tenants
  ignore (the drain then replaces the event, see ``m365_outbox``); a calendar that
  cannot hold Teams meetings gets no meeting and the appointment says why.
"""

from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.tools.misc import format_datetime

from m365_graph import Appointment, Attendee, build_payload, map_event
from m365_graph.core.errors import BadResponse
from m365_graph.sync.pull import PullPlan
from m365_graph.sync.rules import join_url, teams_refusal, upload_decision

from .m365_event_link import PULL_CONTEXT

#: Fields whose change can change what Outlook shows.
PUSH_FIELDS = frozenset(
    {
        "name",
        "start",
        "stop",
        "allday",
        "start_date",
        "stop_date",
        "duration",
        "description",
        "location",
        "show_as",
        "privacy",
        "categ_ids",
        "partner_ids",
        "attendee_ids",
        "event_tz",
        "user_id",
        "active",
        "recurrency",
        "recurrence_id",
        "follow_recurrence",
        "m365_teams",
        "m365_room_ids",
    }
)
#: Fields whose change changes the appointment's room bookings.
ROOM_FIELDS = frozenset(
    {"m365_room_ids", "start", "stop", "allday", "name", "active", "user_id", "show_as"}
)
#: Link types of an Odoo series' occurrences (as opposed to a stand-alone event).
OCCURRENCE_TYPES = ("occurrence", "exception")


#: Sorts links never synchronised first.
EPOCH = datetime(1970, 1, 1)


class CalendarEvent(models.Model):
    _name = "calendar.event"
    _inherit = ["calendar.event", "m365.push.mixin"]

    m365_link_ids = fields.One2many(
        "m365.event.link", "calendar_event_id", string="Microsoft 365 links", readonly=True
    )
    m365_from_outlook = fields.Boolean(
        string="From Outlook",
        compute="_compute_m365_from_outlook",
        help="This appointment was imported from a Microsoft 365 calendar.",
    )
    m365_room_ids = fields.Many2many(
        "m365.room",
        string="Rooms",
        domain="[('mapped', '=', True), ('bookable', '=', True)]",
        help="Microsoft 365 rooms booked by this appointment, as Outlook books them.",
    )
    m365_room_booking_ids = fields.One2many(
        "m365.room.booking", "calendar_event_id", string="Room bookings", readonly=True
    )
    m365_push_error = fields.Text(
        string="Not sent to Outlook",
        compute="_compute_m365_push_error",
        help="Why the last change of this appointment could not be sent to Outlook.",
    )

    m365_teams = fields.Boolean(
        string="Teams meeting",
        default=lambda self: self.env.user.m365_teams_default,
        help="When the appointment is sent to Outlook, Microsoft 365 creates a Teams "
        "meeting; its join link appears in the videocall field.",
    )
    m365_teams_pushed = fields.Boolean(readonly=True, copy=False)
    m365_availability = fields.Json(
        string="Outlook availability",
        compute="_compute_m365_availability",
        help="The attendees' Outlook free/busy on the appointment's day (m365.availability).",
    )
    m365_teams_error = fields.Text(
        string="No Teams meeting",
        readonly=True,
        copy=False,
        help="Why Microsoft 365 did not create the Teams meeting.",
    )

    @api.depends("partner_ids", "start", "stop", "user_id")
    def _compute_m365_availability(self):
        Availability = self.env["m365.availability"]
        if len(self) > 1:
            # Shown on one appointment's form: a read of many (an export, a read of
            # every field) never asks Outlook for each of them.
            self.m365_availability = {"people": [], "message": False}
            return
        for event in self:
            event.m365_availability = Availability._m365_view(
                event.partner_ids,
                event.start,
                event.stop,
                event.user_id or self.env.user,
                exclude=event._origin,
            )

    m365_sync_status = fields.Char(
        string="Outlook",
        compute="_compute_m365_sync_status",
        help="Where this appointment stands with Outlook: imported from it, sent to it, "
        "waiting to be sent, or not synchronised.",
    )

    def _compute_m365_sync_status(self):
        """One line, always shown on the form (not only when a push failed)."""
        ids = [event.id for event in self if isinstance(event.id, int)]
        links = self.env["m365.event.link"].sudo().search([("calendar_event_id", "in", ids)])
        by_event = links.grouped("calendar_event_id")
        waiting = set(
            self.env["m365.outbox"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "calendar.event"),
                    ("res_id", "in", ids),
                    ("state", "=", "pending"),
                ]
            )
            .mapped("res_id")
        )
        tz = self.env.context.get("tz") or self.env.user.tz or "UTC"
        for event in self:
            mine = by_event.get(event, self.env["m365.event.link"])
            link = mine.sorted(lambda found: found.synced_at or EPOCH)[-1:]
            where = ", ".join(
                sorted({found.account_id.email or found.mailbox or "" for found in mine} - {""})
            )
            if event.m365_push_error:
                status = self.env._("Not in Outlook: see the warning above.")
            elif event.id in waiting:
                status = self.env._("Waiting to be sent to Outlook (usually within a minute).")
            elif link and link.origin == "outlook":
                status = self.env._(
                    "From Outlook (%(where)s), last synchronised %(when)s.",
                    where=where,
                    when=format_datetime(self.env, link.synced_at, tz=tz, dt_format="short")
                    if link.synced_at
                    else "?",
                )
            elif link:
                status = self.env._(
                    "In Outlook (%(where)s), last sent %(when)s.",
                    where=where,
                    when=format_datetime(self.env, link.synced_at, tz=tz, dt_format="short")
                    if link.synced_at
                    else "?",
                )
            else:
                status = self.env._("Not synchronised with Outlook.")
            event.m365_sync_status = status

    def _compute_m365_from_outlook(self):
        linked = set(
            self.env["m365.event.link"]
            .sudo()
            .search([("calendar_event_id", "in", self.ids), ("origin", "=", "outlook")])
            .calendar_event_id.ids
        )
        for event in self:
            event.m365_from_outlook = event.id in linked

    def _compute_m365_push_error(self):
        failed = {
            item.res_id: item.last_error
            for item in self.env["m365.outbox"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "calendar.event"),
                    ("res_id", "in", self.ids),
                    ("state", "=", "failed"),
                ]
            )
        }
        for event in self:
            event.m365_push_error = failed.get(event.id, False)

    # ------------------------------------------------------------------
    # ORM: queue the uploads
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        events = super().create(vals_list)
        if not self._m365_push_disabled():
            events._m365_queue()
            with_rooms = events.filtered("m365_room_ids")
            if with_rooms:
                self.env["m365.room.booking"]._m365_sync_events(with_rooms)
        return events

    def write(self, vals):
        # Odoo pops ``recurrence_update`` from ``vals``: read it first. "This event"
        # on one occurrence makes it a changed occurrence of the Outlook series.
        single = vals.get("recurrence_update") == "self_only" and len(self) == 1
        relevant = not self._m365_push_disabled() and bool(PUSH_FIELDS.intersection(vals))
        before = self.recurrence_id if relevant else None
        result = super().write(vals)
        if relevant:
            events = self.exists()
            events._m365_queue(single_occurrence=single)
            # A series an event left (split, broken recurrence) changes too.
            (before.exists() - events.recurrence_id)._m365_queue()
        if not self._m365_push_disabled() and ROOM_FIELDS.intersection(vals):
            booked = self.exists().filtered(lambda e: e.m365_room_ids or e.m365_room_booking_ids)
            if booked:
                self.env["m365.room.booking"]._m365_sync_events(booked)
        return result

    def unlink(self):
        entries = [] if self._m365_push_disabled() else self._m365_delete_entries()
        # Rooms written directly are released (their rows queue with the bookings).
        self.sudo().m365_room_booking_ids.unlink()
        result = super().unlink()
        self.env["m365.outbox"]._m365_enqueue(entries)
        return result

    # ------------------------------------------------------------------
    # What to send
    # ------------------------------------------------------------------
    def _m365_pushable_links(self, account):
        """``{event id: link}`` in ``account``; ``None`` values mark events not to send."""
        Link = self.env["m365.event.link"]
        by_event = Link._m365_links_of(self, None).grouped("calendar_event_id")
        out = {}
        for event in self:
            links = by_event.get(event, Link)
            mine = links.filtered(lambda link: link.account_id == account)
            others = links - mine
            if not mine and others.filtered(lambda link: link.origin == "outlook"):
                out[event.id] = None  # it came from another account: not copied to the main one
                continue
            if not event.recurrence_id:
                # Occurrence links of an Odoo series an event has left are stale.
                mine = mine.filtered(
                    lambda link: link.origin == "outlook" or link.event_type not in OCCURRENCE_TYPES
                )
            out[event.id] = mine[:1]
        return out

    def _m365_appointment(self, account, recurrence=None):
        self.ensure_one()
        return Appointment(
            subject=self.name,
            start=self.start,
            stop=self.stop,
            all_day=self.allday,
            start_date=self.start_date,
            stop_date=self.stop_date,
            time_zone=self.event_tz or self.user_id.tz or None,
            description=self.description or None,
            location=self.location or None,
            show_as=self.show_as,
            private=self.privacy == "private",
            categories=tuple(self.categ_ids.mapped("name")),
            attendees=tuple(
                Attendee(p.name, p.email or None)
                for p in self.partner_ids - self.user_id.partner_id
            ),
            organizer_email=account.email or self.user_id.email,
            recurrence=recurrence,
            # None leaves a meeting made in Outlook alone; False switches ours off.
            online_meeting=True if self.m365_teams else (False if self.m365_teams_pushed else None),
            rooms=tuple(
                Attendee(room.name, room.email)
                for room in self.sudo().m365_room_ids
                if room.active and room.mapped
            ),
            # The last room removed: ``attendees`` is sent so that the room is released.
            manage_attendees=bool(
                self.sudo().m365_room_booking_ids.filtered(lambda b: b.via == "organiser")
            ),
        )

    def _m365_queue(self, single_occurrence=False):
        """Queue the upload of these appointments (creation or update, or a deletion)."""
        events = self.with_context(active_test=False).sudo()
        accounts = self._m365_upload_accounts(events.user_id)
        if not accounts:
            return
        series = self.env["calendar.recurrence"]
        entries = []
        for account_id, group in events.grouped(lambda e: accounts.get(e.user_id.id)).items():
            if not account_id:
                continue
            account = account_id
            links = group._m365_pushable_links(account)
            allowed = group._m365_rule_allows()
            for event in group:
                link = links.get(event.id)
                if link is None:
                    continue
                if event.active and not event.recurrency and not allowed.get(event.id, True):
                    # Excluded by a rule: an event Odoo sent is deleted from Outlook (once:
                    # the deletion drops the link); Outlook's own events are left alone.
                    if not link or link.origin == "odoo":
                        entries.append(event._m365_outbox_entry("delete", account, link=link))
                    continue
                if event.active and event.recurrency and not event.recurrence_id:
                    # Between two recurrences (Odoo splits or rebuilds a series): not a
                    # stand-alone appointment; a creation queued meanwhile is cancelled.
                    entries.append(event._m365_cancel_entry(account))
                    continue
                if event.recurrence_id and event.active:
                    if event.follow_recurrence and not single_occurrence:
                        series |= event.recurrence_id
                        entries.append(event._m365_cancel_entry(account))
                        continue
                    if not link:
                        # Not linked to its Outlook occurrence yet: the series push links it.
                        series |= event.recurrence_id
                        if not event.follow_recurrence or single_occurrence:
                            entries.append(event._m365_update_entry(account, link, "update"))
                        continue
                if not event.active:
                    # Without a link, this cancels a creation still waiting in the outbox.
                    entries.append(event._m365_outbox_entry("delete", account, link=link))
                    continue
                entries.append(event._m365_update_entry(account, link))
        series._m365_queue()
        self.env["m365.outbox"]._m365_enqueue(entries)

    def _m365_rule_allows(self, series=False):
        """``{event id: goes up}`` under each organiser's privacy and upload rules.

        ``series``: these are the first appointments of Odoo recurrences, which go up
        as one Outlook series: "only from today on" does not apply (a series that
        began in the past goes on).
        """
        out = {}
        for user, events in self.grouped("user_id").items():
            if not user:
                continue
            rules = user._m365_upload_rules()
            domain = user._m365_upload_domain()
            matching = events._m365_matching(user, domain) if domain else None
            try:
                zone = ZoneInfo(user.tz or "UTC")
            except (ZoneInfoNotFoundError, ValueError):
                zone = timezone.utc
            today = datetime.now(timezone.utc).astimezone(zone).date()
            for event in events:
                if series:
                    last_day = None
                elif event.allday:
                    last_day = event.stop_date or event.start_date
                elif event.stop:
                    last_day = event.stop.replace(tzinfo=timezone.utc).astimezone(zone).date()
                else:
                    last_day = None
                ok, _why = upload_decision(
                    rules,
                    private=event.privacy == "private",
                    last_day=last_day,
                    today=today,
                    in_domain=matching is None or event.id in matching,
                )
                out[event.id] = ok
        return out

    def _m365_matching(self, user, domain):
        """Ids of these appointments that match ``domain``, searched *as* ``user``: a filter
        may only use what its user may read (a write-only secret in it is refused, so it
        cannot probe one). An unusable filter sends everything, never deletes."""
        Event = self.env["calendar.event"].with_user(user).with_context(active_test=False)
        try:
            found = Event.search(Domain.AND([Domain(domain), Domain("id", "in", self.ids)]))
        except (AccessError, ValueError, KeyError, TypeError):
            return None
        return set(found.ids)

    def _m365_cancel_entry(self, account):
        """A deletion without an event: cancels a stand-alone creation still queued."""
        return self._m365_outbox_entry("delete", account, link=self.env["m365.event.link"])

    def _m365_update_entry(self, account, link, operation=None):
        self.ensure_one()
        built = build_payload(
            self._m365_appointment(account), send_invitations=account.send_invitations
        )
        operation = operation or ("update" if link else "create")
        return self._m365_outbox_entry(operation, account, built, link=link)

    def _m365_delete_entries(self):
        events = self.sudo()
        accounts = self._m365_upload_accounts(events.user_id)
        if not accounts:
            return []
        entries = []
        for event in events:
            account = accounts.get(event.user_id.id)
            if not account:
                continue
            link = event._m365_pushable_links(account).get(event.id)
            if link is not None:
                # Without a link a waiting creation is cancelled (coalescing).
                entries.append(event._m365_outbox_entry("delete", account, link=link))
        return entries

    # ------------------------------------------------------------------
    # Hooks of the drain
    # ------------------------------------------------------------------
    def _m365_needs_link(self, item):
        # A changed occurrence is written to its Outlook occurrence, never as a new event.
        return bool(self.recurrence_id)

    def _m365_plan(self, item, link):
        """An occurrence not linked yet whose series is in Outlook: the drain links the
        series' occurrences after its pushes, then sends it (no Graph call here)."""
        recurrence = self.recurrence_id
        if link or not recurrence:
            return super()._m365_plan(item, link)
        account = item.account_id or None
        master = self.env["m365.event.link"]._m365_links_of(recurrence, account)[:1]
        if not master:
            return "wait", None
        return "series", master

    def _m365_link_values(self, item, event):
        return dict(super()._m365_link_values(item, event), calendar_event_id=self.id)

    def _m365_after_push(self, link, event, created):
        """What Graph's answer brings back: the rooms' answers, when Graph already has
        them (else the room job reads them), and the Teams meeting."""
        result = super()._m365_after_push(link, event, created)
        bookings = self.sudo().m365_room_booking_ids.filtered(lambda b: b.via == "organiser")
        if bookings:
            bookings._m365_take_answer({**event.raw, "iCalUId": event.ical_uid})
        self._m365_take_teams(event)
        return result

    def _m365_take_teams(self, event):
        """The Teams meeting Graph made (or did not make) comes back into Odoo."""
        if self.recurrence_id:
            return
        url = join_url(event.raw)
        values = {}
        if self.m365_teams and url:
            values = {
                "videocall_location": url,
                "m365_teams_pushed": True,
                "m365_teams_error": False,
            }
        elif self.m365_teams:
            # Graph does not refuse: it creates the event without a meeting
            # (microsoft-graph-docs-contrib#8864). Say why, once.
            message = teams_refusal(None)
            if self.m365_teams_error != message:
                values = {"m365_teams_error": message, "m365_teams_pushed": False}
                self.sudo().message_post(
                    body=message, message_type="comment", subtype_xmlid="mail.mt_note"
                )
        elif self.m365_teams_pushed or self.m365_teams_error:
            values = {"m365_teams_pushed": False, "m365_teams_error": False}
            if self.videocall_location and self.videocall_location.startswith("https://teams."):
                values["videocall_location"] = False
        values = {k: v for k, v in values.items() if self[k] != v}
        if values:
            self.sudo().with_context(m365_no_push=True, mail_notrack=True).write(values)

    def _m365_apply_remote(self, link, event):
        """Outlook's version won a conflict: write it into the appointment (as the pull does)."""
        try:
            pulled = map_event(event)
        except BadResponse:
            return
        plan = PullPlan(update=[pulled])
        self.env["m365.event.link"].with_context(**PULL_CONTEXT)._m365_update(
            link.account_id, plan, {event.id: link}, Counter()
        )
