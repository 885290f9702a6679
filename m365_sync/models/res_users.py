"""Users: excluded from busy-time import on request, and workload follows their zone.

An administrator can exclude a user from busy-time import on the user form (an
executive, a works-council member…). Excluding deletes the busy time already
imported for them; their workload days then show no Microsoft 365 busy time.
A change of time zone moves their local days, so their workload is recomputed.
"""

from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    m365_busy_exclude = fields.Boolean(
        string="Exclude from busy-time import",
        help="Do not import this user's Microsoft 365 calendar busy time for workload. "
        "Busy time imported so far is deleted.",
    )

    def write(self, vals):
        rezoned = self.filtered(lambda user: "tz" in vals and user.tz != vals["tz"])
        result = super().write(vals)
        if vals.get("m365_busy_exclude"):
            self.env["m365.busy.slot"]._m365_forget_users(self)
        if rezoned:
            self.env["m365.workload.day"]._m365_schedule_recompute(users=rezoned)
        return result
