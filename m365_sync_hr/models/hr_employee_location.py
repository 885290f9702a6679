"""Exceptional work locations (one date) refresh the employee's Outlook stretches."""

from odoo import api, models


class HrEmployeeLocation(models.Model):
    _inherit = "hr.employee.location"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env["m365.work.location.event"]._m365_refresh(records.employee_id)
        return records

    def write(self, vals):
        before = self.employee_id
        result = super().write(vals)
        self.env["m365.work.location.event"]._m365_refresh(before | self.employee_id)
        return result

    def unlink(self):
        employees = self.employee_id
        result = super().unlink()
        self.env["m365.work.location.event"]._m365_refresh(employees)
        return result
