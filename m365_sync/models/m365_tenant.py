"""The Microsoft 365 tenant an Odoo company is connected to.

One record per company holds what every feature needs to reach Microsoft
Graph: the Entra ID (Azure AD) tenant, the app registration's client id and
secret, the identity-platform and Graph base URLs (Microsoft's public cloud by
default; a national cloud or the m365_sandbox emulator otherwise), the feature
switches and their intervals, and the result of the last "Test connection".

Odoo code never talks to Graph directly: it builds an ``m365_graph`` client
from this record (:meth:`_m365_graph_client`) and asks it for typed results.
"""

import logging
import re
import secrets
import time
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.misc import format_datetime

from m365_graph import (
    AUTHORITY_PUBLIC,
    GRAPH_PUBLIC,
    AppTokenProvider,
    GraphClient,
    GraphError,
    TenantConfig,
    check_connection,
)
from m365_graph.core.config import is_guid
from m365_graph.identity.permissions import admin_consent_url

from .m365_secret_mixin import EncryptedChar

_logger = logging.getLogger(__name__)

#: Microsoft's admin-consent page answers here (a redirect URI of the app registration).
ADMIN_CONSENT_PATH = "/m365_sync/admin_consent/callback"
#: Seconds an administrator has to answer the admin-consent page.
ADMIN_CONSENT_LIFETIME = 1800
#: Settings → Microsoft 365 → Permissions (the consent and test results).
SETTINGS_URL = "/odoo/settings#m365_permissions"


def https_url_problem(url):
    """Why ``url`` is not a plain https URL (scheme, host, no user, query or fragment)."""
    if not url:
        return "it is empty"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises ValueError on a malformed port
    except ValueError as exc:
        return str(exc)
    if parts.scheme != "https":
        return "it must start with https://"
    if not parts.hostname or any(c.isspace() for c in url):
        return "it has no valid host name"
    if parts.username or parts.password:
        return "it must not contain a user name or password"
    if parts.query or parts.fragment:
        return "it must not contain ? or #"
    return None


# A verified domain: labels of letters, digits and hyphens, at least one dot.
DOMAIN_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)

#: feature switch field -> the m365_graph.identity.permissions features it needs
FEATURE_FIELDS = {
    "contact_sync": ("contacts",),
    "busy_sync": ("busy_time",),
    "personal_sync": ("personal_sync",),
    # The assignee's calendar is written with the application permission, or else
    # through the assigner's delegated access to a shared calendar.
    "project_export": ("activity_export", "shared_calendars"),
    # Rooms: the room list (Place.Read.All) and the room calendars (Calendars.ReadWrite).
    "room_sync": ("rooms",),
}

#: Switches that decide which calendars change notifications watch.
WATCHED_SWITCHES = frozenset(
    {"busy_sync", "personal_sync", "room_sync", "notifications_enabled", "notification_base_url"}
)


