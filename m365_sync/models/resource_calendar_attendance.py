"""Working-time lines: adding, changing or removing one recomputes workload.

Calendars are usually edited in their form, which saves the lines through the
calendar; lines can also be written directly (imports, other modules). Either
way the calendar's users are recomputed once, before the transaction commits.
"""

from odoo import api, models


class ResourceCalendarAttendance(models.Model):
    _inherit = "resource.calendar.attendance"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.calendar_id._m365_workload_changed()
        return lines

    def write(self, vals):
        calendars = self.calendar_id
        result = super().write(vals)
        (calendars | self.calendar_id)._m365_workload_changed()
        return result

    def unlink(self):
        calendars = self.calendar_id
        result = super().unlink()
        calendars._m365_workload_changed()
        return result
