"""The tenant's HR switches: time off and work location up, Outlook absences down.

Why this file exists: the HR features are configured per company like every
m365_sync feature (a tenant is one company's), and *Test connection* lists their
permissions (``m365_graph.identity.permissions``: ``hr_absences``,
``hr_absences_down``) once they are switched on.
"""

from odoo import fields, models


class M365Tenant(models.Model):
    _inherit = "m365.tenant"

    hr_absence_export = fields.Boolean(
        string="Time off to Outlook",
        help="Validated time off appears in the employee's Outlook calendar as Away (out "
        "of office), category Odoo; refused or cancelled time off is removed.",
    )
    hr_absence_show_type = fields.Boolean(
        string="Name the time off type",
        help="Use the time off type as the Outlook title (e.g. 'Paid time off'). Off: "
        "'Out of office' (a type may say more than colleagues should see).",
    )
    hr_auto_replies = fields.Boolean(
        string="Schedule automatic replies",
        help="Validated time off also schedules the employee's Outlook automatic replies "
        "for the same period (application permission MailboxSettings.ReadWrite). "
        "Automatic replies the employee set in Outlook are never changed.",
    )
    hr_auto_reply_message = fields.Char(
        string="Automatic reply",
        default="I am out of the office and will reply when I am back.",
        translate=True,
    )
    hr_location_export = fields.Boolean(
        string="Work location to Outlook",
        help="Each stretch of days at home or at another office than the default one "
        "becomes one all-day Outlook event shown as Working elsewhere.",
    )
    hr_default_location_id = fields.Many2one(
        "hr.work.location",
        string="Default work location",
        help="Days at this location send nothing to Outlook.",
    )
    hr_location_days = fields.Integer(
        string="Work location: days ahead",
        default=28,
        required=True,
        help="How many days ahead work locations are sent.",
    )
    hr_absence_import = fields.Boolean(
        string="Outlook absences to time off requests",
        help="Outlook appointments shown as Away (out of office), all-day or longer than "
        "the threshold, become time off requests (To Approve) for the employee's manager. "
        "They are never approved automatically. Needs the busy-time import.",
    )
    hr_absence_threshold_hours = fields.Float(
        string="Absence threshold (hours)",
        default=4.0,
        help="Shorter out-of-office appointments are left alone (they still count as busy "
        "in the workload).",
    )
    hr_absence_leave_type_id = fields.Many2one(
        "hr.leave.type",
        string="Time off type of requests from Outlook",
    )

    _hr_location_days_range = models.Constraint(
        "CHECK(hr_location_days BETWEEN 1 AND 366)",
        "Work locations are sent 1 to 366 days ahead.",
    )

    def _m365_enabled_features(self):
        features = super()._m365_enabled_features()
        if self.hr_absence_export or self.hr_location_export:
            features.append("hr_absences")
        if self.hr_absence_import:
            features.append("hr_absences_down")
        if self.hr_auto_replies:
            features.append("hr_auto_replies")
        return features
