"""The resource overview (Project → Reporting → Resource overview): people by days.

Planners who come from tools like InLoox plan on a grid: one row per person, one
column per day (or week), each cell coloured by load — free, booked, overbooked
— with the person's capacity, the time booked in Outlook and planned in Odoo,
and their time off. The client action ``m365_sync.resource_overview``
(``static/src/resource_overview/``) draws that grid from :meth:`get_overview`
and opens one cell's busy slots and activities with :meth:`get_cell`.

Nothing is computed here that the workload does not already store: the figures
are ``m365.workload.day`` rows (read with the viewer's rights, so the same people
and companies as Project → Reporting → Workload), time off comes from the
resource module's leaves. A cell's busy slots are read with the viewer's rights
too: busy time stays visible to its owner and the Microsoft 365 managers only
(slots carry no title anyway).
"""

from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date, format_datetime

from .common import is_utc_zone

#: Columns of one screen: days, or weeks.
MAX_DAYS = 62
MAX_WEEKS = 26
#: A cell's load, in the colours of the grid.
FREE, BOOKED, FULL, OVER = "free", "booked", "full", "over"


def load_state(capacity, booked):
    """free (nothing booked), booked (some), full (80 % or more) or over (more than capacity)."""
    if booked - capacity > 1e-4:
        return OVER
    if booked <= 1e-4:
        return FREE
    if capacity > 0 and booked / capacity >= 0.8:
        return FULL
    return BOOKED


