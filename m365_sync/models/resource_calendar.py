"""Working-time calendars: when one changes, the workload of its users is recomputed.

Workload capacity (and busy time in "exact working times" mode) comes from the
user's working-time calendar, or the company's for users without one.
"""

from odoo import models

#: Calendar fields whose change alters working intervals.
WORKLOAD_FIELDS = frozenset(
    {
        "attendance_ids",
        "tz",
        "flexible_hours",
        "schedule_type",
        "hours_per_day",
        "hours_per_week",
        "full_time_required_hours",
        "two_weeks_calendar",
        "company_id",
    }
)


class ResourceCalendar(models.Model):
    _inherit = "resource.calendar"

    def write(self, vals):
        result = super().write(vals)
        if WORKLOAD_FIELDS & vals.keys():
            self._m365_workload_changed()
        return result

    def _m365_workload_changed(self, date_from=None, date_to=None):
        """Schedule the recompute of every user working with these calendars."""
        calendars = self.sudo().exists()
        if not calendars:
            return
        Day = self.env["m365.workload.day"]
        resources = (
            self.env["resource.resource"]
            .sudo()
            .search([("calendar_id", "in", calendars.ids), ("user_id", "!=", False)])
        )
        if resources:
            Day._m365_schedule_recompute(
                users=resources.user_id, date_from=date_from, date_to=date_to
            )
        # Users without a calendar of their own work with their company's.
        companies = (
            self.env["res.company"].sudo().search([("resource_calendar_id", "in", calendars.ids)])
        )
        if companies:
            Day._m365_schedule_recompute(companies=companies, date_from=date_from, date_to=date_to)
