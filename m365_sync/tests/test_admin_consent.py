"""Grant admin consent from Settings: Odoo → Microsoft's /adminconsent → Odoo's own callback."""

import json
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tests import tagged

from ..models.m365_tenant import SETTINGS_URL
from .common import M365SandboxHttpCase


def simple_notifications(env):
    """The simple_notification payloads sent on the bus in this transaction."""
    values = env.cr.precommit.data.get("bus.bus.values", [])
    messages = [json.loads(value["message"]) for value in values]
    return [m["payload"] for m in messages if m["type"] == "simple_notification"]


@tagged("post_install", "-at_install")
class TestAdminConsent(M365SandboxHttpCase):
    def setUp(self):
        super().setUp()
        self.authenticate("admin", "admin")
        self.sandbox.state.set_app_roles([])
        self.sandbox.state.consent = "accept"
        self.tenant.write({"contact_sync": True})
        self.tenant._m365_store_check_failure("before")
        patcher = patch.object(
            type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf")
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def press(self):
        """The Settings button: Odoo answers with Microsoft's admin-consent page."""
        action = self.make_jsonrpc_request(
            "/web/dataset/call_button/m365.tenant/action_m365_admin_consent",
            {
                "model": "m365.tenant",
                "method": "action_m365_admin_consent",
                "args": [[self.tenant.id]],
                "kwargs": {},
            },
        )
        self.assertEqual(action["type"], "ir.actions.act_url")
        return action["url"]

    def microsoft(self, url):
        answer = requests.get(url, allow_redirects=False, verify=self.sandbox.ca_path, timeout=10)
        self.assertEqual(answer.status_code, 302, answer.text[:300])
        parts = urlsplit(answer.headers["Location"])
        self.assertEqual(parts.path, "/m365_sync/admin_consent/callback")
        return f"{parts.path}?{parts.query}"

    def back_in_odoo(self, path):
        answer = self.url_open(path, allow_redirects=False)
        self.assertEqual(answer.status_code, 303, answer.text[:300])
        self.assertTrue(answer.headers["Location"].endswith(SETTINGS_URL))
        self.env.invalidate_all()
        return self.tenant.sudo()

    def test_granted_comes_back_to_settings_and_tests_again(self):
        url = self.press()
        query = parse_qs(urlsplit(url).query)
        self.assertTrue(query["redirect_uri"][0].endswith("/m365_sync/admin_consent/callback"))
        self.assertIn("/adminconsent", urlsplit(url).path)
        tenant = self.back_in_odoo(self.microsoft(url))
        self.assertEqual(tenant.admin_consent_state, "granted")
        self.assertIn("Admin consent granted", tenant.admin_consent_message)
        self.assertFalse(tenant.admin_consent_nonce, "an answer is accepted once")
        self.assertEqual(tenant.test_requested_by, self.env.ref("base.user_admin"))
        # The background test finds the permissions the consent granted.
        self.env["m365.tenant"]._m365_cron_test_connections()
        self.assertEqual(tenant.connection_state, "ok", tenant.last_check_message)
        self.assertFalse(tenant.test_requested_by)
        (note,) = simple_notifications(self.env)
        self.assertEqual(note["type"], "success")
        self.assertIn("Connected", note["message"])

    def test_cancelled_says_so_and_grants_nothing(self):
        self.sandbox.state.consent = "deny"
        tenant = self.back_in_odoo(self.microsoft(self.press()))
        self.assertEqual(tenant.admin_consent_state, "refused")
        self.assertIn("did not grant admin consent (access_denied)", tenant.admin_consent_message)
        self.assertIn("AADSTS65004", tenant.admin_consent_message)
        self.assertFalse(tenant.test_requested_by)
        self.assertEqual(self.sandbox.state.app.roles, set())

    def test_an_answer_not_asked_for_is_not_recorded_as_granted(self):
        self.press()
        path = "/m365_sync/admin_consent/callback?admin_consent=True&tenant=x&state=forged.2.9"
        tenant = self.back_in_odoo(path)
        self.assertNotEqual(tenant.admin_consent_state, "granted")
        self.assertIn("was not expected", tenant.admin_consent_message)
        self.assertTrue(tenant.admin_consent_nonce, "the real request can still be answered")

    def test_an_answer_for_another_tenant_is_refused(self):
        url = self.press()
        state = parse_qs(urlsplit(url).query)["state"][0]
        path = (
            "/m365_sync/admin_consent/callback?admin_consent=True"
            f"&tenant=11111111-2222-3333-4444-555555555555&state={state}"
        )
        tenant = self.back_in_odoo(path)
        self.assertEqual(tenant.admin_consent_state, "refused")
        self.assertIn("another tenant", tenant.admin_consent_message)
