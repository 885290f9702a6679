"""A user's connected Microsoft 365 mailbox ("My User Options").

Each Odoo user may connect one or more Microsoft 365 accounts with OAuth (the
controller in ``controllers/oauth.py``) and choose per account the direction of
the calendar sync — Down (Outlook → Odoo), Up (Odoo → Outlook), Both, or None
(paused, the account is kept). The first connected account is the user's *main*
account: only the main account receives uploads; every Down/Both account is
pulled. "Add an account" creates the row before the sign-in; a row whose sign-in
is declined or fails is removed at once, one whose sign-in was abandoned is
hidden from the user's tab and removed by the scheduled job after
``ABANDONED_AFTER``. A never-connected row is never main; when the main account
is removed or must be reconnected, another signed-in account becomes main.

The MSAL token cache (refresh token included) is stored here, write-only
(``m365.secret.mixin``: nobody but the sync reads it), encrypted at rest with the
server's key, and never sent to the browser. Who owns the mailbox (user, tenant,
Graph user id, e-mail, state, sign-in) is set by the sync alone: managers pause,
resume, retry and remove accounts, they never re-assign one. Refresh tokens
rotate on every use: whenever msal changes the cache, the new blob is written
at once, and written again after the run's savepoint in case the run failed and
was rolled back. While an account is synchronised, a PostgreSQL advisory
transaction lock on its id keeps a second worker (or a "Sync now" click, or a
reconnect) from refreshing the same refresh token in parallel.

Up and Both: the main account receives the appointments sent from Odoo through
the outbox (``m365.outbox``, which takes the same advisory lock); the owner may
let Outlook invite attendees (``send_invitations``, off by default), and the
clock offset Graph showed on the last upload is kept for fair conflict decisions.

The account is the unit of work of the personal-sync cron: one account, one
``m365.sync.run``, one savepoint, one commit. A failure is recorded on the
account in plain words; after N failed runs in a row (Settings; the job base's
streak, shown as ``failure_count``) the owner gets one e-mail per failure
streak, and a sign-in that must be renewed ("reconnect needed") is reported at
once — the account's own rule, not a streak.
"""

import logging
import time
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from m365_graph import (
    Counters,
    GraphClient,
    GraphError,
    ReconnectNeeded,
    RetryPolicy,
    get_me,
    needs_consent,
    refresh_scopes,
    scopes_for_direction,
)
from m365_graph.sync.personal import (
    PULL_DIRECTIONS,
    PUSH_DIRECTIONS,
    consent_direction,
    has_shared_write,
)

from .common import DIRECTIONS, name_people
from .m365_secret_mixin import EncryptedText

_logger = logging.getLogger(__name__)

#: First key of the advisory locks taken on accounts (the second is the account id).
LOCK_CLASS = 3651
#: Fields an account's owner may change directly; the rest is set by the sync itself.
OWNER_WRITABLE = frozenset(
    {
        "direction",
        "connect_direction",
        "sequence",
        "send_invitations",
        "write_shared",
        "busy_mirror",
    }
)
OWNER_CREATABLE = OWNER_WRITABLE | {"user_id", "tenant_id"}
MY_ACCOUNTS_URL = "/odoo/action-m365_sync.action_m365_my_accounts"
#: A failed pull is tried again after this (doubling per failure in a row).
RETRY_AFTER_FAILURE = timedelta(minutes=5)
#: A row still not connected this long after it was created is an abandoned sign-in
#: (a sign-in may take ten minutes, see ``controllers/oauth.py``).
ABANDONED_AFTER = timedelta(minutes=15)


