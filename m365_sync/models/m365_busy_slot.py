"""Busy time imported from Microsoft 365 calendars (the data; the import is ``m365.job.busy``).

Privacy first: a slot holds when a user is busy — start, end, all-day, ``showAs``,
categories, sensitivity, occurrence type and the Graph event id — and nothing else.
Titles, bodies, locations and attendees are never requested from Graph (the
calendarView ``$select`` of ``m365_graph.BUSY_SELECT``) and have no column here.
The import (``models/jobs/m365_job_busy.py``) reconciles the stored slots of each
mailbox with what Graph returned; this model keeps the slots, reads them for the
reconciliation and re-marks them when category rules change.
"""

import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import format_date, format_datetime

from m365_graph.sync.workload import (
    SENSITIVITIES,
    SHOW_AS_BUSY,
    SlotRecord,
    is_ignored,
    slot_days,
    split_categories,
)

from .common import EVENT_TYPES

_logger = logging.getLogger(__name__)

SHOW_AS = [
    ("busy", "Busy"),
    ("tentative", "Tentative"),
    ("oof", "Out of office"),
    ("free", "Free"),
    ("workingElsewhere", "Working elsewhere"),
]


class M365BusySlot(models.Model):
    _name = "m365.busy.slot"
    _description = "Microsoft 365 Busy Slot"
    _order = "start desc, id desc"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", required=True, readonly=True, index=True, ondelete="cascade"
    )
    event_id = fields.Char(
        string="Graph event id",
        required=True,
        readonly=True,
        help="The id of the Outlook event (or occurrence) in the user's mailbox.",
    )
    start = fields.Datetime(required=True, readonly=True)
    stop = fields.Datetime(string="End", required=True, readonly=True)
    all_day = fields.Boolean(string="All day", readonly=True)
    duration = fields.Float(
        string="Duration (h)", compute="_compute_duration", store=True, aggregator="sum"
    )
    show_as = fields.Selection(SHOW_AS, string="Show as", required=True, readonly=True)
    categories = fields.Char(readonly=True, help="Outlook categories, comma-separated.")
    sensitivity = fields.Selection(
        [(name, name.capitalize()) for name in SENSITIVITIES], readonly=True
    )
    event_type = fields.Selection(EVENT_TYPES, string="Type", readonly=True)
    is_busy = fields.Boolean(
        string="Busy",
        compute="_compute_counted",
        store=True,
        help="Shown as busy, tentative or out of office.",
    )
    ignored = fields.Boolean(
        readonly=True, help="A category of this appointment is ignored by a category rule."
    )
    counted = fields.Boolean(
        compute="_compute_counted",
        store=True,
        help="Counts toward workload: shown as busy and not ignored.",
    )

    _user_event_uniq = models.Constraint(
        "UNIQUE(user_id, event_id)", "An Outlook event is imported once per user."
    )
    _user_window_idx = models.Index("(user_id, start, stop)")

    @api.depends("start", "stop")
    def _compute_duration(self):
        for slot in self:
            slot.duration = (
                (slot.stop - slot.start).total_seconds() / 3600 if slot.start and slot.stop else 0
            )

    @api.depends("show_as", "ignored")
    def _compute_counted(self):
        for slot in self:
            slot.is_busy = slot.show_as in SHOW_AS_BUSY
            slot.counted = slot.is_busy and not slot.ignored

    @api.depends("user_id", "start", "stop", "all_day")
    @api.depends_context("tz", "lang")
    def _compute_display_name(self):
        # In the reader's time zone and date format, like the Start field shows it.
        tz = self.env.context.get("tz") or self.env.user.tz or False
        for slot in self:
            if slot.all_day and slot.start:
                when = format_date(self.env, slot.start.date())
            else:
                when = (
                    format_datetime(self.env, slot.start, tz=tz, dt_format="short")
                    if slot.start
                    else ""
                )
            slot.display_name = self.env._(
                "%(user)s, %(when)s", user=slot.user_id.name or "", when=when
            )

    def _m365_record(self):
        """This slot as ``m365_graph.sync.workload.SlotRecord`` (what reconciliation compares)."""
        self.ensure_one()
        return SlotRecord(
            self.event_id,
            self.start,
            self.stop,
            self.all_day,
            self.show_as,
            self.categories or "",
            self.sensitivity or None,
            self.event_type or None,
        )

    @api.model
    def _m365_stored(self, users, window, fetched_ids):
        """{user id: [(slot id, SlotRecord)]}: stored slots of the window, plus stored
        slots outside it whose event came back (so they are matched, not duplicated)."""
        domain = [
            ("user_id", "in", users.ids),
            "|",
            "&",
            ("start", "<", window.end.replace(tzinfo=None)),
            ("stop", ">", window.start.replace(tzinfo=None)),
            ("event_id", "in", list(fetched_ids)),
        ]
        rows = self.sudo().search_read(
            domain,
            [
                "user_id",
                "event_id",
                "start",
                "stop",
                "all_day",
                "show_as",
                "categories",
                "sensitivity",
                "event_type",
            ],
            load=None,
        )
        out = defaultdict(list)
        for row in rows:
            out[row["user_id"]].append(
                (
                    row["id"],
                    SlotRecord(
                        row["event_id"],
                        row["start"],
                        row["stop"],
                        row["all_day"],
                        row["show_as"],
                        row["categories"] or "",
                        row["sensitivity"] or None,
                        row["event_type"] or None,
                    ),
                )
            )
        return out

    @api.model
    def _m365_vals(self, tenant, user, record, ignored_keys):
        return {
            "company_id": tenant.company_id.id,
            "user_id": user.id,
            "event_id": record.event_id,
            "start": record.start,
            "stop": record.stop,
            "all_day": record.all_day,
            "show_as": record.show_as,
            "categories": record.categories or False,
            "sensitivity": record.sensitivity or False,
            "event_type": record.event_type or False,
            "ignored": is_ignored(record.category_names, ignored_keys),
        }

    @api.model
    def _m365_days_of(self, user_records, window=None):
        """{user id: local days} the given (user id, SlotRecord) pairs cover (in the window)."""
        users = self.env["res.users"].sudo().browse({uid for uid, _r in user_records})
        setups = self.env["m365.workload.day"]._m365_user_setup(users)
        out = defaultdict(set)
        for uid, record in user_records:
            for day in slot_days(record.start, record.stop, record.all_day, setups[uid]["tz"]):
                if window is None or day in window:
                    out[uid].add(day)
        return out

    @api.model
    def _m365_forget_users(self, users):
        """Delete the busy time of ``users`` (excluded from the import)."""
        slots = self.sudo().search([("user_id", "in", users.ids)])
        if slots:
            slots.unlink()
            self.env["m365.workload.day"]._m365_schedule_recompute(users=users)

    # ------------------------------------------------------------------
    # Category rules
    # ------------------------------------------------------------------
    @api.model
    def _m365_apply_category_rules(self, tenants):
        """Re-mark the slots of ``tenants`` after their category rules changed."""
        Rule = self.env["m365.category.rule"]
        changed = []
        for tenant in tenants.sudo():
            keys = Rule._m365_ignored_keys(tenant)
            slots = self.sudo().search(
                [("company_id", "=", tenant.company_id.id), ("categories", "!=", False)]
            )
            flip_on = slots.filtered(
                lambda s, keys=keys: (
                    not s.ignored and is_ignored(split_categories(s.categories), keys)
                )
            )
            flip_off = slots.filtered(
                lambda s, keys=keys: (
                    s.ignored and not is_ignored(split_categories(s.categories), keys)
                )
            )
            flip_on.write({"ignored": True})
            flip_off.write({"ignored": False})
            changed += [(s.user_id.id, s._m365_record()) for s in flip_on | flip_off]
        if changed:
            touched = self._m365_days_of(changed)
            Day = self.env["m365.workload.day"]
            for uid, days in touched.items():
                Day._m365_schedule_recompute(
                    users=self.env["res.users"].browse(uid),
                    date_from=min(days),
                    date_to=max(days),
                )
        return True
