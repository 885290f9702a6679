"""Employees: a change of their weekly work locations refreshes their Outlook stretches,
and the automatic-reply schedule Odoo set for them is remembered."""

from odoo import fields, models

from .m365_work_location_event import DAYS


class HrEmployee(models.Model):
    _inherit = "hr.employee"

    m365_auto_reply_key = fields.Char(
        string="Automatic replies scheduled by Odoo",
        readonly=True,
        copy=False,
        groups="hr.group_hr_user",
        help="The period of the Outlook automatic replies Odoo scheduled last (so that it "
        "only ever changes its own schedule).",
    )

    def write(self, vals):
        result = super().write(vals)
        if set(DAYS).intersection(vals) or "user_id" in vals:
            self.env["m365.work.location.event"]._m365_refresh(self)
        return result
