"""Workload per user and day: capacity, Microsoft 365 busy hours, planned hours.

Rows are written by the busy-time import (for the users and days it touched, and
for days entering its window) and recomputed when what they depend on changes:
category rules, the calculation mode, working-time calendars, time off, a user's
time zone. Those changes are collected during the transaction and recomputed
once, just before it commits (``cr.precommit``), so that saving a calendar with
ten attendance lines recomputes its users once.

The math itself is ``m365_graph.sync.workload``; this model reads Odoo's working-time
calendars through the resource module (``_attendance_intervals_batch`` and
``_leave_intervals_batch``, in the user's time zone) and stores the results.
Project → Reporting → Workload shows them per user and week.
"""

import logging
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.tools import SQL

from m365_graph.sync.workload import (
    BusyInterval,
    busy_by_day,
    day_figures,
    planned_by_day,
    work_by_day,
)

_logger = logging.getLogger(__name__)

PRECOMMIT_KEY = "m365_sync.workload_recompute"
#: The stored figures of a day, compared before writing.
FIGURES = ("capacity_hours", "busy_hours", "planned_hours")


class M365WorkloadDay(models.Model):
    _name = "m365.workload.day"
    _description = "Workload per User and Day"
    _order = "date, user_id"
    _rec_name = "date"

    user_id = fields.Many2one(
        "res.users", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    date = fields.Date(required=True, readonly=True, index=True)
    capacity_hours = fields.Float(
        string="Capacity",
        readonly=True,
        aggregator="sum",
        help="Working time of the day from the user's working-time calendar (or the "
        "company's when the user has none), minus time off.",
    )
    busy_hours = fields.Float(
        string="M365 busy",
        readonly=True,
        aggregator="sum",
        help="Time booked in Outlook: busy, tentative and out-of-office appointments, "
        "overlaps counted once, without ignored categories. Exact working times: only "
        "the part inside working time counts. Daily working hours: every appointment "
        "counts in full.",
    )
    planned_hours = fields.Float(
        string="Planned",
        readonly=True,
        aggregator="sum",
        help="Time planned in Odoo (project activities with a planned start and duration).",
    )
    booked_hours = fields.Float(
        string="Booked",
        compute="_compute_figures",
        store=True,
        aggregator="sum",
        help="Time booked: busy in Outlook plus planned in Odoo.",
    )
    free_hours = fields.Float(
        string="Free",
        compute="_compute_figures",
        store=True,
        aggregator="sum",
        help="Capacity not yet booked in Outlook or planned in Odoo.",
    )
    load_percent = fields.Float(
        string="Load %",
        compute="_compute_figures",
        store=True,
        aggregator="avg",
        help="Booked (busy + planned) over capacity. Grouped, it is the load of the group "
        "(total booked over total capacity), not an average of days.",
    )
    load_ratio = fields.Float(
        string="Load",
        compute="_compute_figures",
        store=True,
        aggregator="avg",
        help="Load % as a fraction (0.85 is 85 %), for the views that show a % sign. "
        "Grouped, like Load %: total booked over total capacity.",
    )
    overloaded = fields.Boolean(
        compute="_compute_figures",
        store=True,
        help="More time is booked than the day's capacity (load over 100 %, or time booked "
        "on a day without working time).",
    )
    is_my_team = fields.Boolean(
        string="My team",
        compute="_compute_is_my_team",
        search="_search_is_my_team",
        help="You, and the people assigned to open tasks of the projects you manage.",
    )

    _user_date_uniq = models.Constraint(
        "UNIQUE(user_id, date)", "A user has one workload row per day."
    )

    @api.depends("capacity_hours", "busy_hours", "planned_hours")
    def _compute_figures(self):
        for day in self:
            day.booked_hours = round((day.busy_hours or 0.0) + (day.planned_hours or 0.0), 4)
            day.free_hours, day.load_percent, day.overloaded = day_figures(
                day.capacity_hours, day.busy_hours, day.planned_hours
            )
            day.load_ratio = round(day.load_percent / 100.0, 4)

    @api.depends_context("uid")
    def _compute_is_my_team(self):
        team = set(self._m365_team_user_ids())
        for day in self:
            day.is_my_team = day.user_id.id in team

    def _search_is_my_team(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        return [("user_id", operator, self._m365_team_user_ids())]

    @api.model
    def _m365_team_user_ids(self):
        """My team: me and everyone assigned to an open task of a project I manage."""
        tasks = (
            self.env["project.task"]
            .sudo()
            .search([("project_id.user_id", "=", self.env.uid), ("is_closed", "=", False)])
        )
        return list({self.env.uid, *tasks.user_ids.ids})

    @api.model
    def _read_group_select(self, aggregate_spec, query):
        # The load of a week (or of a team) is its booked time over its capacity,
        # not the average of daily percentages (a day off would weigh like a full day).
        if aggregate_spec not in ("load_percent:avg", "load_ratio:avg"):
            return super()._read_group_select(aggregate_spec, query)
        scale = 100.0 if aggregate_spec == "load_percent:avg" else 1.0
        return SQL(
            "COALESCE(%(scale)s * SUM(COALESCE(%(busy)s, 0) + COALESCE(%(planned)s, 0))"
            " / NULLIF(SUM(%(capacity)s), 0), 0)",
            scale=scale,
            busy=self._field_to_sql(self._table, "busy_hours", query),
            planned=self._field_to_sql(self._table, "planned_hours", query),
            capacity=self._field_to_sql(self._table, "capacity_hours", query),
        )

    # ------------------------------------------------------------------
    # Recompute
    # ------------------------------------------------------------------
    @api.model
    def _m365_recompute(self, user_days):
        """Compute and store the days ``{user_id: dates}``; create missing rows.

        Returns ``(rows written, users that fell back to the company calendar)``.
        Unchanged rows are not written.
        """
        user_days = {uid: set(days) for uid, days in user_days.items() if days}
        if user_days:
            # Users excluded from busy-time import have no workload: no row is made for them.
            excluded = (
                self.env["res.users"]
                .sudo()
                .with_context(active_test=False)
                .search([("id", "in", list(user_days)), ("m365_busy_exclude", "=", True)])
            )
            for uid in excluded.ids:
                del user_days[uid]
        if not user_days:
            return 0, self.env["res.users"]
        users = self.env["res.users"].sudo().with_context(active_test=False).browse(user_days)
        setups = self._m365_user_setup(users)
        modes = self._m365_modes(users.company_id)
        busy = self._m365_counted_slots(user_days)
        planned = self._m365_planned(user_days)
        existing = self._m365_existing_rows(user_days)

        groups = defaultdict(list)
        for user in users:
            setup = setups[user.id]
            groups[setup["calendar"], setup["tz"]].append(user)

        to_create, to_write = [], defaultdict(list)
        for (calendar, tz), group in groups.items():
            first = min(min(user_days[u.id]) for u in group)
            last = max(max(user_days[u.id]) for u in group)
            zone = pytz.timezone(tz)
            start_dt = zone.localize(datetime.combine(first - timedelta(days=1), time(0)))
            end_dt = zone.localize(datetime.combine(last + timedelta(days=2), time(0)))
            attendance, leaves = self._m365_calendar_intervals(
                calendar, zone, start_dt, end_dt, [setups[u.id]["resource"] for u in group]
            )
            shared_work = {}
            for user in group:
                days = sorted(user_days[user.id])
                resource = setups[user.id]["resource"]
                user_leaves = leaves.get(resource.id, leaves.get(False, []))
                if user_leaves:
                    work = work_by_day(days, tz, attendance, user_leaves)
                else:
                    missing = [d for d in days if d not in shared_work]
                    shared_work.update(work_by_day(missing, tz, attendance))
                    work = {d: shared_work[d] for d in days}
                mode = modes.get(user.company_id.id, "exact")
                hours = busy_by_day(work, tz, busy.get(user.id, ()), mode)
                # Planned time inside an Outlook meeting is booked once (the meeting).
                planned_hours = planned_by_day(
                    work, tz, planned.get(user.id, ()), mode, busy.get(user.id, ())
                )
                for day in days:
                    capacity = round(sum((e - s).total_seconds() for s, e in work[day]) / 3600, 4)
                    values = {
                        "capacity_hours": capacity,
                        "busy_hours": hours[day],
                        "planned_hours": planned_hours[day],
                    }
                    row = existing.get((user.id, day))
                    if row is None:
                        to_create.append(
                            {
                                "user_id": user.id,
                                "company_id": user.company_id.id,
                                "date": day,
                                **values,
                            }
                        )
                    else:
                        figures = tuple(values[name] for name in FIGURES)
                        if tuple(row[name] for name in FIGURES) != figures:
                            to_write[figures].append(row["id"])
        Day = self.sudo()
        if to_create:
            Day.create(to_create)
        for figures, ids in to_write.items():
            Day.browse(ids).write(dict(zip(FIGURES, figures, strict=True)))
        written = len(to_create) + sum(len(ids) for ids in to_write.values())
        fallback = users.filtered(lambda u: setups[u.id]["fallback"])
        return written, fallback

    @api.model
    def _m365_forget_users(self, users):
        """Delete the workload of ``users`` (excluded from busy-time import).

        Without their busy time their days would show as entirely free, which is
        wrong rather than unknown; they leave the report instead. The next import
        after the exclusion is lifted fills their days in again.
        """
        rows = self.sudo().search([("user_id", "in", users.ids)])
        rows.unlink()
        return len(rows)

    @api.model
    def _m365_user_setup(self, users):
        """Per user: the working-time calendar, time zone and resource to compute with.

        The calendar is the one of the user's resource in their company; a user
        without one (no resource, or a resource without calendar, which Odoo would
        treat as "works any time") uses the company's working hours instead. The
        time zone is the user's, else the resource's or calendar's, else UTC.
        """
        setups = {}
        Resource = self.env["resource.resource"]
        for user in users:
            resources = user.resource_ids
            resource = resources.filtered(lambda r, u=user: r.company_id == u.company_id)[:1]
            resource = resource or resources[:1] or Resource
            calendar = resource.calendar_id
            fallback = not calendar
            if fallback:
                calendar = user.company_id.resource_calendar_id
            tz = user.tz or resource.tz or calendar.tz or "UTC"
            if tz not in pytz.all_timezones_set:
                tz = "UTC"
            setups[user.id] = {
                "calendar": calendar,
                "tz": tz,
                "resource": resource,
                "fallback": fallback,
            }
        return setups

    @api.model
    def _m365_calendar_intervals(self, calendar, zone, start_dt, end_dt, resources):
        """(attendance intervals, {resource id or False: leave intervals}) of a calendar.

        Both come from the resource module, localised in ``zone``. No calendar at all
        (a company without working hours) means no working time.
        """
        if not calendar:
            return [], {}
        attendance = calendar._attendance_intervals_batch(start_dt, end_dt, tz=zone)
        resources = self.env["resource.resource"].concat(*resources)
        leaves = calendar._leave_intervals_batch(start_dt, end_dt, resources=resources, tz=zone)
        return (
            [(start, stop) for start, stop, _meta in attendance[False]],
            {rid: [(start, stop) for start, stop, _meta in items] for rid, items in leaves.items()},
        )

    @api.model
    def _m365_modes(self, companies):
        tenants = self.env["m365.tenant"].sudo().search([("company_id", "in", companies.ids)])
        return {tenant.company_id.id: tenant.busy_mode for tenant in tenants}

    @api.model
    def _m365_counted_slots(self, user_days):
        """{user_id: [BusyInterval]} of the slots that count, around the days asked for.

        The Outlook events of exported Odoo activities are left out: their time is
        counted once, as planned hours (:meth:`_m365_planned`).
        """
        first = min(min(days) for days in user_days.values())
        last = max(max(days) for days in user_days.values())
        rows = (
            self.env["m365.busy.slot"]
            .sudo()
            .search_read(
                [
                    ("user_id", "in", list(user_days)),
                    ("counted", "=", True),
                    ("start", "<", datetime.combine(last + timedelta(days=2), time(0))),
                    ("stop", ">", datetime.combine(first - timedelta(days=1), time(0))),
                ],
                ["user_id", "start", "stop", "all_day", "event_id", "show_as"],
            )
        )
        exported = self._m365_exported_event_ids({row["event_id"] for row in rows})
        users = self.env["res.users"].sudo().browse(list(user_days))
        # The user's rule (m365_graph.sync.rules): tentative counts only on option.
        no_tentative = {user.id for user in users if not user._m365_tentative_busy()}
        out = defaultdict(list)
        for row in rows:
            if row["event_id"] in exported:
                continue
            if row["show_as"] == "tentative" and row["user_id"][0] in no_tentative:
                continue
            out[row["user_id"][0]].append(BusyInterval(row["start"], row["stop"], row["all_day"]))
        return out

    @api.model
    def _m365_exported_event_ids(self, event_ids):
        """The Graph ids among ``event_ids`` of events Odoo exported for activities."""
        if not event_ids:
            return set()
        links = (
            self.env["m365.event.link"]
            .sudo()
            .search_read(
                [("res_model", "=", "mail.activity"), ("graph_event_id", "in", list(event_ids))],
                ["graph_event_id"],
            )
        )
        return {link["graph_event_id"] for link in links}

    @api.model
    def _m365_planned(self, user_days):
        """{user_id: [(start, stop)]} of the Odoo activities planned around the days."""
        first = min(min(days) for days in user_days.values())
        last = max(max(days) for days in user_days.values())
        return self.env["mail.activity"]._m365_planned_intervals(list(user_days), first, last)

    @api.model
    def _m365_existing_rows(self, user_days):
        first = min(min(days) for days in user_days.values())
        last = max(max(days) for days in user_days.values())
        rows = self.sudo().search_read(
            [("user_id", "in", list(user_days)), ("date", ">=", first), ("date", "<=", last)],
            ["user_id", "date", *FIGURES],
            load=None,
        )
        return {(row["user_id"], row["date"]): row for row in rows}

    @api.model
    def _m365_missing_days(self, users, days):
        """{user_id: dates} of ``days`` without a row yet (one query when none is missing)."""
        days = list(days)
        if not users or not days:
            return {}
        self.env.cr.execute(
            SQL(
                """SELECT user_id, count(*) FROM m365_workload_day
                    WHERE user_id IN %s AND date >= %s AND date <= %s GROUP BY user_id""",
                tuple(users.ids),
                min(days),
                max(days),
            )
        )
        complete = {uid for uid, count in self.env.cr.fetchall() if count >= len(days)}
        partial = [uid for uid in users.ids if uid not in complete]
        if not partial:
            return {}
        have = defaultdict(set)
        for row in self.sudo().search_read(
            [("user_id", "in", partial), ("date", ">=", min(days)), ("date", "<=", max(days))],
            ["user_id", "date"],
            load=None,
        ):
            have[row["user_id"]].add(row["date"])
        return {uid: {d for d in days if d not in have[uid]} for uid in partial}

    # ------------------------------------------------------------------
    # Recompute when what the rows depend on changes
    # ------------------------------------------------------------------
    @api.model
    def _m365_schedule_recompute(self, users=None, companies=None, date_from=None, date_to=None):
        """Recompute the existing rows of ``users`` (or of every user of ``companies``)
        between ``date_from`` and ``date_to`` (default: each tenant's import window),
        once, just before the transaction commits."""
        data = self.env.cr.precommit.data
        pending = data.get(PRECOMMIT_KEY)
        if pending is None:
            pending = data[PRECOMMIT_KEY] = set()
            self.env.cr.precommit.add(self._m365_run_scheduled)
        pending.add(
            (
                tuple(users.ids) if users is not None else None,
                tuple(companies.ids) if companies is not None else None,
                date_from,
                date_to,
            )
        )

    def _m365_run_scheduled(self):
        pending = self.env.cr.precommit.data.pop(PRECOMMIT_KEY, set())
        if pending:
            self.sudo()._m365_recompute_rows(pending)

    @api.model
    def _m365_recompute_rows(self, requests):
        """Recompute the existing rows the requests of ``_m365_schedule_recompute`` name."""
        user_days = defaultdict(set)
        windows = self._m365_current_windows()
        for user_ids, company_ids, date_from, date_to in requests:
            domain = []
            if user_ids is not None:
                domain.append(("user_id", "in", list(user_ids)))
            if company_ids is not None:
                domain.append(("company_id", "in", list(company_ids)))
            if date_from:
                domain.append(("date", ">=", date_from))
            if date_to:
                domain.append(("date", "<=", date_to))
            for row in self.sudo().search_read(
                domain, ["user_id", "company_id", "date"], load=None
            ):
                window = windows.get(row["company_id"])
                if window and row["date"] in window:
                    user_days[row["user_id"]].add(row["date"])
        written, _fallback = self._m365_recompute(user_days)
        if written:
            _logger.info("Microsoft 365: %s workload days recomputed", written)
        return written

    @api.model
    def _m365_current_windows(self):
        """{company_id: BusyWindow} of today's import window of every tenant."""
        Job = self.env["m365.job.busy"]
        tenants = self.env["m365.tenant"].sudo().search([("busy_sync", "=", True)])
        today = Job._m365_busy_today()
        return {tenant.company_id.id: Job._m365_window(tenant, today) for tenant in tenants}
