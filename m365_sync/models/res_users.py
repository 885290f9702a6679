"""Users: the "Microsoft 365" tab ("My User Options") and busy-time settings.

Every user sees their connected Microsoft 365 accounts on their preferences
(and administrators on the user form): e-mail, direction, main account, state,
last sync and last error, with the buttons to connect, synchronise, pause and
remove. The OAuth callback leaves its outcome — success or the reason of a
failure in plain words — as a notice on the user, shown on top of the tab until
it is dismissed or replaced by the next connection attempt; only that user (and
Settings administrators) can read it.

The account list is read through the user's own record, so it is added to the
fields a user may read on themself; accounts are changed through their own
buttons and form (with the user's rights on ``m365.account``), never by writing
the one2many on the user.

An administrator can also exclude a user from busy-time import (an executive, a
works-council member…). Excluding deletes the busy time already imported for
them and their workload days: they leave Project → Reporting → Workload (rather
than show as entirely free) until the exclusion is lifted and the next import
fills their days in again. A change of
time zone moves their local days, so their workload is recomputed.

A new user whose e-mail (or login) is the address of a contact imported from
the Microsoft 365 directory gets that contact as their partner instead of a
second partner of the same name (Odoo would otherwise create one): the person
exists once, with their directory data. Contact sync does the same the other
way round for users created before their contact was imported (see
``m365.job.contacts._m365_adopt_user_partners``).
"""

import ast

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Domain

from m365_graph.sync.rules import UploadRules

from .common import is_utc_zone

#: The OAuth outcome left on a user: readable by that user and administrators only.
NOTICE_FIELDS = frozenset({"m365_notice", "m365_notice_type"})
#: Privacy and upload rules a user sets for themself (defaults: their company's).
RULE_FIELDS = (
    "m365_private_upload",
    "m365_upload_domain",
    "m365_upload_from_today",
    "m365_private_as_busy",
    "m365_tentative_busy",
)
SELF_FIELDS = ("m365_teams_default", "m365_rules_own", *RULE_FIELDS)