class TokenKeeper:
    """Persists every rotated token cache at once, whatever becomes of the job's transaction.

    msal rotates the refresh token on use: the old one is spent the moment the
    identity platform answers. The job's own transaction cannot keep the new cache
    safely — a worker killed (or a database connection dropped) before the commit
    would leave the spent token stored, and the user would have to sign in again.
    So each rotated cache is also committed at once on its own cursor, into
    ``m365.token.rotation`` (one row per account, written only by these short
    transactions: the job's transaction, which may hold the account's row lock,
    never touches it, so nothing waits on anything). Both copies carry the moment
    they were saved; :meth:`M365Account._m365_token_cache` reads the newer one.
    ``persist`` writes the latest cache onto the account again after the run's
    savepoint, in case the savepoint was rolled back.
    """

    def __init__(self, account):
        self.account = account
        self.latest = None
        self.saved_at = 0.0

    def changed(self, blob):
        self.latest = blob
        self.saved_at = time.time()
        self._commit_rotation(blob, self.saved_at)
        self.account.write({"token_cache": blob, "token_saved_at": self.saved_at})

    def persist(self):
        if self.latest:
            self.account.invalidate_recordset(["token_cache", "token_saved_at"])
            self.account.write({"token_cache": self.latest, "token_saved_at": self.saved_at})

    def _cursor(self):
        """A cursor of its own (tests substitute a real second connection)."""
        return self.account.env.registry.cursor()

    def _commit_rotation(self, blob, saved_at):
        try:
            with self._cursor() as cr:
                cr.execute("SET LOCAL lock_timeout = '5s'")
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["m365.token.rotation"]._m365_store(self.account.id, blob, saved_at)
        except Exception:  # the job's own write below still keeps the cache at commit
            _logger.warning(
                "Microsoft 365 account %s: the rotated sign-in could not be saved at once; it "
                "is saved with the run",
                self.account.id,
                exc_info=True,
            )


