"""Resources: a user's working-time calendar or time zone changed, or was set.

``res.users.resource_calendar_id`` is stored on the user's resource, so this is
where a user's switch to another calendar shows up.
"""

from odoo import api, models


class ResourceResource(models.Model):
    _inherit = "resource.resource"

    @api.model_create_multi
    def create(self, vals_list):
        resources = super().create(vals_list)
        resources._m365_workload_changed()
        return resources

    def write(self, vals):
        before = self.sudo().user_id
        result = super().write(vals)
        if {"calendar_id", "tz", "user_id", "company_id"} & vals.keys():
            self._m365_workload_changed(before)
        return result

    def _m365_workload_changed(self, users=None):
        users = (users or self.env["res.users"]) | self.sudo().user_id
        if users:
            self.env["m365.workload.day"]._m365_schedule_recompute(users=users)
