"""Settings → Microsoft 365: the current company's tenant, edited in place.

Every field but the client secret is a related field on the company's
``m365.tenant``. The secret is not stored on the settings record at all: the
field is computed (always empty, so neither the page nor ``web_save``'s answer
ever carries a secret) and its inverse hands a typed value to the tenant as the
secret *to test* (``client_secret_pending``, encrypted like the secret in use).
Save (``set_values``) puts it in use; Test connection tries it first and puts it
in use only when Microsoft accepts it, so a mistyped secret never replaces a
working one.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .jobs.m365_job_busy import AUTO_SHARD_USERS, MAX_SHARDS, SHARDS_PARAM
from .m365_sync_run import DEFAULT_RETENTION_DAYS, RETENTION_PARAM

TENANT = "company_id.m365_tenant_id."


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    m365_tenant_id = fields.Many2one(related="company_id.m365_tenant_id")
    # Company defaults of the Teams switch and the privacy/upload rules.
    m365_teams_default = fields.Boolean(related="company_id.m365_teams_default", readonly=False)
    m365_private_upload = fields.Selection(related="company_id.m365_private_upload", readonly=False)
    m365_upload_domain = fields.Char(related="company_id.m365_upload_domain", readonly=False)
    m365_upload_from_today = fields.Boolean(
        related="company_id.m365_upload_from_today", readonly=False
    )
    m365_private_as_busy = fields.Boolean(related="company_id.m365_private_as_busy", readonly=False)
    m365_tentative_busy = fields.Boolean(related="company_id.m365_tentative_busy", readonly=False)
    m365_azure_tenant = fields.Char(related=TENANT + "azure_tenant", readonly=False)
    m365_client_id = fields.Char(related=TENANT + "client_id", readonly=False)
    m365_client_secret = fields.Char(
        string="Client secret",
        compute="_compute_m365_client_secret",
        inverse="_inverse_m365_client_secret",
        help="Type a client secret of the app registration to store or replace it. Save "
        "puts it in use; Test connection puts it in use only if Microsoft accepts it. The "
        "saved secret is never shown.",
    )
    m365_client_secret_set = fields.Boolean(related=TENANT + "client_secret_set")
    m365_client_secret_hint = fields.Char(related=TENANT + "client_secret_hint")
    m365_client_secret_date = fields.Datetime(related=TENANT + "client_secret_date")
    m365_secrets_encrypted = fields.Boolean(
        string="Secrets encrypted", compute="_compute_m365_encryption"
    )
    m365_encryption_problem = fields.Char(compute="_compute_m365_encryption")
    m365_authority_host = fields.Char(related=TENANT + "authority_host", readonly=False)
    m365_graph_url = fields.Char(related=TENANT + "graph_url", readonly=False)
    m365_ca_bundle = fields.Char(related=TENANT + "ca_bundle", readonly=False)
    m365_http_timeout = fields.Integer(related=TENANT + "http_timeout", readonly=False)
    m365_contact_sync = fields.Boolean(related=TENANT + "contact_sync", readonly=False)
    m365_busy_sync = fields.Boolean(related=TENANT + "busy_sync", readonly=False)
    m365_personal_sync = fields.Boolean(related=TENANT + "personal_sync", readonly=False)
    m365_project_export = fields.Boolean(related=TENANT + "project_export", readonly=False)
    m365_room_sync = fields.Boolean(related=TENANT + "room_sync", readonly=False)
    m365_room_interval_minutes = fields.Integer(
        related=TENANT + "room_interval_minutes", readonly=False
    )
    m365_room_days_ahead = fields.Integer(related=TENANT + "room_days_ahead", readonly=False)
    m365_room_show_titles = fields.Boolean(related=TENANT + "room_show_titles", readonly=False)
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
    m365_notifications_enabled = fields.Boolean(
        related=TENANT + "notifications_enabled", readonly=False
    )
    m365_notification_base_url = fields.Char(
        related=TENANT + "notification_base_url", readonly=False
    )
    m365_notification_poll_minutes = fields.Integer(
        related=TENANT + "notification_poll_minutes", readonly=False
    )
    m365_notifications_active = fields.Boolean(related=TENANT + "notifications_active")
    m365_notifications_status = fields.Char(related=TENANT + "notifications_status")
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
    m365_admin_consent_state = fields.Selection(related=TENANT + "admin_consent_state")
    m365_admin_consent_date = fields.Datetime(related=TENANT + "admin_consent_date")
    m365_admin_consent_message = fields.Text(related=TENANT + "admin_consent_message")
    m365_test_requested = fields.Boolean(compute="_compute_m365_test_requested")
    m365_run_retention_days = fields.Integer(
        string="Keep sync runs (days)",
        config_parameter=RETENTION_PARAM,
        default=DEFAULT_RETENTION_DAYS,
    )
    m365_busy_shards = fields.Integer(
        string="Busy-time shards",
        config_parameter=SHARDS_PARAM,
        default=0,
        help="A company's busy-time import is split into this many units (users by id "
        "modulo this number, 1 to 64): run one after the other by the cron, in parallel "
        "on several Odoo servers with the job queue (m365_sync_queue). 0: one per 250 users.",
    )

    @api.constrains("m365_run_retention_days")
    def _check_m365_run_retention_days(self):
        for settings in self:
            if settings.m365_run_retention_days < 1:
                raise ValidationError(
                    self.env._(
                        "Keep sync runs for at least 1 day (got %(days)s).",
                        days=settings.m365_run_retention_days,
                    )
                )

    @api.constrains("m365_busy_shards")
    def _check_m365_busy_shards(self):
        for settings in self:
            if not 0 <= settings.m365_busy_shards <= MAX_SHARDS:
                raise ValidationError(
                    self.env._(
                        "Busy-time shards: from 1 to %(max)s, or 0 for one per %(users)s "
                        "users (got %(count)s).",
                        users=AUTO_SHARD_USERS,
                        max=MAX_SHARDS,
                        count=settings.m365_busy_shards,
                    )
                )

    def _compute_m365_client_secret(self):
        self.m365_client_secret = False  # write-only: never sent back to the browser

    def _inverse_m365_client_secret(self):
        for settings in self:
            secret = (settings.m365_client_secret or "").strip()
            tenant = settings.company_id.m365_tenant_id
            if secret and tenant:
                if not self.env.user.has_group("base.group_system"):
                    raise UserError(
                        self.env._("Only Settings administrators set the client secret.")
                    )
                tenant.sudo().client_secret_pending = secret
        # Not even the answer to this save (web_save reads the record back) carries it.
        self.invalidate_recordset(["m365_client_secret"])

    def _compute_m365_encryption(self):
        try:
            encrypted, problem = self.env["m365.tenant"]._m365_encryption_enabled(), False
        except UserError as exc:
            encrypted, problem = False, str(exc)
        self.m365_secrets_encrypted = encrypted
        self.m365_encryption_problem = problem

    def set_values(self):
        res = super().set_values()
        tenant = self.company_id.m365_tenant_id.sudo()
        if not self.env.context.get("m365_test_secret") and tenant.client_secret_pending:
            # Save: the typed secret is put in use without a test.
            tenant.client_secret = tenant.client_secret_pending
        return res

    def action_m365_reencrypt_secrets(self):
        """Encrypt every stored secret with the current key (rotation, or a first key)."""
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise UserError(self.env._("Only Settings administrators re-encrypt secrets."))
        self.execute()
        Tenant = self.env["m365.tenant"]
        if not Tenant._m365_encryption_enabled():
            raise UserError(
                self.env._(
                    "No encryption key is configured: set m365_sync_key in the Odoo server "
                    "configuration (or M365_SYNC_KEY in its environment) and restart Odoo."
                )
            )
        rewritten, _failed = Tenant._m365_reencrypt_secrets()
        return self.company_id.m365_tenant_id._m365_notify(
            self.env._(
                "%(count)s secret(s) re-encrypted with the current key; the others already were.",
                count=rewritten,
            ),
            "success",
        )

    def action_m365_sync_contacts(self):
        self.ensure_one()
        self.execute()
        return self.company_id.m365_tenant_id.action_m365_sync_contacts()

    def action_m365_test_connection(self):
        """Save the page, then test in the background (the page never waits for Microsoft)."""
        self.ensure_one()
        # The other settings are saved; a typed secret is only tried (see the tenant).
        self.with_context(m365_test_secret=True).execute()
        return self.company_id.m365_tenant_id.action_m365_test_connection_background()

    def action_m365_admin_consent(self):
        """Save the page, then open Microsoft's admin-consent page (it comes back to Settings)."""
        self.ensure_one()
        self.execute()
        return self.company_id.m365_tenant_id.action_m365_admin_consent()

    @api.depends("company_id")
    def _compute_m365_test_requested(self):
        for settings in self:
            settings.m365_test_requested = bool(
                settings.company_id.m365_tenant_id.sudo().test_requested_by
            )

    def action_m365_sync_busy_now(self):
        self.ensure_one()
        self.execute()
        return self.company_id.m365_tenant_id.action_m365_sync_busy_now()
