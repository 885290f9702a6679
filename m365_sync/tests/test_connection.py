import logging
import socket
from unittest.mock import patch

from odoo.tests import tagged

from .common import M365SandboxCase
from .test_admin_consent import simple_notifications


@tagged("post_install", "-at_install")
class TestConnection(M365SandboxCase):
    def run_background_test(self):
        """Run the job the button triggered; returns the notification its user got."""
        self.assertTrue(self.tenant.sudo().test_requested_by, "the button asked for a test")
        with patch.object(
            type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf")
        ):
            self.env["m365.tenant"]._m365_cron_test_connections()
        self.assertFalse(self.tenant.sudo().test_requested_by)
        (note,) = simple_notifications(self.env)
        return note

    def _rows(self):
        return {(line.feature, line.permission): line.state for line in self.tenant.permission_ids}

    def test_all_permissions_granted(self):
        self.sandbox.state.set_app_roles(["User.Read.All", "Calendars.ReadWrite", "Place.Read.All"])
        self.tenant.write(
            {"contact_sync": True, "busy_sync": True, "project_export": True, "room_sync": True}
        )
        action = self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "ok", self.tenant.last_check_message)
        self.assertEqual(action["params"]["type"], "success")
        rows = self._rows()
        self.assertEqual(rows[("contacts", "User.Read.All")], "granted")
        # Calendars.ReadWrite implies the read permission busy time asks for.
        self.assertEqual(rows[("busy_time", "Calendars.ReadBasic.All")], "granted")
        self.assertEqual(rows[("activity_export", "Calendars.ReadWrite")], "granted")
        self.assertEqual(rows[("rooms", "Place.Read.All")], "granted")
        # Subscriptions to users' and rooms' events: Calendars.Read, in ReadWrite.
        self.assertEqual(rows[("change_notifications", "Calendars.Read")], "granted")
        self.assertIn("User.Read.All", self.tenant.granted_roles)
        notes = {line.permission: line.note for line in self.tenant.permission_ids}
        self.assertEqual(notes["Calendars.ReadBasic.All"], "Included in Calendars.ReadWrite")
        self.assertFalse(notes["User.Read.All"], "literally granted: no note")
        line = self.tenant.permission_ids.filtered(lambda p: p.permission == "User.Read.All")
        self.assertEqual(line.permission_type, "application")
        self.assertTrue(line.admin_consent)
        run = self.env["m365.sync.run"].search([("kind", "=", "connection")], limit=1)
        self.assertEqual(run.state, "done")
        self.assertEqual(run.http_requests, 1, "one test read of /users")

    def test_partial_permissions(self):
        self.sandbox.state.set_app_roles(["User.Read.All"])
        self.tenant.write({"contact_sync": True, "busy_sync": True, "personal_sync": True})
        action = self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "missing")
        self.assertEqual(action["params"]["type"], "warning")
        rows = self._rows()
        self.assertEqual(rows[("contacts", "User.Read.All")], "granted")
        self.assertEqual(rows[("busy_time", "Calendars.ReadBasic.All")], "missing")
        # Delegated permissions are consented per user: an app token cannot tell.
        self.assertEqual(rows[("personal_sync", "Calendars.ReadWrite")], "user")
        self.assertIn("Calendars.ReadBasic.All", self.tenant.last_check_message)
        self.assertNotIn(("rooms", "Place.Read.All"), rows, "only enabled features are listed")
        self.assertEqual(rows[("change_notifications", "Calendars.Read")], "missing")
        self.assertIn("Calendars.Read,", self.tenant.last_check_message)

    def test_no_permissions(self):
        self.sandbox.state.set_app_roles([])
        self.tenant.write({"contact_sync": True, "busy_sync": False})
        self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "missing")
        self.assertEqual(self._rows(), {("contacts", "User.Read.All"): "missing"})
        self.assertIn("admin consent", self.tenant.last_check_message)
        self.assertIn("/adminconsent", self.tenant.admin_consent_url)

    def test_new_credentials_clear_the_last_result(self):
        self.sandbox.state.set_app_roles(["User.Read.All"])
        self.tenant.write({"contact_sync": True})
        self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "ok")
        self.tenant.client_secret = "another-secret"
        self.assertRecordValues(
            self.tenant,
            [
                {
                    "connection_state": "unchecked",
                    "last_check": False,
                    "last_check_message": False,
                    "granted_roles": False,
                }
            ],
        )
        self.assertFalse(self.tenant.permission_ids)
        self.tenant.contact_include_guests = True
        self.assertEqual(self.tenant.connection_state, "unchecked")

    def test_settings_test_button_saves_then_tests(self):
        self.sandbox.state.set_app_roles(["User.Read.All"])
        good = self.tenant.sudo().client_secret
        self.tenant.write({"contact_sync": True, "client_secret": "wrong"})
        self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "error")
        # What the button (noSaveDialog) does: save the page, then test in the background.
        settings = self.env["res.config.settings"].create({"m365_client_secret": good})
        action = settings.action_m365_test_connection()
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("started in the background", action["params"]["message"])
        self.assertEqual(self.tenant.connection_state, "error", "not tested yet")
        params = self.run_background_test()
        self.assertEqual(params["type"], "success", self.tenant.last_check_message)
        self.assertEqual(self.tenant.connection_state, "ok")
        self.assertIn("works and is now in use", params["message"])
        self.assertEqual(self.tenant.sudo().client_secret, good)
        settings.invalidate_recordset()
        self.assertFalse(settings.m365_client_secret, "the typed secret is not kept")
        self.assertFalse(self.tenant.sudo().client_secret_pending)

    def test_a_wrong_typed_secret_never_replaces_a_working_one(self):
        self.sandbox.state.set_app_roles(["User.Read.All"])
        self.tenant.write({"contact_sync": True})
        good = self.tenant.sudo().client_secret
        self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "ok")
        settings = self.env["res.config.settings"].create({"m365_client_secret": "typo"})
        self.assertNotIn("typo", str(settings.web_read({"m365_client_secret": {}})))
        settings.action_m365_test_connection()
        params = self.run_background_test()
        self.assertEqual(params["type"], "danger")
        message = params["message"]
        self.assertIn("was not saved", message)
        self.assertIn(f"The secret in use ({good[:3]}…", message)
        self.assertEqual(self.tenant.sudo().client_secret, good, "the working secret stays")
        self.assertFalse(self.tenant.sudo().client_secret_pending)
        self.assertEqual(self.tenant.connection_state, "ok", "the secret in use was not tested")
        # The scheduled jobs keep working with the secret in use.
        self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "ok")

    def test_save_puts_a_typed_secret_in_use_without_a_test(self):
        self.env["res.config.settings"].create({"m365_client_secret": "typed-and-saved"}).execute()
        self.assertEqual(self.tenant.sudo().client_secret, "typed-and-saved")
        self.assertEqual(self.tenant.client_secret_hint, "typ…")
        self.assertTrue(self.tenant.client_secret_date)
        self.assertFalse(self.tenant.sudo().client_secret_pending)

    def test_no_feature_enabled(self):
        self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "ok")
        self.assertFalse(self.tenant.permission_ids)
        self.assertIn("No feature", self.tenant.last_check_message)

    def _assert_fails_with(self, *fragments):
        action = self.tenant.action_test_connection()
        self.assertEqual(self.tenant.connection_state, "error")
        self.assertEqual(action["params"]["type"], "danger")
        message = self.tenant.last_check_message
        for fragment in fragments:
            self.assertIn(fragment, message)
        self.assertNotIn("Traceback", message)
        run = self.env["m365.sync.run"].search([("kind", "=", "connection")], limit=1)
        self.assertEqual(run.state, "failed")
        self.assertEqual(run.message, message)
        return message

    def test_wrong_secret(self):
        self.tenant.sudo().client_secret = "wrong-secret-value"
        message = self._assert_fails_with("secret")
        self.assertNotIn("wrong-secret-value", message)

    def test_unknown_tenant(self):
        self.tenant.azure_tenant = "nosuchtenant.onmicrosoft.com"
        self._assert_fails_with("nosuchtenant.onmicrosoft.com")

    def test_unknown_application(self):
        self.tenant.client_id = "00000000-0000-4000-8000-000000000000"
        self._assert_fails_with("00000000-0000-4000-8000-000000000000")

    def test_host_unreachable(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # Nothing listens on that port any more: connection refused.
        self.tenant.write(
            {
                "authority_host": f"https://127.0.0.1:{port}",
                "graph_url": f"https://127.0.0.1:{port}/v1.0",
            }
        )
        self._assert_fails_with(f"127.0.0.1:{port}", "10")

    def test_secret_never_logged(self):
        secret = self.tenant.sudo().client_secret
        with self.assertLogs(level=logging.DEBUG) as logs:
            logging.getLogger("odoo.addons.m365_sync").debug("capture start")
            self.tenant.action_test_connection()
            self.tenant.sudo().client_secret = "wrong-" + secret
            self.tenant.action_test_connection()
        text = "\n".join(logs.output)
        self.assertNotIn(secret, text)
        tokens = [
            value.split()[-1]
            for record in self.sandbox.log
            for name, value in record.headers.items()
            if name.lower() == "authorization"
        ]
        self.assertTrue(tokens, "the test connection called Graph with a bearer token")
        for token in tokens:
            self.assertNotIn(token, text)