class M365ResourceOverview(models.AbstractModel):
    _name = "m365.resource.overview"
    _description = "Microsoft 365 resource overview (people by days)"

    # ------------------------------------------------------------------
    # The grid
    # ------------------------------------------------------------------
    @api.model
    def get_overview(self, start=None, scale="day", span=14, filters=None):
        """Rows (people) by columns (days or weeks) of workload, for the client action.

        ``start``: first day (ISO date; default: this week's Monday); ``scale``: "day"
        or "week"; ``span``: how many columns; ``filters``: ``{"team": bool,
        "project_id": id, "department_id": id, "user_ids": [ids]}``.
        """
        filters = filters or {}
        if scale not in ("day", "week"):
            raise UserError(self.env._("Show the overview by day or by week."))
        span = max(1, min(int(span or 14), MAX_DAYS if scale == "day" else MAX_WEEKS))
        first = fields.Date.to_date(start) if start else fields.Date.context_today(self)
        first -= timedelta(days=first.weekday())  # weeks and screens start on Monday
        columns = self._m365_columns(first, scale, span)
        last = columns[-1]["last"]
        days = self.env["m365.workload.day"].search(
            [("date", ">=", first), ("date", "<=", last), *self._m365_user_domain(filters)],
            order="user_id, date",
        )
        users = days.user_id.sorted("name")
        off = self._m365_time_off(users, first, last)
        by_user = defaultdict(dict)
        for day in days:
            by_user[day.user_id.id][day.date] = day
        rows = []
        for user in users:
            cells = []
            for column in columns:
                cell = {
                    "key": column["key"],
                    "capacity": 0.0,
                    "busy": 0.0,
                    "planned": 0.0,
                    "off": 0.0,
                }
                known = False
                moment = column["first"]
                while moment <= column["last"]:
                    record = by_user[user.id].get(moment)
                    if record:
                        known = True
                        cell["capacity"] += record.capacity_hours
                        cell["busy"] += record.busy_hours
                        cell["planned"] += record.planned_hours
                    cell["off"] += off.get((user.id, moment), 0.0)
                    moment += timedelta(days=1)
                booked = cell["busy"] + cell["planned"]
                cell.update(
                    {name: round(cell[name], 2) for name in ("capacity", "busy", "planned", "off")},
                    booked=round(booked, 2),
                    free=round(max(cell["capacity"] - booked, 0.0), 2),
                    load=round(100.0 * booked / cell["capacity"]) if cell["capacity"] else None,
                    state=load_state(cell["capacity"], booked) if known else "unknown",
                )
                cells.append(cell)
            totals = {
                name: round(sum(c[name] for c in cells), 2)
                for name in ("capacity", "busy", "planned", "booked", "off")
            }
            totals["load"] = (
                round(100.0 * totals["booked"] / totals["capacity"]) if totals["capacity"] else None
            )
            totals["state"] = load_state(totals["capacity"], totals["booked"])
            rows.append(
                {
                    "user_id": user.id,
                    "name": user.name,
                    "tz_utc": is_utc_zone(user.tz),
                    "cells": cells,
                    "totals": totals,
                }
            )
        return {
            "start": fields.Date.to_string(first),
            "scale": scale,
            "span": span,
            "columns": [
                {
                    **{k: v for k, v in column.items() if k not in ("first", "last")},
                    "until": fields.Date.to_string(column["last"]),
                }
                for column in columns
            ],
            "rows": rows,
            "filters": self._m365_filter_choices(),
            "previous": fields.Date.to_string(
                first - (timedelta(days=span) if scale == "day" else timedelta(weeks=span))
            ),
            "next": fields.Date.to_string(last + timedelta(days=1)),
        }

    @api.model
    def _m365_columns(self, first, scale, span):
        columns = []
        today = fields.Date.context_today(self)
        for index in range(span):
            if scale == "day":
                day = first + timedelta(days=index)
                columns.append(
                    {
                        "key": fields.Date.to_string(day),
                        "label": format_date(self.env, day, date_format="EEE d"),
                        "title": format_date(self.env, day, date_format="full"),
                        "weekend": day.weekday() >= 5,
                        "today": day == today,
                        "first": day,
                        "last": day,
                    }
                )
            else:
                monday = first + timedelta(weeks=index)
                sunday = monday + timedelta(days=6)
                columns.append(
                    {
                        "key": fields.Date.to_string(monday),
                        "label": self.env._("W%(week)s", week=monday.isocalendar()[1]),
                        "title": self.env._(
                            "%(first)s to %(last)s",
                            first=format_date(self.env, monday),
                            last=format_date(self.env, sunday),
                        ),
                        "weekend": False,
                        "today": monday <= today <= sunday,
                        "first": monday,
                        "last": sunday,
                    }
                )
        return columns

    @api.model
    def _m365_user_domain(self, filters):
        domain = []
        if filters.get("team"):
            domain.append(("is_my_team", "=", True))
        if filters.get("user_ids"):
            domain.append(("user_id", "in", [int(uid) for uid in filters["user_ids"]]))
        if filters.get("project_id"):
            tasks = self.env["project.task"].search(
                [("project_id", "=", int(filters["project_id"])), ("is_closed", "=", False)]
            )
            project = self.env["project.project"].browse(int(filters["project_id"])).exists()
            domain.append(("user_id", "in", (tasks.user_ids | project.user_id).ids))
        if filters.get("department_id") and "hr.employee" in self.env:
            employees = self.env["hr.employee"].search(
                [("department_id", "child_of", int(filters["department_id"]))]
            )
            domain.append(("user_id", "in", employees.user_id.ids))
        return domain

    @api.model
    def _m365_filter_choices(self):
        """The projects (and departments, with Employees installed) a planner picks from."""
        projects = self.env["project.project"].search_read(
            [("active", "=", True)], ["display_name"], order="name", limit=200
        )
        choices = {"projects": [[p["id"], p["display_name"]] for p in projects], "departments": []}
        if "hr.department" in self.env:
            departments = self.env["hr.department"].search_read(
                [], ["display_name"], order="complete_name", limit=200
            )
            choices["departments"] = [[d["id"], d["display_name"]] for d in departments]
        return choices

    @api.model
    def _m365_time_off(self, users, first, last):
        """``{(user id, date): hours}`` of time off (the resource module's leaves).

        A leave counts on each local day it covers, in the user's time zone, for the
        part inside that day (a day off is 24 h here: the grid only marks it)."""
        out = {}
        if not users:
            return out
        resources = users.sudo().resource_ids
        low = datetime.combine(first - timedelta(days=1), time(0))
        high = datetime.combine(last + timedelta(days=2), time(0))
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("resource_id", "in", resources.ids),
                    ("date_from", "<", high),
                    ("date_to", ">", low),
                ]
            )
        )
        for leave in leaves:
            user = leave.resource_id.user_id
            if user not in users:
                continue
            zone = pytz.timezone(user.tz if user.tz in pytz.all_timezones_set else "UTC")
            start = pytz.utc.localize(leave.date_from).astimezone(zone)
            stop = pytz.utc.localize(leave.date_to).astimezone(zone)
            day = start.date()
            while day <= stop.date() and day <= last:
                if day >= first:
                    day_low = zone.localize(datetime.combine(day, time(0)))
                    day_high = zone.localize(datetime.combine(day + timedelta(days=1), time(0)))
                    part = (min(stop, day_high) - max(start, day_low)).total_seconds() / 3600
                    if part > 0:
                        key = (user.id, day)
                        out[key] = round(out.get(key, 0.0) + part, 2)
                day += timedelta(days=1)
        return out

    # ------------------------------------------------------------------
    # One cell: the busy slots and activities behind it
    # ------------------------------------------------------------------
    @api.model
    def get_cell(self, user_id, first, last=None):
        """A person's Outlook busy slots and Odoo activities from ``first`` to ``last``."""
        user = self.env["res.users"].browse(int(user_id)).exists()
        first = fields.Date.to_date(first)
        last = fields.Date.to_date(last) if last else first
        if not user or last < first:
            raise UserError(self.env._("This person or period no longer exists."))
        # The figures are the workload's: whoever may not read them sees nothing more.
        self.env["m365.workload.day"].check_access("read")
        tz = user.tz if user.tz in pytz.all_timezones_set else "UTC"
        zone = pytz.timezone(tz)
        low = zone.localize(datetime.combine(first, time(0))).astimezone(pytz.utc)
        high = zone.localize(datetime.combine(last + timedelta(days=1), time(0)))
        high = high.astimezone(pytz.utc)
        low, high = low.replace(tzinfo=None), high.replace(tzinfo=None)
        may_see_slots = user == self.env.user or self.env.user.has_group(
            "m365_sync.group_m365_manager"
        )
        slots = []
        if may_see_slots:
            for slot in self.env["m365.busy.slot"].search(
                [("user_id", "=", user.id), ("start", "<", high), ("stop", ">", low)],
                order="start",
            ):
                slots.append(
                    {
                        "start": format_datetime(self.env, slot.start, tz=tz, dt_format="short"),
                        "stop": format_datetime(self.env, slot.stop, tz=tz, dt_format="short"),
                        "all_day": slot.all_day,
                        "show_as": dict(slot._fields["show_as"]._description_selection(self.env))[
                            slot.show_as
                        ],
                        "counted": slot.counted,
                        "hours": round(slot.duration, 2),
                    }
                )
        activities = []
        Activity = self.env["mail.activity"]
        for activity in Activity.search(
            [
                ("user_id", "=", user.id),
                "|",
                "&",
                ("m365_planned_start", ">=", low),
                ("m365_planned_start", "<", high),
                "&",
                ("m365_planned_start", "=", False),
                "&",
                ("date_deadline", ">=", first),
                ("date_deadline", "<=", last),
            ],
            order="date_deadline, id",
        ):
            activities.append(
                {
                    "id": activity.id,
                    "summary": activity.summary or activity.activity_type_id.name or "",
                    "record": activity.res_name or "",
                    "res_model": activity.res_model,
                    "res_id": activity.res_id,
                    "deadline": format_date(self.env, activity.date_deadline),
                    "outlook": activity.m365_outlook_when or "",
                    "hours": activity.m365_planned_duration or 0.0,
                }
            )
        return {
            "user": user.name,
            "tz": tz,
            "tz_utc": is_utc_zone(user.tz),
            "title": format_date(self.env, first, date_format="full")
            if first == last
            else self.env._(
                "%(first)s to %(last)s",
                first=format_date(self.env, first),
                last=format_date(self.env, last),
            ),
            "slots_visible": may_see_slots,
            "slots": slots,
            "activities": activities,
        }
