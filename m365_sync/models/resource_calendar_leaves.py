"""Time off and public holidays: they reduce workload capacity on their days.

A leave of one resource recomputes its user; a public holiday (no resource)
recomputes every user of its calendar, or of its company when it has none —
only on the days it covers.
"""

from datetime import timedelta

from odoo import api, models


class ResourceCalendarLeaves(models.Model):
    _inherit = "resource.calendar.leaves"

    @api.model_create_multi
    def create(self, vals_list):
        leaves = super().create(vals_list)
        leaves._m365_workload_changed()
        return leaves

    def write(self, vals):
        self._m365_workload_changed()
        result = super().write(vals)
        self._m365_workload_changed()
        return result

    def unlink(self):
        self._m365_workload_changed()
        return super().unlink()

    def _m365_workload_changed(self):
        Day = self.env["m365.workload.day"]
        for leave in self.sudo():
            if not (leave.date_from and leave.date_to):
                continue
            # A day either side: the leave's local days may differ from its UTC dates.
            date_from = leave.date_from.date() - timedelta(days=1)
            date_to = leave.date_to.date() + timedelta(days=1)
            if leave.resource_id:
                if leave.resource_id.user_id:
                    Day._m365_schedule_recompute(
                        users=leave.resource_id.user_id, date_from=date_from, date_to=date_to
                    )
            elif leave.calendar_id:
                leave.calendar_id._m365_workload_changed(date_from=date_from, date_to=date_to)
            else:
                # A leave of no calendar and no company: every company's users.
                Day._m365_schedule_recompute(
                    companies=leave.company_id or None, date_from=date_from, date_to=date_to
                )
