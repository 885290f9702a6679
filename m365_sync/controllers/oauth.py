"""Connecting a user's Microsoft 365 account: the OAuth auth-code flow with PKCE.

``/m365_sync/oauth/start`` begins the sign-in for one ``m365.account`` of the
logged-in user and redirects the browser to Microsoft (a POST, or a GET carrying
the session's CSRF token: a link from another site starts nothing); ``/m365_sync/oauth/callback``
(the redirect URI registered on the app, see the README) receives the answer.

The flow dict msal creates (PKCE verifier, ``state``, ``nonce``) stays in the
user's Odoo session, keyed by its ``state``: the answer is accepted only in the
same browser session, once, and within ten minutes. ``response_mode=query`` is
used because Odoo's session cookie is ``SameSite=Lax`` and would not come with a
cross-site POST (``form_post``). Whatever happens, the user is sent back to their
Microsoft 365 tab with a notice in plain words; tokens never reach the browser.
"""

import logging
import time

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from m365_graph import (
    AuthError,
    ConsentRequired,
    GraphError,
    WrongAccount,
    check_signed_in_identity,
    finish_auth_code_flow,
    start_auth_code_flow,
)

from ..models.m365_account import MY_ACCOUNTS_URL

_logger = logging.getLogger(__name__)

CALLBACK_PATH = "/m365_sync/oauth/callback"
SESSION_KEY = "m365_oauth"
FLOW_LIFETIME = 600  # seconds a sign-in may take
MAX_PENDING = 5  # sign-ins started in one session and not finished
# Identity-platform codes meaning "the tenant does not let users consent themselves".
ADMIN_CONSENT_CODES = ("AADSTS90094", "AADSTS65001", "AADSTS90095")