class ResUsers(models.Model):
    _inherit = "res.users"

    m365_busy_exclude = fields.Boolean(
        string="Exclude from busy-time import",
        help="Do not import this user's Microsoft 365 calendar busy time for workload. "
        "Busy time imported so far is deleted and the user no longer appears in the "
        "Workload report; the next import after unticking fills it in again.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "m365_teams_default" not in vals:
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["m365_teams_default"] = company.sudo().m365_teams_default
            if not vals.get("partner_id"):
                partner = self._m365_directory_partner(vals)
                if partner:
                    vals["partner_id"] = partner.id
        return super().create(vals_list)

    @api.model
    def _m365_directory_partner(self, vals):
        """The synchronised contact a new user with these values is, if exactly one."""
        address = (vals.get("email") or vals.get("login") or "").strip().lower()
        if "@" not in address:
            return self.env["res.partner"]
        company = vals.get("company_id") or self.env.company.id
        partners = (
            self.env["res.partner"]
            .sudo()
            .search(
                [
                    ("m365_user_id", "!=", False),
                    ("email_normalized", "=", address),
                    ("company_id", "in", [False, company]),
                    ("user_ids", "=", False),
                ],
                limit=2,
            )
        )
        partners = partners.with_context(active_test=False).filtered(lambda p: not p.user_ids)
        return partners if len(partners) == 1 else self.env["res.partner"]

    def write(self, vals):
        rezoned = self.filtered(lambda user: "tz" in vals and user.tz != vals["tz"])
        result = super().write(vals)
        if vals.get("m365_busy_exclude"):
            self.env["m365.busy.slot"]._m365_forget_users(self)
            self.env["m365.workload.day"]._m365_forget_users(self)
        if rezoned:
            self.env["m365.workload.day"]._m365_schedule_recompute(users=rezoned)
        if {"m365_tentative_busy", "m365_rules_own"} & set(vals):
            # Tentative time counts on the user's option: their workload changes.
            self.env["m365.workload.day"]._m365_schedule_recompute(users=self)
        return result

    # A row whose sign-in is under way (or was abandoned) is not an account yet.
    m365_account_ids = fields.One2many(
        "m365.account",
        "user_id",
        string="Microsoft 365 accounts",
        readonly=True,
        domain=[("state", "!=", "new")],
    )
    m365_notice = fields.Text(string="Microsoft 365 notice", readonly=True, copy=False)
    m365_notice_type = fields.Selection(
        [("success", "Success"), ("warning", "Warning"), ("danger", "Error")],
        readonly=True,
        copy=False,
    )
    m365_personal_sync = fields.Boolean(
        string="Personal calendar sync available", compute="_compute_m365_personal_sync"
    )
    m365_ms_calendar_conflict = fields.Boolean(compute="_compute_m365_ms_calendar_conflict")
    m365_tz_utc = fields.Boolean(
        string="Time zone not set",
        compute="_compute_m365_tz_utc",
        help="The user's time zone is empty or UTC (the default for users created in "
        "Settings): workload days and the start of activities sent to Outlook are counted "
        "in UTC, hours away from their working day.",
    )

    # Teams and the privacy/upload rules (m365_graph.sync.rules); see the addon's USAGE.
    # New users take their company's default (create below; not a field default, which
    # would read the company's column before it exists when the addon is installed).
    m365_teams_default = fields.Boolean(
        string="Teams meeting on new appointments",
        help="New appointments you organise get a Teams meeting when they are sent to "
        "Outlook (you can switch it off on each appointment).",
    )
    m365_rules_own = fields.Boolean(
        string="My own privacy and upload rules",
        help="Use the rules below instead of your company's.",
    )
    m365_private_upload = fields.Selection(
        [("private", "Send as private"), ("skip", "Do not send")],
        string="Private appointments to Outlook",
        default="private",
    )
    m365_upload_domain = fields.Char(string="Appointments sent to Outlook", default="[]")
    m365_upload_from_today = fields.Boolean(string="Only from today on")
    m365_private_as_busy = fields.Boolean(string="Outlook private appointments as Busy")
    m365_tentative_busy = fields.Boolean(string="Tentative counts as busy", default=True)

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return [*super().SELF_WRITEABLE_FIELDS, *SELF_FIELDS]

    @property
    def SELF_READABLE_FIELDS(self):
        return [
            *super().SELF_READABLE_FIELDS,
            *SELF_FIELDS,
            "m365_account_ids",
            "m365_notice",
            "m365_notice_type",
            "m365_personal_sync",
            "m365_ms_calendar_conflict",
            "m365_tz_utc",
        ]

    def _has_field_access(self, field, operation):
        if field.name in NOTICE_FIELDS and not self.env.su:
            # A sign-in's outcome is its owner's (and the Settings administrators').
            return (bool(self._ids) and self._origin == self.env.user) or self.env.user.has_group(
                "base.group_system"
            )
        return super()._has_field_access(field, operation)

    @api.depends("company_id")
    def _compute_m365_personal_sync(self):
        for user in self:
            user.m365_personal_sync = bool(user.sudo().company_id.m365_tenant_id.personal_sync)

    @api.depends("tz")
    def _compute_m365_tz_utc(self):
        for user in self:
            user.m365_tz_utc = is_utc_zone(user.tz)

    @api.depends("m365_account_ids.direction")
    def _compute_m365_ms_calendar_conflict(self):
        for user in self:
            user.m365_ms_calendar_conflict = any(
                user.sudo().m365_account_ids.mapped("ms_calendar_conflict")
            )

    def _m365_ms_calendar_active(self):
        """True when Odoo's own Outlook Calendar app (microsoft_calendar) syncs this user.

        Only that module's own status helpers are called: its fields, cron and tokens
        are never read or written here.
        """
        self.ensure_one()
        user = self.sudo()
        if not hasattr(user, "_microsoft_calendar_authenticated"):
            return False
        return bool(
            user._microsoft_calendar_authenticated()
            and user._get_microsoft_sync_status() == "sync_active"
        )

    # ------------------------------------------------------------------
    # Notice left by the OAuth callback
    # ------------------------------------------------------------------
    def _m365_set_notice(self, message, kind="success"):
        self.sudo().write({"m365_notice": message, "m365_notice_type": kind})

    def action_m365_dismiss_notice(self):
        for user in self:
            if user == self.env.user or self.env.user.has_group("base.group_erp_manager"):
                user.sudo().write({"m365_notice": False, "m365_notice_type": False})
        return True

    # ------------------------------------------------------------------
    # Buttons of the tab
    # ------------------------------------------------------------------
    def action_m365_add_account(self):
        """Open a new account (direction first), then "Connect" signs in with Microsoft."""
        self.ensure_one()
        self.env["m365.account"]._m365_purge_abandoned(self)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Connect a Microsoft 365 account"),
            "res_model": "m365.account",
            "view_mode": "form",
            "views": [(self.env.ref("m365_sync.m365_account_view_form_connect").id, "form")],
            "target": "new",
            "context": {"default_user_id": self.id, "default_direction": "down"},
        }

    @api.model
    def _m365_action_my_accounts(self):
        """The current user's Microsoft 365 tab, as a page of its own (OAuth returns here)."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("My Microsoft 365 accounts"),
            "res_model": "res.users",
            "res_id": self.env.uid,
            "view_mode": "form",
            "views": [(self.env.ref("m365_sync.res_users_view_form_m365_accounts").id, "form")],
            "target": "current",
            "context": {"m365_my_accounts": True},
        }

    # ------------------------------------------------------------------
    # Privacy and upload rules
    # ------------------------------------------------------------------
    def _m365_rule_source(self):
        """The record whose rules apply: the user's own, else their company's."""
        self.ensure_one()
        user = self.sudo()
        return user if user.m365_rules_own else user.company_id

    def _m365_upload_rules(self):
        source = self._m365_rule_source()
        return UploadRules(
            private_mode=source.m365_private_upload or "private",
            from_today=bool(source.m365_upload_from_today),
        )

    @api.constrains("m365_upload_domain")
    def _check_m365_upload_domain(self):
        for user in self:
            check_upload_domain(self.env, user.m365_upload_domain, user)

    def _m365_upload_domain(self):
        """The upload filter as a domain list (an unreadable one sends everything)."""
        text = (self._m365_rule_source().m365_upload_domain or "").strip()
        if not text or text == "[]":
            return []
        try:
            domain = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return []
        return domain if isinstance(domain, list) else []

    def _m365_private_as_busy(self):
        return bool(self._m365_rule_source().m365_private_as_busy)

    def _m365_tentative_busy(self):
        return bool(self._m365_rule_source().m365_tentative_busy)


def check_upload_domain(env, text, user):
    """``ValidationError`` unless ``text`` is a calendar.event filter ``user`` may search."""
    text = (text or "").strip()
    if not text or text == "[]":
        return
    try:
        domain = ast.literal_eval(text)
        if not isinstance(domain, list):
            raise ValueError(text)
        Event = env["calendar.event"].with_user(user)
        Event.search(Domain.AND([Domain(domain), Domain("id", "=", 0)]), limit=1)
    except (AccessError, ValueError, SyntaxError, KeyError, TypeError) as exc:
        raise ValidationError(
            env._(
                "The filter of appointments sent to Outlook cannot be used: %(error)s. "
                "Use a filter on appointment fields you may read.",
                error=exc,
            )
        ) from exc
