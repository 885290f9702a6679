"""The OAuth round trip through the browser: Odoo → sandbox /authorize → Odoo callback."""

from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tests import tagged

from ..controllers import oauth
from .common import ADELE, MEGAN, M365SandboxHttpCase, PersonalSyncMixin

MY_ACCOUNTS = "/odoo/action-m365_sync.action_m365_my_accounts"


@tagged("post_install", "-at_install")
class TestOAuthRoundTrip(PersonalSyncMixin, M365SandboxHttpCase):
    def setUp(self):
        super().setUp()
        self.authenticate("m365_adele", "m365_adele")
        self.account = self.env["m365.account"].with_user(self.user).create({"direction": "down"})
        self.sandbox.state.signed_in_user = ADELE

    def connect_url(self, account):
        """What the Connect button opens: its link carries the session's CSRF token."""
        action = self.make_jsonrpc_request(
            "/web/dataset/call_button/m365.account/action_connect",
            {
                "model": "m365.account",
                "method": "action_connect",
                "args": [[account.id]],
                "kwargs": {},
            },
        )
        self.assertIn("csrf_token=", action["url"])
        return action["url"]

    def start(self, account=None):
        """Press Connect: Odoo redirects the browser to the identity platform."""
        answer = self.url_open(self.connect_url(account or self.account), allow_redirects=False)
        self.assertEqual(answer.status_code, 302, answer.text[:300])
        location = answer.headers["Location"]
        self.assertTrue(location.startswith(self.sandbox.url), location)
        return location

    def authorize(self, location):
        """The identity platform answers at once (non-interactive sandbox)."""
        answer = requests.get(
            location, allow_redirects=False, verify=self.sandbox.ca_path, timeout=10
        )
        self.assertEqual(answer.status_code, 302, answer.text[:300])
        callback = answer.headers["Location"]
        self.assertIn("/m365_sync/oauth/callback?", callback)
        parts = urlsplit(callback)
        return f"{parts.path}?{parts.query}"

    def assert_dropped(self):
        """A sign-in that did not connect leaves no "not connected" row behind."""
        self.assertFalse(self.account.exists(), "the never-connected row is removed")
        self.assertFalse(
            self.env["m365.account"].sudo().search([("user_id", "=", self.user.id)]),
        )

    def callback(self, path):
        answer = self.url_open(path, allow_redirects=False)
        self.assertEqual(answer.status_code, 303, answer.text[:300])
        self.assertTrue(answer.headers["Location"].endswith(MY_ACCOUNTS))
        self.env.invalidate_all()
        return self.user.m365_notice_type, self.user.m365_notice or ""

    def test_connect_round_trip(self):
        location = self.start()
        query = parse_qs(urlsplit(location).query)
        scopes = query["scope"][0].split()
        self.assertIn("Calendars.Read", scopes, "Down asks only to read the calendar")
        self.assertNotIn("Calendars.ReadWrite", scopes)
        self.assertEqual(query["code_challenge_method"], ["S256"])
        self.assertEqual(query["response_mode"], ["query"])
        self.assertEqual(query["login_hint"], ["adele@odoo.example"], "the user's e-mail")
        self.assertTrue(query["redirect_uri"][0].endswith("/m365_sync/oauth/callback"))
        kind, notice = self.callback(self.authorize(location))
        self.assertEqual(kind, "success", notice)
        self.assertIn(ADELE, notice)
        account = self.account.sudo()
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.email, ADELE)
        self.assertEqual(account.graph_user_id, self.sandbox.state.get_user(ADELE)["id"])
        self.assertTrue(account.token_cache)
        self.assertTrue(account.sync_requested)
        cron = self.env.ref("m365_sync.ir_cron_m365_personal_sync")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        # The page the user lands on is their Microsoft 365 tab.
        self.assertEqual(self.url_open(MY_ACCOUNTS).status_code, 200)

    def test_replayed_answer_is_refused(self):
        path = self.authorize(self.start())
        self.assertEqual(self.callback(path)[0], "success")
        self.account.sudo().write({"email": "kept@example.com"})
        kind, notice = self.callback(path)
        self.assertEqual(kind, "danger")
        self.assertIn("not expected", notice)
        self.assertEqual(self.account.sudo().email, "kept@example.com", "nothing changed")

    def test_tampered_state_is_refused(self):
        path = self.authorize(self.start())
        kind, notice = self.callback(path.replace("state=", "state=x"))
        self.assertEqual(kind, "danger")
        self.assertIn("not expected", notice)
        self.assertEqual(self.account.sudo().state, "new")

    def test_answer_for_another_odoo_session_is_refused(self):
        path = self.authorize(self.start())
        self.authenticate("m365_megan", "m365_megan")
        answer = self.url_open(path, allow_redirects=False)
        self.assertEqual(answer.status_code, 303)
        self.env.invalidate_all()
        self.assertIn("not expected", self.other_user.m365_notice)
        self.assertEqual(self.account.sudo().state, "new")

    def test_expired_sign_in_is_refused(self):
        with patch.object(oauth, "FLOW_LIFETIME", -1):
            location = self.start()
        kind, notice = self.callback(self.authorize(location))
        self.assertEqual(kind, "danger")
        self.assertIn("expired", notice)
        self.assert_dropped()

    def test_consent_denied(self):
        self.sandbox.state.consent = "deny"
        kind, notice = self.callback(self.authorize(self.start()))
        self.assertEqual(kind, "warning")
        self.assertIn("You declined", notice)
        self.assert_dropped()

    def test_declined_reconnection_keeps_the_account(self):
        self.assertEqual(self.callback(self.authorize(self.start()))[0], "success")
        self.account.sudo().write({"state": "reconnect"})
        self.sandbox.state.consent = "deny"
        kind, _notice = self.callback(self.authorize(self.start()))
        self.assertEqual(kind, "warning")
        self.assertEqual(self.account.sudo().state, "reconnect", "a connected account stays")

    def test_abandoned_then_successful_sign_in_the_connected_account_is_main(self):
        # First try: the user leaves Microsoft's page (Back, closed tab): no answer.
        self.start()
        self.assertFalse(self.account.is_main, "a never-connected row is never main")
        self.assertNotIn(self.account, self.user.m365_account_ids, "not shown in the tab")
        # Second try, a new row: the sign-in succeeds.
        second = self.env["m365.account"].with_user(self.user).create({"direction": "down"})
        self.assertEqual(self.callback(self.authorize(self.start(second)))[0], "success")
        second = second.sudo()
        self.assertEqual(second.state, "connected")
        self.assertTrue(second.is_main, "the connected account is main")
        self.assertFalse(self.account.is_main)
        self.assertEqual(self.user.m365_account_ids, second)
        # The abandoned row is removed once a sign-in can no longer come back to it.
        self.env.cr.execute(
            "UPDATE m365_account SET create_date = now() - interval '1 hour' WHERE id = %s",
            [self.account.id],
        )
        self.env.invalidate_all()
        self.user.with_user(self.user).action_m365_add_account()
        self.assertFalse(self.account.exists())
        self.assertTrue(second.exists())

    def test_admin_consent_required(self):
        self.sandbox.state.consent = "admin_required"
        kind, notice = self.callback(self.authorize(self.start()))
        self.assertEqual(kind, "warning")
        self.assertIn("administrator", notice)
        self.assertIn("admin consent", notice)
        self.assert_dropped()

    def test_account_deleted_during_sign_in(self):
        location = self.start()
        self.account.sudo().unlink()
        kind, notice = self.callback(self.authorize(location))
        self.assertEqual(kind, "danger")
        self.assertIn("removed while you were signing in", notice)
        self.assertFalse(self.env["m365.account"].sudo().search([("email", "=", ADELE)]))

    def test_mailbox_already_connected_by_another_odoo_user(self):
        self.env["m365.account"].sudo().create(
            {
                "user_id": self.other_user.id,
                "graph_user_id": self.sandbox.state.get_user(ADELE)["id"],
                "email": ADELE,
                "state": "connected",
            }
        )
        kind, notice = self.callback(self.authorize(self.start()))
        self.assertEqual(kind, "danger")
        self.assertIn("another Odoo user", notice)
        self.assert_dropped()

    def test_reconnect_with_another_mailbox_is_refused(self):
        self.callback(self.authorize(self.start()))
        self.sandbox.state.signed_in_user = MEGAN
        self.account.sudo().write({"state": "reconnect"})
        kind, notice = self.callback(self.authorize(self.start()))
        self.assertEqual(kind, "danger")
        self.assertIn("Add an account", notice)
        self.assertEqual(self.account.sudo().email, ADELE)

    def test_wrong_tenant(self):
        # The company is configured for another tenant id (which the sandbox also
        # answers to): the token's tid does not match it.
        other = "11111111-2222-4333-8444-555555555555"
        self.sandbox.state.domains.append(other)
        self.addCleanup(self.sandbox.state.domains.remove, other)
        self.tenant.azure_tenant = other
        kind, notice = self.callback(self.authorize(self.start()))
        self.assertEqual(kind, "danger")
        self.assertIn("another organisation", notice)
        self.assert_dropped()

    def test_broader_direction_asks_for_consent_again(self):
        self.callback(self.authorize(self.start()))
        self.account.direction = "both"
        self.assertTrue(self.account.consent_needed)
        location = self.start()
        scopes = parse_qs(urlsplit(location).query)["scope"][0].split()
        self.assertIn("Calendars.ReadWrite", scopes)
        kind, _notice = self.callback(self.authorize(location))
        self.assertEqual(kind, "success")
        self.account.invalidate_recordset()
        self.assertFalse(self.account.consent_needed)

    def test_configuration_removed_during_sign_in(self):
        path = self.authorize(self.start())
        self.tenant.write({"client_id": False})
        kind, notice = self.callback(path)
        self.assertEqual(kind, "danger")
        self.assertIn("not configured", notice)
        self.assert_dropped()

    def test_someone_elses_account_cannot_be_started(self):
        theirs = self.env["m365.account"].sudo().create({"user_id": self.other_user.id})
        token = parse_qs(urlsplit(self.connect_url(self.account)).query)["csrf_token"][0]
        answer = self.url_open(
            f"/m365_sync/oauth/start?account_id={theirs.id}&csrf_token={token}",
            allow_redirects=False,
        )
        self.assertEqual(answer.status_code, 303)
        self.env.invalidate_all()
        self.assertIn("not yours", self.user.m365_notice)

    def test_a_link_from_another_site_starts_nothing(self):
        for url in (
            f"/m365_sync/oauth/start?account_id={self.account.id}",
            f"/m365_sync/oauth/start?account_id={self.account.id}&csrf_token=forged",
        ):
            answer = self.url_open(url, allow_redirects=False)
            self.assertEqual(answer.status_code, 303, "back to the tab, not to Microsoft")
            self.env.invalidate_all()
            self.assertIn("did not come from your Odoo page", self.user.m365_notice)
        answer = self.url_open(
            "/m365_sync/oauth/start", data={"account_id": self.account.id}, allow_redirects=False
        )
        self.assertEqual(answer.status_code, 400, "a POST without Odoo's CSRF token is refused")

    def test_personal_sync_off(self):
        url = self.connect_url(self.account)
        self.tenant.personal_sync = False
        answer = self.url_open(url, allow_redirects=False)
        self.assertEqual(answer.status_code, 303)
        self.env.invalidate_all()
        self.assertIn("switched off", self.user.m365_notice)


@tagged("post_install", "-at_install")
class TestOAuthNeedsLogin(M365SandboxHttpCase):
    def test_callback_needs_a_session(self):
        self.authenticate(None, None)  # a visitor: a session on the database, no user
        answer = self.url_open("/m365_sync/oauth/callback?code=x&state=y", allow_redirects=False)
        self.assertIn(answer.status_code, (302, 303))
        self.assertIn("/web/login", answer.headers["Location"])