class M365OAuthController(http.Controller):
    def _back(self, message, kind):
        request.env.user._m365_set_notice(message, kind)
        return request.redirect(MY_ACCOUNTS_URL)

    def _give_up(self, account, message, kind="danger"):
        """The sign-in did not connect: a row that was never connected is dropped.

        "Add an account" creates the row before the sign-in; when the user declines or
        the sign-in fails, keeping it would only leave a dead "not connected" row
        behind. An account that was connected before keeps its row (a failed
        reconnection changes nothing).
        """
        if account and account.state == "new":
            account.sudo().unlink()
        return self._back(message, kind)

    @staticmethod
    def _redirect_uri():
        base = request.env["ir.config_parameter"].sudo().get_param("web.base.url") or ""
        return base.rstrip("/") + CALLBACK_PATH

    @http.route("/m365_sync/oauth/start", type="http", auth="user", methods=["GET", "POST"])
    def start(self, account_id=None, csrf_token=None, **_kwargs):
        env = request.env
        # Cross-site requests are refused: a POST passes Odoo's own CSRF check, a GET
        # must carry the session's CSRF token (the Connect button puts it in the link).
        if request.httprequest.method == "GET" and not request.validate_csrf(csrf_token):
            return self._back(
                request.env._(
                    "This sign-in link did not come from your Odoo page (its security token "
                    "is missing or expired), so nothing was started. Press Connect on your "
                    "Microsoft 365 account."
                ),
                "danger",
            )
        try:
            account = env["m365.account"].sudo().browse(int(account_id or 0)).exists()
        except ValueError:
            account = env["m365.account"]
        if not account or account.user_id != env.user:
            return self._back(
                request.env._("This Microsoft 365 account does not exist or is not yours."),
                "danger",
            )
        account = account.with_env(env)  # the user's own account, with their rights
        tenant = account.tenant_id
        if not tenant.personal_sync:
            return self._back(
                request.env._(
                    "Personal calendar sync is switched off for %(company)s; ask an "
                    "administrator to switch it on in Settings → Microsoft 365.",
                    company=account.company_id.name,
                ),
                "danger",
            )
        try:
            config = tenant._m365_config()
            begun = start_auth_code_flow(
                config,
                self._redirect_uri(),
                scopes=account._m365_consent_scopes(),
                # Microsoft pre-fills the sign-in: the mailbox of a connected account,
                # else the user's e-mail in Odoo (usually their work address).
                login_hint=account.email or env.user.email or None,
                response_mode="query",
            )
        except (GraphError, UserError, ValueError) as exc:
            return self._back(
                request.env._("The sign-in could not be started: %(error)s", error=exc), "danger"
            )
        pending = dict(request.session.get(SESSION_KEY) or {})
        # Keep a few unfinished sign-ins (several tabs), the newest ones.
        for state in sorted(pending, key=lambda s: pending[s].get("expires", 0))[:-MAX_PENDING]:
            pending.pop(state)
        pending[begun.state] = {
            "flow": begun.flow,
            "account_id": account.id,
            "uid": env.uid,
            "expires": time.time() + FLOW_LIFETIME,
        }
        request.session[SESSION_KEY] = pending
        return request.redirect(begun.auth_url, code=302, local=False)

    @http.route(CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def callback(self, **params):
        env = request.env
        pending = dict(request.session.get(SESSION_KEY) or {})
        state = params.get("state") or ""
        entry = pending.pop(state, None)
        request.session[SESSION_KEY] = pending  # single use, whatever happens next
        if entry is None or entry.get("uid") != env.uid:
            return self._back(
                request.env._(
                    "This answer from Microsoft was not expected: the sign-in was started in "
                    "another browser or session, was already used, or the link was altered. "
                    "Press Connect again."
                ),
                "danger",
            )
        account = env["m365.account"].browse(entry["account_id"]).exists()
        if entry.get("expires", 0) < time.time():
            return self._give_up(
                account,
                request.env._("The sign-in took more than ten minutes and expired. Try again."),
            )
        if not account:
            return self._back(
                request.env._(
                    "The Microsoft 365 account was removed while you were signing in; "
                    "nothing was connected."
                ),
                "danger",
            )
        if params.get("error"):
            return self._give_up(account, self._denied_message(params), "warning")
        tenant = account.tenant_id
        try:
            config = tenant._m365_config()
            result = finish_auth_code_flow(config, entry["flow"], params)
            oid = check_signed_in_identity(
                result.claims, result.home_account_id, expected_tenant=config.tenant
            )
        except ConsentRequired as exc:
            return self._give_up(account, self._admin_consent_message(exc))
        except WrongAccount as exc:
            return self._give_up(account, str(exc))
        except (AuthError, GraphError, UserError, ValueError) as exc:
            return self._give_up(account, request.env._("Connecting failed: %(error)s", error=exc))

        problem = self._identity_problem(account, oid, result.username)
        if problem:
            return self._give_up(account, problem)
        if not account._m365_lock():
            return self._back(
                request.env._(
                    "%(account)s is being synchronised right now; press Connect again in a minute.",
                    account=account.display_name,
                ),
                "warning",
            )
        account._m365_store_connection(result, oid)
        if account.direction in ("down", "both"):
            message = request.env._(
                "Connected to %(email)s. Your Outlook appointments are imported into your "
                "Odoo calendar in the background, usually within a minute; the account's "
                "row shows the result of its last synchronisation.",
                email=account.email,
            )
        else:
            message = request.env._("Connected to %(email)s.", email=account.email)
        return self._back(message, "success")

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------
    def _denied_message(self, params):
        error = params.get("error") or ""
        description = params.get("error_description") or ""
        if error == "access_denied" and not description.startswith(ADMIN_CONSENT_CODES):
            return request.env._(
                "You declined the permissions Odoo asked for, so the account was not "
                "connected. Sign in again and accept them to synchronise your calendar."
            )
        if error == "consent_required" or description.startswith(ADMIN_CONSENT_CODES):
            return self._admin_consent_message(description)
        return request.env._(
            "Microsoft did not connect the account (%(error)s): %(description)s",
            error=error,
            description=description.splitlines()[0][:300] if description else "",
        )

    def _admin_consent_message(self, detail):
        _logger.info("Microsoft 365 sign-in needs admin consent: %s", detail)
        return request.env._(
            "Your organisation only lets administrators approve the permissions Odoo asks "
            "for. Ask your Microsoft 365 administrator to grant admin consent for this app "
            "(Settings → Microsoft 365 → Grant admin consent), then sign in again."
        )

    @staticmethod
    def _identity_problem(account, oid, username):
        env = request.env
        if account.graph_user_id and account.graph_user_id != oid:
            return request.env._(
                "You signed in as %(other)s, but this account is %(email)s. To add another "
                "mailbox, use “Add an account”.",
                other=username,
                email=account.email,
            )
        other = (
            env["m365.account"]
            .sudo()
            .search(
                [
                    ("tenant_id", "=", account.tenant_id.id),
                    ("graph_user_id", "=", oid),
                    ("id", "!=", account.id),
                ],
                limit=1,
            )
        )
        if not other:
            return None
        if other.user_id != account.user_id:
            return request.env._(
                "%(email)s is already connected by another Odoo user (%(user)s). A mailbox "
                "can be connected to one Odoo user only.",
                email=username,
                user=other.user_id.name,
            )
        return request.env._(
            "%(email)s is already one of your Microsoft 365 accounts.", email=username
        )
