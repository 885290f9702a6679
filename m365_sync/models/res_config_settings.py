"""Settings → Microsoft 365: the current company's tenant, edited in place.

Every field but the client secret is a related field on the company's
``m365.tenant``. The secret is a plain transient field: it is always empty
when the page loads (the stored secret is never sent to the browser) and, when
an administrator types a value, ``set_values`` stores it on the tenant.
"""

from odoo import fields, models

from .m365_sync_run import DEFAULT_RETENTION_DAYS, RETENTION_PARAM

TENANT = "company_id.m365_tenant_id."


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    m365_tenant_id = fields.Many2one(related="company_id.m365_tenant_id")
    m365_azure_tenant = fields.Char(related=TENANT + "azure_tenant", readonly=False)
    m365_client_id = fields.Char(related=TENANT + "client_id", readonly=False)
    m365_client_secret = fields.Char(
        string="Client secret",
        help="Type a client secret of the app registration to store or replace it. The "
        "saved secret is never shown.",
    )
    m365_client_secret_set = fields.Boolean(related=TENANT + "client_secret_set")
    m365_authority_host = fields.Char(related=TENANT + "authority_host", readonly=False)
    m365_graph_url = fields.Char(related=TENANT + "graph_url", readonly=False)
    m365_ca_bundle = fields.Char(related=TENANT + "ca_bundle", readonly=False)
    m365_http_timeout = fields.Integer(related=TENANT + "http_timeout", readonly=False)
    m365_contact_sync = fields.Boolean(related=TENANT + "contact_sync", readonly=False)
    m365_busy_sync = fields.Boolean(related=TENANT + "busy_sync", readonly=False)
    m365_personal_sync = fields.Boolean(related=TENANT + "personal_sync", readonly=False)
    m365_project_export = fields.Boolean(related=TENANT + "project_export", readonly=False)
    m365_room_sync = fields.Boolean(related=TENANT + "room_sync", readonly=False)
    m365_contact_interval_hours = fields.Integer(
        related=TENANT + "contact_interval_hours", readonly=False
    )
    m365_contact_include_guests = fields.Boolean(
        related=TENANT + "contact_include_guests", readonly=False
    )
    m365_contact_parent_company = fields.Boolean(
        related=TENANT + "contact_parent_company", readonly=False
    )
    m365_contact_delta_date = fields.Datetime(related=TENANT + "contact_delta_date")
    m365_busy_interval_minutes = fields.Integer(
        related=TENANT + "busy_interval_minutes", readonly=False
    )
    m365_personal_interval_minutes = fields.Integer(
        related=TENANT + "personal_interval_minutes", readonly=False
    )
    m365_busy_past_days = fields.Integer(related=TENANT + "busy_past_days", readonly=False)
    m365_busy_future_days = fields.Integer(related=TENANT + "busy_future_days", readonly=False)
    m365_busy_mode = fields.Selection(related=TENANT + "busy_mode", readonly=False)
    m365_personal_days_back = fields.Integer(related=TENANT + "personal_days_back", readonly=False)
    m365_personal_days_ahead = fields.Integer(
        related=TENANT + "personal_days_ahead", readonly=False
    )
    m365_personal_failure_threshold = fields.Integer(
        related=TENANT + "personal_failure_threshold", readonly=False
    )
    m365_personal_notify_managers = fields.Boolean(
        related=TENANT + "personal_notify_managers", readonly=False
    )
    m365_personal_conflict_count = fields.Integer(related=TENANT + "personal_conflict_count")
    m365_connection_state = fields.Selection(related=TENANT + "connection_state")
    m365_last_check = fields.Datetime(related=TENANT + "last_check")
    m365_last_check_message = fields.Text(related=TENANT + "last_check_message")
    m365_permission_ids = fields.One2many(related=TENANT + "permission_ids")
    m365_admin_consent_url = fields.Char(related=TENANT + "admin_consent_url")
    m365_run_retention_days = fields.Integer(
        string="Keep sync runs (days)",
        config_parameter=RETENTION_PARAM,
        default=DEFAULT_RETENTION_DAYS,
    )

    def set_values(self):
        res = super().set_values()
        secret = (self.m365_client_secret or "").strip()
        if secret:
            self.company_id.m365_tenant_id.sudo().client_secret = secret
            # Never keep the typed secret on the transient record.
            self.m365_client_secret = False
        return res

    def action_m365_sync_contacts(self):
        self.ensure_one()
        self.execute()
        return self.company_id.m365_tenant_id.action_m365_sync_contacts()

    def action_m365_test_connection(self):
        self.ensure_one()
        self.execute()
        return self.company_id.m365_tenant_id.action_test_connection()

    def action_m365_sync_busy_now(self):
        self.ensure_one()
        self.execute()
        return self.company_id.m365_tenant_id.action_m365_sync_busy_now()