class M365Tenant(models.Model):
    _name = "m365.tenant"
    _description = "Microsoft 365 Tenant"
    _inherit = ["m365.secret.mixin"]
    _order = "company_id"
    _m365_secret_fields = ("client_secret", "client_secret_pending")

    company_id = fields.Many2one(
        "res.company",
        required=True,
        ondelete="cascade",
        index=True,
        default=lambda self: self.env.company,
    )
    active = fields.Boolean(default=True)
    azure_tenant = fields.Char(
        groups="base.group_system",
        string="Tenant ID",
        help="Directory (tenant) ID of the app registration, a GUID, or one of the "
        "tenant's verified domains such as contoso.onmicrosoft.com.",
    )
    client_id = fields.Char(
        groups="base.group_system",
        string="Application (client) ID",
        help="The app registration's Application (client) ID, a GUID.",
    )
    client_secret = EncryptedChar(
        string="Client secret",
        groups="base.group_system",
        copy=False,
        exportable=False,
        prefetch=False,
        help="The client secret in use. Write-only and encrypted at rest: nobody reads it "
        "back, the sync uses it on the server.",
    )
    client_secret_pending = EncryptedChar(
        string="Client secret to test",
        groups="base.group_system",
        copy=False,
        exportable=False,
        prefetch=False,
        help="A secret typed in Settings and not saved yet: Test connection tries it and "
        "puts it in use only when Microsoft accepts it; Save puts it in use at once.",
    )
    client_secret_input = fields.Char(
        string="New client secret",
        groups="base.group_system",
        compute="_compute_client_secret_input",
        inverse="_inverse_client_secret_input",
        help="Type a client secret of the app registration to store or replace it. The "
        "saved secret is never shown.",
    )
    client_secret_set = fields.Boolean(
        string="Client secret is set", compute="_compute_client_secret_set"
    )
    client_secret_hint = fields.Char(
        string="Secret in use",
        groups="base.group_system",
        readonly=True,
        copy=False,
        help="The first three characters of the secret in use, as Microsoft Entra shows "
        "them in the app registration's Certificates & secrets page.",
    )
    client_secret_date = fields.Datetime(
        string="Secret saved on", groups="base.group_system", readonly=True, copy=False
    )
    authority_host = fields.Char(
        groups="base.group_system",
        string="Identity platform URL",
        required=True,
        default=AUTHORITY_PUBLIC,
        help="Base URL of the Microsoft identity platform. Change only for a national "
        "cloud (e.g. https://login.microsoftonline.us) or the m365_sandbox emulator.",
    )
    graph_url = fields.Char(
        groups="base.group_system",
        string="Microsoft Graph URL",
        required=True,
        default=GRAPH_PUBLIC,
        help="Base URL of Microsoft Graph including the version, e.g. "
        "https://graph.microsoft.com/v1.0.",
    )
    ca_bundle = fields.Char(
        groups="base.group_system",
        string="CA bundle",
        help="Path on the Odoo server of a PEM file with the certificate authorities to "
        "trust for the two URLs above. Empty: the system's trust store.",
    )
    http_timeout = fields.Integer(
        groups="base.group_system",
        string="HTTP time-out (s)",
        default=30,
        help="How long to wait for Microsoft to accept a connection and to answer one "
        "request (each try). Every job and Test connection use this one value; Test "
        "connection and Sync now run in the background, so no screen waits for it.",
    )

    # Feature switches and their schedules.
    contact_sync = fields.Boolean(string="Contact sync")
    busy_sync = fields.Boolean(string="Calendar busy time")
    personal_sync = fields.Boolean(string="Personal calendar sync")
    project_export = fields.Boolean(
        string="Project activities to Outlook",
        help="Projects may send the activities of their tasks to the assignee's Outlook "
        "calendar (each project is switched on in its Third-party systems tab).",
    )
    room_sync = fields.Boolean(
        string="Room calendars",
        help="Import the tenant's rooms, show their bookings and let appointments book them.",
    )
    room_interval_minutes = fields.Integer(
        string="Room calendars every (minutes)", default=15, required=True
    )
    room_days_ahead = fields.Integer(
        string="Room bookings: days ahead",
        default=60,
        required=True,
        help="How many days ahead the room calendars are read.",
    )
    room_show_titles = fields.Boolean(
        string="Show booking titles of new rooms",
        help="New rooms show the titles of their bookings (each room can change it). "
        "Off: only the time and the organiser are shown.",
    )
    room_listed_at = fields.Datetime(string="Rooms listed", readonly=True, copy=False)
    contact_interval_hours = fields.Integer(
        string="Contact sync every (hours)", default=24, required=True
    )
    # When “Sync busy time now” was last pressed (epoch seconds, like the runs'
    # start_ts: a run started in the same second must not count as after the press):
    # every shard whose last run started before is due at once.
    busy_requested_ts = fields.Float(readonly=True, copy=False)
    busy_interval_minutes = fields.Integer(
        string="Busy time every (minutes)", default=15, required=True
    )
    personal_interval_minutes = fields.Integer(
        string="Personal sync every (minutes)", default=30, required=True
    )
    # Busy time for workload: window, calculation mode, category rules.
    busy_past_days = fields.Integer(
        string="Busy time: past days",
        default=7,
        required=True,
        help="How many days back each busy-time import reads (and keeps up to date).",
    )
    busy_future_days = fields.Integer(
        string="Busy time: future days",
        default=90,
        required=True,
        help="How many days ahead each busy-time import reads.",
    )
    busy_mode = fields.Selection(
        [("exact", "Exact working times"), ("daily", "Daily working hours")],
        string="Workload calculation",
        default="exact",
        required=True,
        help="Exact working times: an appointment counts only for the part inside the "
        "user's working hours (working time 09:00-17:00, appointment 16:00-18:00: 1 hour). "
        "Daily working hours: every appointment counts in full, whenever it is (2 hours). "
        "In both modes overlapping appointments count once and an all-day appointment "
        "counts as that day's working hours.",
    )
    category_rule_ids = fields.One2many("m365.category.rule", "tenant_id", string="Category rules")

    # Contact sync (m365.job.contacts): options and the users-delta state.
    contact_include_guests = fields.Boolean(
        string="Include guest users",
        help="Also synchronise guest users (people from other organisations invited to "
        "the tenant). Changing this reads the whole directory again at the next run.",
    )
    contact_parent_company = fields.Boolean(
        string="File contacts under the company",
        help="New contacts are created as contacts of this company's partner (with its "
        "address). Existing contacts keep their company.",
    )
    contact_delta_link = fields.Char(
        string="Contacts delta link",
        groups="base.group_system",
        copy=False,
        readonly=True,
        help="Where the next contact sync continues in the directory (set after each "
        "complete run). Empty: the next run reads every user.",
    )
    contact_delta_date = fields.Datetime(
        string="Contacts complete up to", copy=False, readonly=True
    )
    contact_delta_key = fields.Char(groups="base.group_system", copy=False, readonly=True)

    # Personal sync ("My User Options"): the window read and who hears of failures.
    personal_days_back = fields.Integer(
        string="Appointments from (days back)",
        default=30,
        required=True,
        help="Personal sync imports Outlook appointments from this many days in the past.",
    )
    personal_days_ahead = fields.Integer(
        string="Appointments until (days ahead)",
        default=365,
        required=True,
        help="Personal sync imports Outlook appointments up to this many days ahead.",
    )
    personal_failure_threshold = fields.Integer(
        string="E-mail after (failed runs)",
        default=3,
        required=True,
        help="After this many failed runs in a row, the owner of the account receives one "
        "e-mail for the streak (a sign-in that must be renewed is reported at once); the "
        "Microsoft 365 managers likewise for the contact sync and the busy-time import.",
    )
    personal_notify_managers = fields.Boolean(
        string="Also e-mail Microsoft 365 managers",
        help="Send the failure e-mails of personal sync to the Microsoft 365 managers of "
        "the company too.",
    )
    personal_conflict_count = fields.Integer(
        string="Users synchronised twice",
        compute="_compute_personal_conflict_count",
        help="Users whose calendar is pulled by this module and also synchronised by "
        "Odoo's own Outlook Calendar app (microsoft_calendar).",
    )

    # Result of the last "Test connection".
    connection_state = fields.Selection(
        [
            ("unchecked", "Not tested"),
            ("ok", "Connected"),
            ("missing", "Permissions missing"),
            ("error", "Connection failed"),
        ],
        string="Connection",
        default="unchecked",
        required=True,
        readonly=True,
        copy=False,
    )
    last_check = fields.Datetime(
        string="Last tested", readonly=True, copy=False, groups="base.group_system"
    )
    last_check_message = fields.Text(
        string="Test result", readonly=True, copy=False, groups="base.group_system"
    )
    granted_roles = fields.Char(
        string="Granted application permissions",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    permission_ids = fields.One2many(
        "m365.tenant.permission",
        "tenant_id",
        string="Permissions",
        readonly=True,
        groups="base.group_system",
    )
    admin_consent_url = fields.Char(
        groups="base.group_system",
        string="Admin consent link",
        compute="_compute_admin_consent_url",
        help="Opens Microsoft's page where an administrator of the tenant grants the app "
        "the application permissions it asks for.",
    )
    is_configured = fields.Boolean(compute="_compute_is_configured")
    # Change notifications (m365.subscription, controllers/webhook.py).
    notifications_enabled = fields.Boolean(
        string="Change notifications",
        default=True,
        help="Ask Microsoft 365 to tell Odoo at once when an appointment changes (webhooks), "
        "instead of waiting for the next scheduled read. Needs a public https URL of Odoo.",
    )
    notification_base_url = fields.Char(
        string="Public URL for notifications",
        help="The https address Microsoft 365 reaches this Odoo at, e.g. "
        "https://odoo.example.com. Empty: Odoo's own address (web.base.url).",
    )
    notification_poll_minutes = fields.Integer(
        string="Safety poll while notified (minutes)",
        default=240,
        help="While change notifications are active, the scheduled reads run this rarely, "
        "as a safety net (a lost notification is caught then).",
    )
    notifications_active = fields.Boolean(compute="_compute_notifications_status")
    notifications_status = fields.Char(compute="_compute_notifications_status")
    # Test connection runs in the background (it may wait for Microsoft up to the
    # HTTP time-out per request): who asked, to tell them the result on the bus.
    test_requested_by = fields.Many2one(
        "res.users", readonly=True, copy=False, groups="base.group_system", ondelete="set null"
    )
    # The last answer of Microsoft's admin-consent page (/m365_sync/admin_consent/callback).
    admin_consent_state = fields.Selection(
        [("granted", "Granted"), ("refused", "Not granted")],
        string="Admin consent",
        readonly=True,
        copy=False,
        groups="base.group_system",
    )
    admin_consent_date = fields.Datetime(
        string="Admin consent answered on", readonly=True, copy=False, groups="base.group_system"
    )
    admin_consent_message = fields.Text(
        string="Admin consent result", readonly=True, copy=False, groups="base.group_system"
    )
    admin_consent_nonce = fields.Char(readonly=True, copy=False, groups="base.group_system")

    _company_uniq = models.Constraint(
        "UNIQUE(company_id)", "A company is connected to one Microsoft 365 tenant only."
    )
    _busy_interval_range = models.Constraint(
        "CHECK(busy_interval_minutes BETWEEN 10 AND 60)",
        "Busy time is imported every 10 to 60 minutes.",
    )
    _notification_poll_range = models.Constraint(
        "CHECK(notification_poll_minutes BETWEEN 30 AND 1440)",
        "The safety poll runs every 30 to 1440 minutes.",
    )
    _personal_interval_min = models.Constraint(
        "CHECK(personal_interval_minutes >= 30)",
        "Personal calendars are synchronised at most every 30 minutes.",
    )
    _personal_window = models.Constraint(
        "CHECK(personal_days_back BETWEEN 0 AND 3650 AND personal_days_ahead BETWEEN 1 AND 3650)",
        "Personal sync reads 0 to 3650 days back and 1 to 3650 days ahead.",
    )
    _personal_threshold = models.Constraint(
        "CHECK(personal_failure_threshold >= 1)",
        "Send the failure e-mail after at least one failed run.",
    )
    _contact_interval_min = models.Constraint(
        "CHECK(contact_interval_hours >= 1)", "Contacts are synchronised at most every hour."
    )
    _busy_window_range = models.Constraint(
        "CHECK(busy_past_days BETWEEN 0 AND 90 AND busy_future_days BETWEEN 1 AND 365)",
        "Busy time reads 0 to 90 past days and 1 to 365 future days.",
    )
    _timeout_positive = models.Constraint(
        "CHECK(http_timeout BETWEEN 1 AND 600)", "The HTTP time-out is 1 to 600 seconds."
    )

    @api.depends("company_id.name", "azure_tenant")
    def _compute_display_name(self):
        for tenant in self:
            tenant.display_name = self.env._(
                "%(company)s — %(tenant)s",
                company=tenant.company_id.name,
                tenant=tenant.sudo().azure_tenant or self.env._("not configured"),
            )

    def _compute_personal_conflict_count(self):
        Account = self.env["m365.account"].sudo()
        for tenant in self:
            accounts = Account.search([("tenant_id", "=", tenant.id)])
            tenant.personal_conflict_count = len(accounts.filtered("ms_calendar_conflict").user_id)

    def _compute_client_secret_set(self):
        stored = self._m365_secret_stored("client_secret")
        for tenant in self:
            tenant.client_secret_set = tenant.id in stored

    def _compute_client_secret_input(self):
        self.client_secret_input = False  # write-only: the form never shows a secret

    def _inverse_client_secret_input(self):
        for tenant in self:
            if tenant.client_secret_input:
                tenant.client_secret = tenant.client_secret_input
        self.invalidate_recordset(["client_secret_input"])

    @api.depends("azure_tenant", "client_id", "authority_host")
    def _compute_admin_consent_url(self):
        for tenant in self:
            tenant.admin_consent_url = (
                admin_consent_url(
                    tenant.authority_host,
                    tenant.azure_tenant,
                    tenant.client_id,
                    redirect_uri=tenant._m365_admin_consent_redirect_uri(),
                )
                if tenant.azure_tenant and tenant.client_id and tenant.authority_host
                else False
            )

    def _m365_admin_consent_redirect_uri(self):
        """Where Microsoft's admin-consent page sends the administrator back to."""
        return self.get_base_url().rstrip("/") + ADMIN_CONSENT_PATH

    @api.depends("azure_tenant", "client_id")
    def _compute_is_configured(self):
        for tenant in self:
            tenant.is_configured = bool(
                tenant.sudo().azure_tenant
                and tenant.sudo().client_id
                and tenant.id in tenant._m365_secret_stored("client_secret")
            )

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    @api.constrains("azure_tenant")
    def _check_azure_tenant(self):
        for tenant in self.filtered("azure_tenant"):
            value = tenant.azure_tenant.strip()
            if not (is_guid(value) or DOMAIN_RE.match(value)):
                raise ValidationError(
                    self.env._(
                        "“%(value)s” is not a tenant ID. Enter the Directory (tenant) ID "
                        "shown on the app registration's overview (a GUID such as "
                        "72f988bf-86f1-41af-91ab-2d7cd011db47) or a verified domain "
                        "(contoso.onmicrosoft.com).",
                        value=value,
                    )
                )

    @api.constrains("client_id")
    def _check_client_id(self):
        for tenant in self.filtered("client_id"):
            if not is_guid(tenant.client_id.strip()):
                raise ValidationError(
                    self.env._(
                        "“%(value)s” is not an Application (client) ID: it is a GUID shown "
                        "on the app registration's overview.",
                        value=tenant.client_id,
                    )
                )

    @api.constrains("authority_host", "graph_url")
    def _check_urls(self):
        for tenant in self:
            for label, url in (
                (self.env._("Identity platform URL"), tenant.authority_host),
                (self.env._("Microsoft Graph URL"), tenant.graph_url),
            ):
                problem = https_url_problem(url)
                if problem:
                    raise ValidationError(
                        self.env._(
                            "%(label)s must be an https:// address such as "
                            "https://login.microsoftonline.com (got “%(url)s”): %(problem)s",
                            label=label,
                            url=url,
                            problem=problem,
                        )
                    )

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [self._m365_secret_vals(self._m365_clean_vals(vals)) for vals in vals_list]
        return super().create(vals_list)

    def write(self, vals):
        vals = self._m365_clean_vals(vals)
        if "client_secret" in vals and not vals["client_secret"]:
            # An empty secret from a form means "keep the current one".
            vals.pop("client_secret")
        vals = self._m365_secret_vals(vals)
        credentials = {"azure_tenant", "client_id", "client_secret", "authority_host", "graph_url"}
        if credentials & vals.keys():
            # The last test's result no longer describes these credentials.
            vals.setdefault("connection_state", "unchecked")
            if vals["connection_state"] == "unchecked":
                vals.setdefault("last_check", False)
                vals.setdefault("last_check_message", False)
                vals.setdefault("granted_roles", False)
                vals.setdefault("permission_ids", [fields.Command.clear()])
        new_mode = self.filtered(lambda t: "busy_mode" in vals and t.busy_mode != vals["busy_mode"])
        result = super().write(vals)
        if new_mode:
            self.env["m365.workload.day"]._m365_schedule_recompute(companies=new_mode.company_id)
        if WATCHED_SWITCHES & vals.keys():
            # Subscriptions to create or delete: the subscription job plans them soon,
            # not at its next quarter hour.
            self.env["m365.job.subscription"]._m365_trigger()
        return result

    @api.model
    def _m365_secret_vals(self, vals):
        """A new secret in use: remember its hint and date, forget the one under test."""
        secret = vals.get("client_secret")
        if secret:
            vals = dict(vals)
            vals.setdefault("client_secret_hint", f"{secret[:3]}…")
            vals.setdefault("client_secret_date", fields.Datetime.now())
            vals.setdefault("client_secret_pending", False)
        return vals

    @api.model
    def _m365_clean_vals(self, vals):
        vals = dict(vals)
        for name in (
            "azure_tenant",
            "client_id",
            "client_secret",
            "client_secret_pending",
            "client_secret_input",
            "ca_bundle",
        ):
            if isinstance(vals.get(name), str):
                vals[name] = vals[name].strip() or False
        for name in ("authority_host", "graph_url"):
            if isinstance(vals.get(name), str):
                vals[name] = vals[name].strip().rstrip("/")
        return vals

    # ------------------------------------------------------------------
    # Graph access
    # ------------------------------------------------------------------
    def _m365_enabled_features(self):
        self.ensure_one()
        features = [key for name, keys in FEATURE_FIELDS.items() if self[name] for key in keys]
        if self.notifications_enabled and (self.busy_sync or self.room_sync):
            # Subscriptions to users' and rooms' events (application permission).
            features.append("change_notifications")
        return features

    def _m365_connection_params(self, client_secret=None):
        """Everything m365_graph needs to authenticate as this app (server side only).

        ``client_secret``: a secret to try instead of the one in use (Test connection).
        """
        self.ensure_one()
        tenant = self.sudo()
        secret_ready = client_secret or tenant.is_configured
        if not (tenant.azure_tenant and tenant.client_id and secret_ready):
            raise ValidationError(
                self.env._(
                    "Microsoft 365 is not configured for %(company)s: enter the tenant ID, "
                    "the application (client) ID and a client secret first.",
                    company=tenant.company_id.name,
                )
            )
        return {
            "tenant": tenant.azure_tenant,
            "client_id": tenant.client_id,
            "client_secret": client_secret or tenant.client_secret,
            "authority_host": tenant.authority_host,
            "graph_url": tenant.graph_url,
            "ca_bundle": tenant.ca_bundle or None,
            "timeout": float(tenant.http_timeout),
        }

    def _m365_due(self, kind, interval):
        """True when this tenant's job ``kind`` has not started within ``interval``.

        Feature crons run often and call this per tenant, so each tenant keeps its
        own schedule (Settings) without one ``ir.cron`` per company. The schedule is
        read from the sync-run log: the last run of that kind, done or failed.
        """
        self.ensure_one()
        last = (
            self.env["m365.sync.run"]
            .sudo()
            .search(
                [("tenant_id", "=", self.id), ("kind", "=", kind), ("interrupted", "=", False)],
                order="start desc",
                limit=1,
            )
        )
        return not last or last.start + interval <= fields.Datetime.now()

    def _m365_config(self):
        """The tenant as an ``m365_graph.TenantConfig`` (holds the secret: never log it)."""
        params = self._m365_connection_params()
        # One time-out, the Settings value, for connecting and for each answer: every
        # job, button and message names the same number (Test connection included).
        return TenantConfig(**params)

    def _m365_graph_client(self, token_provider=None):
        """An app-only GraphClient for this tenant (client-credentials flow).

        ``token_provider``: an ``AppTokenProvider`` of this tenant to share (its token
        is reused), e.g. by the units of work of one job run.
        """
        config = self._m365_config()
        return GraphClient(
            token_provider or AppTokenProvider(config),
            config.graph_url,
            ca_bundle=config.ca_bundle,
            timeout=config.timeout,
        )

    def action_m365_sync_contacts(self):
        """Button: synchronise the directory's users to contacts now."""
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only Settings administrators can start the Microsoft 365 contact sync.")
            )
        if not self.contact_sync:
            raise UserError(
                self.env._("Switch on contact sync in the Microsoft 365 settings first.")
            )
        run = self.env["m365.job.contacts"]._m365_sync(self, from_button=True)
        kind = "success" if run.state == "done" else "danger"
        return self._m365_notify(run.message, kind)

    def action_test_connection(self):
        """Get an app token, read its permissions and compare them with the features.

        A secret typed in Settings and not saved yet (``client_secret_pending``) is
        tried first: it replaces the secret in use only when Microsoft accepts it;
        otherwise the secret in use stays, untouched, and the notice says so.
        """
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only Settings administrators can test the Microsoft 365 connection.")
            )
        tenant = self.sudo()
        candidate = tenant.client_secret_pending or None
        Run = self.env["m365.sync.run"]
        run = Run._m365_start("connection", tenant=self)
        try:
            report = check_connection(
                **self._m365_connection_params(client_secret=candidate),
                features=self._m365_enabled_features(),
            )
        except GraphError as exc:
            run._m365_fail(exc)
            if candidate:
                tenant.client_secret_pending = False
                return self._m365_notify(self._m365_rejected_secret_message(exc), "danger")
            self._m365_store_check_failure(str(exc))
            return self._m365_notify(self.last_check_message, "danger")
        if candidate:
            tenant.client_secret = candidate  # it works: now it is the one in use
        run._m365_add_stats(report.counters)
        self._m365_store_check(report)
        run._m365_done(message=self.last_check_message)
        message = self.last_check_message
        if candidate:
            message = self.env._(
                "The client secret you typed works and is now in use (%(hint)s). %(result)s",
                hint=tenant.client_secret_hint,
                result=message,
            )
        kind = "success" if self.connection_state == "ok" else "warning"
        return self._m365_notify(message, kind)

    # ------------------------------------------------------------------
    # Admin consent (Settings → Grant admin consent)
    # ------------------------------------------------------------------
    def action_m365_admin_consent(self):
        """Send the administrator to Microsoft's admin-consent page for this app.

        Microsoft answers on the app's redirect URI ``/m365_sync/admin_consent/callback``
        with ``admin_consent=True&tenant=…`` or ``error=…&error_description=…``
        (learn.microsoft.com, "Admin consent on the Microsoft identity platform"); the
        ``state`` sent along names this tenant, the administrator and a deadline, so
        the callback accepts only the answer to this request.
        """
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only Settings administrators can ask for admin consent."))
        tenant = self.sudo()
        if not (tenant.azure_tenant and tenant.client_id):
            raise UserError(
                self.env._(
                    "Enter the tenant ID and the application (client) ID and save before "
                    "asking for admin consent."
                )
            )
        state = (
            f"{secrets.token_urlsafe(24)}.{self.env.uid}."
            f"{int(time.time()) + ADMIN_CONSENT_LIFETIME}"
        )
        tenant.admin_consent_nonce = state
        url = admin_consent_url(
            tenant.authority_host,
            tenant.azure_tenant,
            tenant.client_id,
            redirect_uri=self._m365_admin_consent_redirect_uri(),
            state=state,
        )
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    @api.model
    def _m365_admin_consent_tenant(self, state):
        """The tenant whose admin-consent request ``state`` answers, for this user, in time."""
        Tenant = self.sudo()
        if not state or not self.env.user.has_group("base.group_system"):
            return Tenant
        tenant = Tenant.search([("admin_consent_nonce", "=", state)], limit=1)
        try:
            _token, uid, deadline = state.rsplit(".", 2)
            valid = int(uid) == self.env.uid and int(deadline) >= time.time()
        except ValueError:
            valid = False
        return tenant if valid else Tenant

    def _m365_record_admin_consent(self, params):
        """Record Microsoft's answer to the admin-consent page; returns the notice kind.

        Granted: the permissions table is tested again in the background (Microsoft
        may take a few minutes before app tokens carry the new roles)."""
        self.ensure_one()
        tenant = self.sudo()
        values = {
            "admin_consent_nonce": False,
            "admin_consent_date": fields.Datetime.now(),
        }
        answered_for = params.get("tenant") or ""
        configured = (tenant.azure_tenant or "").lower()
        if params.get("admin_consent") == "True" and not (
            is_guid(configured) and answered_for and answered_for.lower() != configured
        ):
            values.update(
                admin_consent_state="granted",
                admin_consent_message=self.env._(
                    "Admin consent granted by %(user)s for tenant %(tenant)s. The connection "
                    "is being tested again; Microsoft can take a few minutes before the new "
                    "permissions show as granted — press Test connection later if some are "
                    "still missing.",
                    user=self.env.user.name,
                    tenant=answered_for or tenant.azure_tenant,
                ),
            )
            tenant.write(values)
            self._m365_request_test()
            return "success"
        if params.get("admin_consent") == "True":
            message = self.env._(
                "Admin consent was granted in another tenant (%(answered)s), not in the "
                "configured tenant %(tenant)s: sign in to Microsoft with an administrator "
                "of %(tenant)s and grant admin consent again.",
                answered=answered_for,
                tenant=tenant.azure_tenant,
            )
        else:
            description = (params.get("error_description") or "").splitlines()
            message = self.env._(
                "Microsoft did not grant admin consent (%(error)s): %(description)s The app's "
                "application permissions stay as they were. Only a Global Administrator or "
                "Privileged Role Administrator of the tenant can grant them.",
                error=params.get("error") or self.env._("no answer"),
                description=(description[0][:300] if description else ""),
            )
        values.update(admin_consent_state="refused", admin_consent_message=message)
        tenant.write(values)
        return "warning"

    # ------------------------------------------------------------------
    # Test connection in the background
    # ------------------------------------------------------------------
    def action_m365_test_connection_background(self):
        """Button: test the connection in the background and answer at once.

        The test may wait for Microsoft up to the HTTP time-out per request; the page
        stays usable, and the result comes as a notification (Odoo's bus) and in the
        Permissions table and Sync runs."""
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only Settings administrators can test the Microsoft 365 connection.")
            )
        self._m365_request_test()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Microsoft 365"),
                "message": self.env._(
                    "Connection test started in the background. You get a notification "
                    "when it is done; its result is also in %s."
                ),
                "links": [
                    {
                        "label": self.env._("Sync runs"),
                        "url": "/odoo/action-m365_sync.action_m365_sync_run",
                    }
                ],
                "type": "info",
                "sticky": False,
            },
        }

    def _m365_request_test(self):
        self.sudo().write({"test_requested_by": self.env.uid})
        cron = self.env.ref("m365_sync.ir_cron_m365_connection_test", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    @api.model
    def _m365_cron_test_connections(self):
        """Scheduled job (triggered by the button): run the tests asked for, tell who asked."""
        for tenant in self.sudo().search([("test_requested_by", "!=", False)]):
            requester = tenant.test_requested_by
            tenant.test_requested_by = False
            try:
                action = tenant.with_user(requester).action_test_connection()
                params = action["params"]
            except (AccessError, UserError, ValidationError) as exc:
                params = {"message": str(exc), "type": "danger"}
            requester._bus_send(
                "simple_notification",
                {
                    "title": self.env._("Microsoft 365: connection test"),
                    "message": params["message"],
                    "type": params["type"],
                    "sticky": params["type"] != "success",
                },
            )
            self.env["ir.cron"]._commit_progress(1)

    def _m365_rejected_secret_message(self, exc):
        tenant = self.sudo()
        if tenant.client_secret_set:
            in_use = self.env._(
                "The secret in use (%(hint)s, saved on %(date)s) is unchanged and still in use.",
                hint=tenant.client_secret_hint or "…",
                date=format_datetime(self.env, tenant.client_secret_date)
                if tenant.client_secret_date
                else "?",
            )
        else:
            in_use = self.env._("No client secret is saved yet.")
        return self.env._(
            "The client secret you typed was not saved: the test with it failed. %(error)s "
            "%(in_use)s To save a secret without testing it, press Save.",
            error=str(exc),
            in_use=in_use,
        )

    def action_m365_sync_busy_now(self):
        """Import busy time now (Settings button), in the background: the shards are
        made due and handed to the workers (the busy-time cron is triggered, or with the
        job queue one job per shard is queued); the button answers at once."""
        self.ensure_one()
        if not self.env.user.has_group("m365_sync.group_m365_manager"):
            raise AccessError(
                self.env._("Only Microsoft 365 managers can start a busy-time import.")
            )
        if not self.busy_sync:
            raise UserError(
                self.env._("Switch on “Calendar busy time” and save before importing busy time.")
            )
        Job = self.env["m365.job.busy"]
        shards = Job._m365_shard_units(self)
        Job._m365_close_stale_shards(self, shards)
        # Held by the end of this transaction: the workers start after it committed.
        held = [unit for unit in shards if not Job._m365_try_lock(Job._m365_lock_key(unit))]
        if len(held) == len(shards):
            return self._m365_notify(
                self.env._(
                    "Busy time of %(company)s is being imported right now. "
                    "See Settings → Microsoft 365 → Sync runs.",
                    company=self.company_id.name,
                ),
                "warning",
            )
        free = [unit for unit in shards if unit not in held]
        self.sudo().busy_requested_ts = time.time()
        Job._m365_run_in_background(free)
        messages = [
            self.env._(
                "Busy-time import of %(company)s started in the background (%(count)s "
                "part(s)); its results appear in the %%s.",
                company=self.company_id.name,
                count=len(free),
            )
        ]
        if held:
            messages.append(
                self.env._(
                    "Being imported right now by another worker, not started again: %(parts)s.",
                    parts=", ".join(Job._m365_unit_identity(unit) for unit in held),
                )
            )
        runs = self.env.ref("m365_sync.action_m365_sync_run")
        links = [{"label": self.env._("sync runs"), "url": f"/odoo/action-{runs.id}"}]
        return self._m365_notify("\n".join(messages), "warning" if held else "info", links=links)

    def _m365_store_check(self, report):
        missing = report.missing
        if missing:
            state = "missing"
            message = self.env._(
                "Signed in, but %(count)s application permission(s) are missing: %(names)s. "
                "Add them to the app registration (API permissions) and grant admin consent.",
                count=len(missing),
                names=", ".join(sorted({row.permission for row in missing})),
            )
        elif not report.graph_ok:
            state = "missing" if not report.granted_roles else "error"
            message = report.graph_detail
        elif not report.rows:
            state = "ok"
            message = self.env._("Connected. No feature is switched on yet.")
        else:
            state = "ok"
            message = self.env._(
                "Connected. Every application permission the enabled features need is granted."
            )
        self.sudo().write(
            {
                "connection_state": state,
                "last_check": fields.Datetime.now(),
                "last_check_message": message,
                "granted_roles": ", ".join(sorted(report.granted_roles)) or False,
                "permission_ids": [fields.Command.clear()]
                + [
                    fields.Command.create(
                        {
                            "feature": row.feature,
                            "permission": row.permission,
                            "permission_type": row.type,
                            "admin_consent": row.admin_consent,
                            "state": {True: "granted", False: "missing"}.get(row.granted, "user"),
                        }
                    )
                    for row in report.rows
                ],
            }
        )

    def _m365_store_check_failure(self, message):
        self.sudo().write(
            {
                "connection_state": "error",
                "last_check": fields.Datetime.now(),
                "last_check_message": message,
                "granted_roles": False,
                "permission_ids": [fields.Command.clear()],
            }
        )

    def _m365_notify(self, message, kind, links=None):
        """A notification; ``links`` (``{"label", "url"}``) fill the message's ``%s``."""
        action = {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Microsoft 365"),
                "message": message,
                "type": kind,
                "sticky": kind != "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
        if links:
            action["params"]["links"] = links
        return action

    # ------------------------------------------------------------------
    # Change notifications
    # ------------------------------------------------------------------
    def _m365_notification_base(self):
        """(base URL, None) when Microsoft can notify this Odoo, else (None, reason).

        Graph calls ``https`` URLs only. The one exception is the sandbox (a Graph
        URL on this machine): it also calls ``http://localhost``, so that the demo
        and the tests need no certificate for Odoo.
        """
        self.ensure_one()
        if not self.notifications_enabled:
            return None, self.env._("Change notifications are switched off.")
        base = (self.notification_base_url or "").strip() or (
            self.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        )
        try:
            parts = urlsplit(base)
        except ValueError:
            parts = None
        if not parts or not parts.hostname:
            return None, self.env._("Odoo has no public address (web.base.url).")
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        graph_host = urlsplit(self.graph_url or "").hostname or ""
        sandbox = graph_host in ("localhost", "127.0.0.1", "::1")
        if parts.scheme == "https" and (not local or sandbox):
            return base.rstrip("/"), None
        if parts.scheme == "http" and local and sandbox:
            return base.rstrip("/"), None
        if local:
            return None, self.env._(
                "Odoo's address %(url)s is on this machine: Microsoft 365 cannot reach it.",
                url=base,
            )
        return None, self.env._(
            "Odoo's address %(url)s is not https: Microsoft 365 only calls https addresses.",
            url=base,
        )

    def _m365_notification_urls(self):
        """(notification URL, lifecycle URL) of the webhook, or (None, None)."""
        base, _reason = self._m365_notification_base()
        if not base:
            return None, None
        return f"{base}/m365_sync/webhook", f"{base}/m365_sync/webhook/lifecycle"

    @api.depends("notifications_enabled", "notification_base_url", "graph_url")
    def _compute_notifications_status(self):
        Sub = self.env["m365.subscription"].sudo()
        for tenant in self:
            base, reason = tenant._m365_notification_base() if tenant.id else (None, "")
            active = Sub.search_count([("tenant_id", "=", tenant.id), ("state", "=", "active")])
            tenant.notifications_active = bool(base and active)
            if not base:
                tenant.notifications_status = self.env._(
                    "Not active — scheduled reads only. %(reason)s", reason=reason
                )
            elif not active:
                tenant.notifications_status = self.env._(
                    "Waiting: no subscription is active yet (%(url)s/m365_sync/webhook).",
                    url=base,
                )
            else:
                failed = Sub.search_count(
                    [("tenant_id", "=", tenant.id), ("state", "not in", ("active", "unmatched"))]
                )
                tenant.notifications_status = self.env._(
                    "Active: %(active)s calendar(s) notify %(url)s/m365_sync/webhook; "
                    "%(other)s waiting or failed. Scheduled reads every %(minutes)s minutes "
                    "as a safety net.",
                    active=active,
                    other=failed,
                    url=base,
                    minutes=tenant.notification_poll_minutes,
                )

    def _m365_poll_minutes(self, minutes, kind, account=None):
        """The scheduled interval of a read: ``minutes``, or the safety poll when change
        notifications cover it (the account's subscription, or every busy-time one of
        the tenant, active)."""
        self.ensure_one()
        if not self._m365_notification_base()[0]:
            return minutes
        domain = [("tenant_id", "=", self.id), ("kind", "=", kind)]
        if account is not None:
            domain.append(("account_id", "=", account.id))
        Sub = self.env["m365.subscription"].sudo()
        counts = dict(Sub._read_group(domain, ["state"], ["__count"]))
        counts.pop("unmatched", None)  # users without a mailbox have nothing to notify
        if counts.get("active") and len(counts) == 1:
            return max(minutes, self.notification_poll_minutes)
        return minutes
