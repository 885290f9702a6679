"""Employees: a change of their weekly work locations refreshes their Outlook stretches."""

from odoo import models

from .m365_work_location_event import DAYS


class HrEmployee(models.Model):
    _inherit = "hr.employee"

    def write(self, vals):
        result = super().write(vals)
        if set(DAYS).intersection(vals) or "user_id" in vals:
            self.env["m365.work.location.event"]._m365_refresh(self)
        return result
