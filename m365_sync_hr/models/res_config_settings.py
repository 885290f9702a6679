"""Settings → Microsoft 365: the HR block (the tenant's HR switches)."""

from odoo import fields, models

TENANT = "company_id.m365_tenant_id."


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    m365_hr_absence_export = fields.Boolean(related=TENANT + "hr_absence_export", readonly=False)
    m365_hr_absence_show_type = fields.Boolean(
        related=TENANT + "hr_absence_show_type", readonly=False
    )
    m365_hr_auto_replies = fields.Boolean(related=TENANT + "hr_auto_replies", readonly=False)
    m365_hr_auto_reply_message = fields.Char(
        related=TENANT + "hr_auto_reply_message", readonly=False
    )
    m365_hr_location_export = fields.Boolean(related=TENANT + "hr_location_export", readonly=False)
    m365_hr_default_location_id = fields.Many2one(
        related=TENANT + "hr_default_location_id", readonly=False
    )
    m365_hr_location_days = fields.Integer(related=TENANT + "hr_location_days", readonly=False)
    m365_hr_absence_import = fields.Boolean(related=TENANT + "hr_absence_import", readonly=False)
    m365_hr_absence_threshold_hours = fields.Float(
        related=TENANT + "hr_absence_threshold_hours", readonly=False
    )
    m365_hr_absence_leave_type_id = fields.Many2one(
        related=TENANT + "hr_absence_leave_type_id", readonly=False
    )