class M365Account(models.Model):
    _name = "m365.account"
    _description = "Microsoft 365 Account"
    _inherit = ["m365.secret.mixin"]
    _order = "user_id, is_main desc, sequence, id"
    _m365_secret_fields = ("token_cache",)

    user_id = fields.Many2one(
        "res.users",
        required=True,
        index=True,
        ondelete="cascade",
        default=lambda self: self.env.user,
    )
    tenant_id = fields.Many2one("m365.tenant", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(
        related="tenant_id.company_id", store=True, index=True, string="Company"
    )
    sequence = fields.Integer(default=10)
    email = fields.Char(string="E-mail", readonly=True, copy=False)
    ms_name = fields.Char(string="Name in Microsoft 365", readonly=True, copy=False)
    graph_user_id = fields.Char(
        string="Microsoft 365 user id", readonly=True, copy=False, index=True
    )
    home_account_id = fields.Char(readonly=True, copy=False, groups="base.group_system")
    direction = fields.Selection(
        DIRECTIONS,
        default="down",
        required=True,
        help="Down: Outlook appointments appear in Odoo. Up: Odoo appointments are sent to "
        "Outlook (main account only). Up and Down: both. None: paused, nothing is "
        "synchronised and the account is kept.",
    )
    resume_direction = fields.Selection(DIRECTIONS, readonly=True, copy=False)
    connect_direction = fields.Selection(
        [d for d in DIRECTIONS if d[0] != "none"],
        string="Direction to synchronise",
        compute="_compute_connect_direction",
        inverse="_inverse_connect_direction",
        help="Down: Outlook appointments appear in Odoo. Up: Odoo appointments are sent to "
        "Outlook (main account only). Up and Down: both.",
    )
    is_main = fields.Boolean(
        string="Main account",
        readonly=True,
        copy=False,
        help="Only the main account receives appointments sent from Odoo. The first "
        "connected account of a user is the main one; use Make main to choose another.",
    )
    state = fields.Selection(
        [
            ("new", "Not connected"),
            ("connected", "Connected"),
            ("error", "Sync failed"),
            ("reconnect", "Reconnect needed"),
        ],
        default="new",
        required=True,
        readonly=True,
        copy=False,
    )
    granted_scopes = fields.Char(
        string="Granted permissions",
        readonly=True,
        copy=False,
        help="The delegated permissions the user consented to when connecting.",
    )
    consent_needed = fields.Boolean(
        compute="_compute_consent_needed",
        help="The direction needs a permission the user has not granted yet.",
    )
    token_cache = EncryptedText(
        groups="base.group_system", copy=False, exportable=False, prefetch=False
    )
    #: When ``token_cache`` was saved (epoch seconds); compared with the account's
    #: ``m365.token.rotation`` row to read the newer of the two.
    token_saved_at = fields.Float(
        readonly=True, copy=False, digits=(16, 6), groups="base.group_system"
    )
    last_sync = fields.Datetime(string="Last sync", readonly=True, copy=False)
    last_sync_start = fields.Datetime(readonly=True, copy=False)
    last_sync_summary = fields.Char(string="Last result", readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    last_result = fields.Char(
        string="Last sync result",
        compute="_compute_last_result",
        help="What the last synchronisation did, or why it failed.",
    )
    #: Shows the pull's failure streak (``m365.job``'s, from the run rows): written by
    #: ``m365.job.personal`` after each run, reset by a new sign-in.
    failure_count = fields.Integer(string="Failed runs in a row", readonly=True, copy=False)
    #: The "reconnect needed" e-mail went out (sent once until the account works again).
    failure_notified = fields.Boolean(readonly=True, copy=False)
    #: When the account was last signed in (epoch seconds): a new sign-in ends the
    #: failure streak, which counts only the runs started after it.
    signed_in_ts = fields.Float(readonly=True, copy=False)
    sync_requested = fields.Boolean(readonly=True, copy=False)
    #: "Sync now" was pressed: the owner is told the result on Odoo's bus when it is done.
    sync_notify = fields.Boolean(readonly=True, copy=False)
    delta_link = fields.Char(readonly=True, copy=False, groups="base.group_system")
    resume_link = fields.Char(readonly=True, copy=False, groups="base.group_system")
    window_start = fields.Datetime(readonly=True, copy=False)
    window_end = fields.Datetime(readonly=True, copy=False)
    link_ids = fields.One2many("m365.event.link", "account_id", string="Linked events")
    event_count = fields.Integer(string="Appointments", compute="_compute_event_count")
    is_mine = fields.Boolean(compute="_compute_is_mine")
    personal_sync_enabled = fields.Boolean(related="tenant_id.personal_sync")
    ms_calendar_conflict = fields.Boolean(
        string="Also synchronised by Outlook Calendar",
        compute="_compute_ms_calendar_conflict",
        help="Odoo's own Outlook Calendar app (microsoft_calendar) synchronises this "
        "user's calendar too: both would import the same appointments.",
    )

    # Upload (Up / Both): invitations, the outbox, and Graph's clock.
    send_invitations = fields.Boolean(
        string="Send Outlook invitations",
        help="Off (default): appointments are written to your Outlook calendar only, and "
        "nobody receives an e-mail from Outlook. On: their attendees are added to the "
        "Outlook event, and Outlook sends them meeting requests and update notices "
        "(attendees without an e-mail address are left out).",
    )
    write_shared = fields.Boolean(
        string="Write activities into colleagues' calendars",
        help="Project activities you assign to a colleague go into their Outlook calendar "
        "through your account when they shared that calendar with you for editing (and "
        "neither their own account nor the organisation's application permission can "
        "write it). Needs the permission Calendars.ReadWrite.Shared: connect again after "
        "switching this on.",
    )
    busy_mirror = fields.Boolean(
        string="Mirror busy time",
        help="Show this account's busy time in your other mirrored accounts, and theirs "
        "in this one, as 'Busy' blocks without details (needs Up or Up and Down). "
        "Switching it off deletes the blocks.",
    )
    graph_clock_offset = fields.Float(
        string="Microsoft 365 clock offset (s)",
        readonly=True,
        copy=False,
        help="How far Microsoft 365's clock is ahead of Odoo's, measured on the last "
        "upload; used to compare change times fairly when both sides changed an event.",
    )
    outbox_ids = fields.One2many("m365.outbox", "account_id", string="Changes to send")
    outbox_pending_count = fields.Integer(
        string="Changes waiting", compute="_compute_outbox_counts"
    )
    outbox_failed_count = fields.Integer(
        string="Changes not sent", compute="_compute_outbox_counts"
    )
    outbox_last_error = fields.Text(compute="_compute_outbox_counts")

    tab_url = fields.Char(compute="_compute_tab_url", string="Link to the account's tab")
    notify_partner_to = fields.Char(
        compute="_compute_notify_partner_to",
        help="Partner ids (comma-separated) that receive the failure e-mails.",
    )

    _graph_user_uniq = models.Constraint(
        "UNIQUE(tenant_id, graph_user_id)",
        "This Microsoft 365 account is already connected to Odoo.",
    )
    _one_main_per_user = models.UniqueIndex(
        "(user_id) WHERE is_main", "A user has exactly one main Microsoft 365 account."
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("email", "user_id.name", "state")
    def _compute_display_name(self):
        for account in self:
            account.display_name = account.email or self.env._(
                "%(user)s — not connected", user=account.user_id.name
            )

    @api.depends("direction")
    def _compute_connect_direction(self):
        for account in self:
            account.connect_direction = account.direction if account.direction != "none" else False

    def _inverse_connect_direction(self):
        for account in self.filtered("connect_direction"):
            account.direction = account.connect_direction

    @api.depends("state", "last_error", "last_sync_summary")
    def _compute_last_result(self):
        for account in self:
            if account.state in ("error", "reconnect") and account.last_error:
                account.last_result = account.last_error.splitlines()[0]
            else:
                account.last_result = account.last_sync_summary or False

    @api.depends("direction", "granted_scopes", "state", "write_shared")
    def _compute_consent_needed(self):
        for account in self:
            account.consent_needed = account.state != "new" and needs_consent(
                account.direction,
                (account.granted_scopes or "").split(),
                shared=account.write_shared,
            )

    def _compute_event_count(self):
        counts = dict(
            self.env["m365.event.link"]
            .sudo()
            ._read_group(
                [("account_id", "in", self.ids), ("calendar_event_id", "!=", False)],
                ["account_id"],
                ["__count"],
            )
        )
        for account in self:
            account.event_count = counts.get(account, 0)

    def _compute_outbox_counts(self):
        Outbox = self.env["m365.outbox"].sudo()
        for account in self:
            items = Outbox.search([("account_id", "=", account.id)], order="id desc")
            failed = items.filtered(lambda item: item.state == "failed")
            account.outbox_pending_count = len(items) - len(failed)
            account.outbox_failed_count = len(failed)
            account.outbox_last_error = (failed or items)[:1].last_error or False

    @api.depends_context("uid")
    def _compute_is_mine(self):
        for account in self:
            account.is_mine = account.user_id == self.env.user

    @api.depends("user_id", "direction")
    def _compute_ms_calendar_conflict(self):
        for account in self:
            account.ms_calendar_conflict = (
                account.direction != "none" and account.user_id._m365_ms_calendar_active()
            )

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # Only the sync itself binds a mailbox to a person: a user opens a row for
            # themself, and the sign-in (with their own Microsoft password) fills it.
            for vals in vals_list:
                refused = set(vals) - OWNER_CREATABLE
                if refused:
                    raise AccessError(
                        self.env._(
                            "You cannot set %(fields)s on a Microsoft 365 account: connect the "
                            "account instead.",
                            fields=", ".join(sorted(refused)),
                        )
                    )
                if vals.get("user_id", self.env.uid) != self.env.uid:
                    raise AccessError(
                        self.env._(
                            "A Microsoft 365 account can only be added by its own user: they "
                            "sign in with their own Microsoft password."
                        )
                    )
        for vals in vals_list:
            if not vals.get("tenant_id"):
                user = self.env["res.users"].browse(vals.get("user_id") or self.env.uid)
                tenant = user.sudo().company_id.m365_tenant_id or self.env.company.m365_tenant_id
                vals["tenant_id"] = tenant.id
        accounts = super().create(vals_list)
        # A row is created before its sign-in: it becomes main once it is connected.
        connected = accounts.filtered(lambda a: a.state != "new")
        if connected:
            self._m365_elect_main(connected.user_id)
        return accounts

    def write(self, vals):
        if not self.env.su:
            # Ownership (user, tenant, mailbox, state, sign-in) is the sync's alone, for
            # managers and administrators too: they pause, resume, retry and remove
            # through the buttons, never re-assign a mailbox.
            refused = set(vals) - OWNER_WRITABLE
            if refused:
                raise AccessError(
                    self.env._(
                        "You cannot change %(fields)s of a Microsoft 365 account: only the "
                        "sync itself does.",
                        fields=", ".join(sorted(refused)),
                    )
                )
        if vals.get("direction") in PULL_DIRECTIONS:
            # Starting (or resuming) a pull: do it at the next cron tick, not in 30 min.
            pulling_before = self.filtered(lambda a: a.direction in PULL_DIRECTIONS)
            result = super().write(vals)
            started = (self - pulling_before).filtered(lambda a: a.state != "new")
            if started:
                started.sudo().write({"sync_requested": True})
                self._m365_trigger_cron()
            return result
        return super().write(vals)

    def unlink(self):
        """Removing an account removes the appointments only it brought into Odoo."""
        main_users = self.filtered("is_main").user_id
        self.env["m365.event.link"].sudo().search([("account_id", "in", self.ids)])._m365_forget(
            keep_odoo=True
        )
        result = super().unlink()
        self._m365_elect_main(main_users)
        return result

    # ------------------------------------------------------------------
    # Main account
    # ------------------------------------------------------------------
    @api.model
    def _m365_elect_main(self, users):
        """Give each user a main account that is signed in, when they have one.

        A never-connected row (a sign-in started and not finished) is never main. The
        main account stays where it is while it is signed in (``connected`` or a
        passing ``error``); when it must be reconnected, was removed or was never
        connected, the best signed-in account takes over: connected before failing,
        Up/Both before Down, then the user's order. Without any signed-in account, a
        main account that must be reconnected stays main (its uploads wait for it).
        """
        Account = self.sudo()
        alive = ("connected", "error")
        for user in users:
            accounts = Account.search([("user_id", "=", user.id)])
            main = accounts.filtered("is_main")
            if main and main.state in alive:
                continue
            candidates = accounts.filtered(lambda a: a.state in alive) or (
                accounts.filtered(lambda a: a.state == "reconnect") if not main else Account
            )
            best = candidates.sorted(
                lambda a: (
                    a.state != "connected",
                    a.direction not in PUSH_DIRECTIONS,
                    a.sequence,
                    a.id,
                )
            )[:1]
            if main and (best or main.state == "new"):
                main.is_main = False
                main.flush_recordset(["is_main"])
            if best:
                best.is_main = True

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def _m365_check_owner(self):
        for account in self:
            if account.user_id != self.env.user:
                raise AccessError(
                    self.env._(
                        "Only %(user)s can connect this Microsoft 365 account: the sign-in "
                        "happens with their own Microsoft password.",
                        user=account.user_id.name,
                    )
                )

    def action_connect(self):
        """Send the browser to Microsoft to connect (or reconnect) this account."""
        self.ensure_one()
        self._m365_check_owner()
        if not self.tenant_id.personal_sync:
            raise UserError(
                self.env._(
                    "Personal calendar sync is switched off for %(company)s. Ask an "
                    "administrator to switch it on in Settings → Microsoft 365.",
                    company=self.company_id.name,
                )
            )
        url = f"/m365_sync/oauth/start?account_id={self.id}"
        if request:
            # The start refuses a link without the session's CSRF token (cross-site).
            url += f"&csrf_token={request.csrf_token()}"
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def action_sync_now(self):
        """Pull this account's calendar now, in the background (the scheduled job's unit)."""
        self.ensure_one()
        self.check_access("write")
        if self.state in ("new", "reconnect"):
            raise UserError(
                self.env._(
                    "Connect the account first: %(account)s is not signed in.",
                    account=self.display_name,
                )
            )
        if self.direction not in PULL_DIRECTIONS:
            raise UserError(
                self.env._(
                    "%(account)s does not import appointments (direction %(direction)s). "
                    "Choose Down or Up and Down to import them.",
                    account=self.display_name,
                    direction=dict(DIRECTIONS)[self.direction],
                )
            )
        if not self.tenant_id.personal_sync:
            raise UserError(
                self.env._("Personal calendar sync is switched off by your administrator.")
            )
        # The pull runs in the background (the personal job's cron, triggered now): the
        # page never waits for Microsoft, and the owner is told the result on the bus.
        self.sudo().write({"sync_requested": True, "sync_notify": True})
        self._m365_trigger_cron()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Synchronising %(account)s", account=self.display_name),
                "message": self.env._(
                    "Started in the background, usually done within a minute. You get a "
                    "notification when it is done; its run is listed in %s."
                ),
                "links": [
                    {
                        "label": self.env._("Sync runs"),
                        "url": "/odoo/action-m365_sync.action_m365_sync_run",
                    }
                ],
                "type": "info",
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _m365_tell_sync_result(self, run):
        """The owner pressed Sync now: the result of the run, on Odoo's bus."""
        self.ensure_one()
        self.sync_notify = False
        done = run.state == "done"
        if done:
            title = self.env._("%(account)s synchronised", account=self.display_name)
            message = self.last_sync_summary or run.message or self.env._("Done.")
        else:
            title = self.env._("Synchronising %(account)s failed", account=self.display_name)
            message = self.last_error or run.message or ""
        self.user_id._bus_send(
            "simple_notification",
            {
                "title": title,
                "message": message,
                "type": "success" if done else "danger",
                "sticky": not done,
            },
        )

    def action_pause(self):
        """Direction None: nothing is synchronised, the account and its sign-in are kept."""
        for account in self.filtered(lambda a: a.direction != "none"):
            account.check_access("write")
            account.sudo().write({"resume_direction": account.direction, "direction": "none"})
        return True

    def action_resume(self):
        for account in self.filtered(lambda a: a.direction == "none"):
            account.check_access("write")
            direction = account.resume_direction or "down"
            account.sudo().write({"direction": direction, "resume_direction": False})
        return True

    def action_make_main(self):
        self.ensure_one()
        self.check_access("write")
        if self.state == "new":
            raise UserError(
                self.env._(
                    "Connect %(account)s first: only a signed-in account can be the main one.",
                    account=self.display_name,
                )
            )
        others = self.sudo().search(
            [("user_id", "=", self.user_id.id), ("is_main", "=", True), ("id", "!=", self.id)]
        )
        others.write({"is_main": False})
        others.flush_recordset(["is_main"])  # one main per user, checked row by row
        self.sudo().is_main = True
        return True

    def action_remove(self):
        self.check_access("unlink")
        self.unlink()
        return True

    def action_open_form(self):
        """The account's own form, editable in a dialog (direction, buttons)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.display_name,
            "res_model": "m365.account",
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("m365_sync.m365_account_view_form").id, "form")],
            "target": "new",
        }

    def action_open_events(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Appointments of %(account)s", account=self.display_name),
            "res_model": "calendar.event",
            "view_mode": "list,form,calendar",
            "domain": [("m365_link_ids.account_id", "=", self.id)],
            "context": {"create": False},
        }

    def action_open_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("m365_sync.action_m365_sync_run")
        action["domain"] = [("kind", "=", "personal"), ("user_id", "=", self.user_id.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # Connection (called by the OAuth controller)
    # ------------------------------------------------------------------
    def _m365_lock(self):
        """Advisory lock on this account for the transaction; False if someone holds it."""
        self.ensure_one()
        return self.env["m365.job"]._m365_try_lock((LOCK_CLASS, self.id))

    def _m365_consent_direction(self):
        self.ensure_one()
        return consent_direction(self.direction, self.resume_direction)

    def _m365_consent_scopes(self):
        """The delegated permissions a sign-in of this account asks for."""
        self.ensure_one()
        return scopes_for_direction(self._m365_consent_direction(), shared=self.write_shared)

    def _m365_client(self, counters=None, on_cache_change=None, retry=None):
        """A delegated GraphClient acting as this account (server side only)."""
        self.ensure_one()
        account = self.sudo()
        config = account.tenant_id._m365_config()
        return GraphClient.for_account(
            config,
            account._m365_token_cache(),
            home_account_id=account.home_account_id or None,
            scopes=refresh_scopes((account.granted_scopes or "").split()),
            on_cache_change=on_cache_change,
            counters=counters or Counters(),
            retry=retry or RetryPolicy(max_attempts=5, max_retry_after=120),
        )

    def _m365_token_cache(self):
        """The newest stored token cache: the account's, or a rotation committed after it.

        A rotation newer than the account's copy means the run that received it did
        not commit (worker killed, connection lost): its refresh token is the one
        that still works.
        """
        self.ensure_one()
        account = self.sudo()
        rotation = (
            self.env["m365.token.rotation"]
            .sudo()
            .search([("account_id", "=", account.id)], limit=1)
        )
        if rotation and rotation.saved_at > (account.token_saved_at or 0.0):
            return rotation.token_cache or None
        return account.token_cache or None

    def _m365_store_connection(self, result, graph_user_id):
        """Keep a successful sign-in (an ``m365_graph.AuthCodeResult``) and read ``/me``."""
        self.ensure_one()
        account = self.sudo()
        account.write(
            {
                "token_cache": result.cache_blob,
                # A new sign-in is newer than any rotation of an earlier one.
                "token_saved_at": time.time(),
                "home_account_id": result.home_account_id,
                "graph_user_id": graph_user_id,
                "granted_scopes": " ".join(sorted(result.granted_scopes)),
                "email": result.username or account.email,
                "ms_name": result.claims.get("name") or account.ms_name,
                "state": "connected",
                "failure_count": 0,
                "failure_notified": False,
                "signed_in_ts": time.time(),
                "last_error": False,
                "sync_requested": account.direction in PULL_DIRECTIONS,
            }
        )
        keeper = TokenKeeper(account)
        try:
            with account._m365_client(on_cache_change=keeper.changed) as client:
                me = get_me(client)
        except GraphError as exc:
            # The sign-in itself worked; the e-mail from the id token will do.
            _logger.info("Microsoft 365 account %s: /me could not be read: %s", account.id, exc)
        else:
            account.write({"email": me.email or account.email, "ms_name": me.display_name})
        keeper.persist()
        self._m365_elect_main(account.user_id)
        if account.direction in PULL_DIRECTIONS:
            self._m365_trigger_cron()
        if account.outbox_ids:
            # Changes that waited for this sign-in go out now.
            self.env["m365.outbox"]._m365_trigger()
        return True

    def _m365_can_upload(self):
        """True when this account may receive uploads now (main, Up/Both, signed in)."""
        self.ensure_one()
        return bool(
            self.is_main
            and self.direction in PUSH_DIRECTIONS
            and self.state in ("connected", "error")
            and self.tenant_id.personal_sync
            and self.tenant_id.active
        )

    def _m365_can_write_shared(self):
        """True when this account may write calendars shared with its user now."""
        self.ensure_one()
        return bool(
            self.write_shared
            and has_shared_write((self.granted_scopes or "").split())
            and self.direction != "none"
            and self.state in ("connected", "error")
            and self.tenant_id.personal_sync
            and self.tenant_id.active
        )

    def _m365_note_clock(self, offset):
        """Remember Graph's clock offset (a timedelta) when it moved by a second or more."""
        self.ensure_one()
        if offset is None:
            return
        seconds = offset.total_seconds()
        if abs(seconds - self.graph_clock_offset) >= 1:
            self.sudo().graph_clock_offset = seconds

    def _m365_clock_offset(self):
        self.ensure_one()
        return timedelta(seconds=self.graph_clock_offset or 0.0)

    def action_open_outbox(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("m365_sync.action_m365_outbox")
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {}
        return action

    @api.model
    def _m365_purge_abandoned(self, users=None):
        """Remove the rows of sign-ins started and never finished (closed tab, Back…)."""
        domain = [
            ("state", "=", "new"),
            ("create_date", "<", fields.Datetime.now() - ABANDONED_AFTER),
        ]
        if users is not None:
            domain.append(("user_id", "in", users.ids))
        stale = self.sudo().search(domain)
        stale.filtered(lambda a: not a.outbox_ids and not a.link_ids).unlink()

    @api.model
    def _m365_trigger_cron(self):
        cron = self.env.ref("m365_sync.ir_cron_m365_personal_sync", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    # ------------------------------------------------------------------
    # Synchronisation
    # ------------------------------------------------------------------
    @api.model
    def _m365_pull_domain(self):
        return [
            ("state", "in", ("connected", "error")),
            ("direction", "in", tuple(PULL_DIRECTIONS)),
            ("tenant_id.personal_sync", "=", True),
            ("tenant_id.active", "=", True),
            ("user_id.active", "=", True),
        ]

    def _m365_is_due(self, now):
        self.ensure_one()
        if self.sync_requested or not self.last_sync_start:
            return True
        minutes = max(30, self.tenant_id.personal_interval_minutes)
        # Change notifications active: the scheduled pull is only the safety net.
        minutes = self.tenant_id._m365_poll_minutes(minutes, "personal", account=self)
        interval = timedelta(minutes=minutes)
        if self.state == "error":
            # A failed account is tried again sooner (5, 10, 20… minutes, at most the
            # interval): its red "Sync failed" ends within minutes once Microsoft is back.
            retry = RETRY_AFTER_FAILURE * 2 ** min(max(self.failure_count - 1, 0), 8)
            interval = min(interval, retry)
        return self.last_sync_start + interval <= now

    def _m365_sync(self):
        """Pull this account once (``m365.job.personal``, the unit the cron runs).

        True on success, False on failure, None while another worker holds the
        account (its pull, its outbox drain or a reconnect).
        """
        self.ensure_one()
        run = self.env["m365.job.personal"]._m365_run_unit(self.id, due_only=False)
        if run is None:
            _logger.info("Microsoft 365 account %s is being synchronised elsewhere", self.id)
            return None
        return run.state == "done"

    def _m365_sync_failed(self, exc):
        """Record an account error in plain words (state, ``last_error``).

        Not the failure streak: that is ``m365.job``'s, read from the account's run
        rows (``m365.job.personal``, which writes ``failure_count`` to show it). The
        account's own rule: a sign-in that must be renewed ("reconnect needed") is
        told to the owner at once, once until the account works again
        (``failure_notified``), and hands "main" to another signed-in account."""
        self.ensure_one()
        reconnect = isinstance(exc, ReconnectNeeded)
        if isinstance(exc, (GraphError, UserError)):
            # Plain words already (Graph, or the configuration); ids become people.
            message = name_people(self.env, str(exc))
        else:
            message = self._m365_unexpected(exc)
        notify = reconnect and not self.failure_notified
        self._m365_forget_sign_in_notice()
        self.write(
            {
                "state": "reconnect" if reconnect else "error",
                "last_error": message,
                "failure_notified": self.failure_notified or notify,
            }
        )
        if reconnect and self.is_main:
            self._m365_elect_main(self.user_id)
        if notify:
            self._m365_notify_failure(reconnect)
        return message

    def _m365_forget_sign_in_notice(self):
        """A run of the account has a newer result than the sign-in's notice (its row
        shows it): an old notice that needs nothing more ("Connected…", "You
        declined…") is taken down; an error to act on (a change Outlook refused) stays
        until dismissed."""
        owner = self.user_id.sudo()
        if owner.m365_notice and owner.m365_notice_type in ("success", "warning"):
            owner.write({"m365_notice": False, "m365_notice_type": False})

    def _m365_unexpected(self, exc):
        _logger.exception("Microsoft 365 account %s: unexpected error", self.id, exc_info=exc)
        return self.env._(
            "Unexpected error while synchronising (%(kind)s): %(error)s. The next run tries "
            "again; if it keeps failing, send this message to your administrator.",
            kind=type(exc).__name__,
            error=str(exc)[:300],
        )

    # ------------------------------------------------------------------
    # Notifications
    # ------------------------------------------------------------------
    def _compute_tab_url(self):
        for account in self:
            account.tab_url = f"{account.get_base_url()}{MY_ACCOUNTS_URL}"

    def _compute_notify_partner_to(self):
        managers = self.env.ref("m365_sync.group_m365_manager").sudo().all_user_ids
        for account in self:
            partners = account.user_id.partner_id
            if account.tenant_id.personal_notify_managers:
                partners |= managers.filtered(
                    lambda u, account=account: (
                        not u.share and account.company_id in u.company_ids and u.email
                    )
                ).partner_id
            account.notify_partner_to = ",".join(str(pid) for pid in partners.ids)

    def _m365_notify_failure(self, reconnect):
        template = self.env.ref(
            "m365_sync.mail_template_m365_reconnect"
            if reconnect
            else "m365_sync.mail_template_m365_sync_failed",
            raise_if_not_found=False,
        )
        if template:
            template.sudo().send_mail(self.id, force_send=False)
