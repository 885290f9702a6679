"""Browser tours (web_tour, Chromium): what an administrator, a user and a project
manager do on screen, against the sandbox tenant.

Odoo finds Chromium on PATH; without one, Odoo skips these tests with "Chrome
executable not found". The browser goes to the sandbox (Microsoft's sign-in and
admin-consent pages) and back: Odoo's test browser hands every request outside
Odoo to ``fetch_proxy``, which here forwards the sandbox's to it (trusting its
test CA) and returns its answer, redirects included. What runs in the
background between two tours (the connection test, the personal pull, the
outbox drain) is run here, as the cron would.
"""

from datetime import date, datetime, timedelta, timezone
from unittest.mock import patch

import requests

from odoo.tests import HttpCase, new_test_user, tagged

from .common import ADELE, SandboxMixin

DOMAIN = "contoso.onmicrosoft.com"


@tagged("post_install", "-at_install")
class TestTours(SandboxMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.object(type(cls.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf"))
        )

    def fetch_proxy(self, url):
        """The browser's requests to the sandbox (Microsoft's pages) reach it."""
        if not url.startswith(self.sandbox.url):
            return super().fetch_proxy(url)
        answer = requests.get(url, allow_redirects=False, verify=self.sandbox.ca_path, timeout=10)
        response = self.make_fetch_proxy_response(answer.content, answer.status_code)
        response["responseHeaders"] = [
            {"name": name, "value": value}
            for name, value in answer.headers.items()
            if name.lower() in ("location", "content-type")
        ]
        return response

    def setUp(self):
        super().setUp()
        state = self.sandbox.state
        state.consent = "accept"
        state.signed_in_user = None
        for event in state.events(ADELE):
            state.delete_event(ADELE, event["id"])

    def test_admin_connects_the_tenant_tests_it_and_grants_admin_consent(self):
        self.sandbox.state.set_app_roles([])
        self.tenant.write({"azure_tenant": False, "client_id": False})
        self.start_tour("/odoo/settings#m365_sync", "m365_admin_connect", login="admin")
        tenant = self.tenant.sudo()
        self.assertEqual((tenant.azure_tenant, tenant.client_id), (DOMAIN, self.sandbox.client_id))
        self.assertTrue(tenant.contact_sync)
        self.assertEqual(tenant.test_requested_by, self.env.ref("base.user_admin"))
        self.env["m365.tenant"]._m365_cron_test_connections()  # the cron the button woke
        self.assertEqual(tenant.connection_state, "missing", tenant.last_check_message)
        self.start_tour("/odoo/settings#m365_permissions", "m365_admin_consent", login="admin")
        self.env.invalidate_all()
        self.assertEqual(tenant.admin_consent_state, "granted", tenant.admin_consent_message)
        self.assertIn("User.Read.All", self.sandbox.state.app.roles)
        self.env["m365.tenant"]._m365_cron_test_connections()
        self.assertEqual(tenant.connection_state, "ok", tenant.last_check_message)

    def test_user_connects_an_account_and_syncs(self):
        self.tenant.personal_sync = True
        user = new_test_user(
            self.env,
            login="m365_tour_user",
            groups="base.group_user",
            email=ADELE,
            tz="Europe/Berlin",
        )
        self.sandbox.state.signed_in_user = ADELE
        self.start_tour(
            "/odoo/action-m365_sync.action_m365_my_accounts", "m365_user_connect", login=user.login
        )
        account = self.env["m365.account"].sudo().search([("user_id", "=", user.id)])
        self.assertEqual((account.email, account.state), (ADELE, "connected"))
        self.assertTrue(account.sync_notify, "Sync now asked for a sync and a notification")
        soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=2)
        self.sandbox.state.add_event(ADELE, "Dentist", soon, soon + timedelta(hours=1))
        self.env["m365.job.personal"]._m365_cron()
        self.assertEqual(account.state, "connected", account.last_error)
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "Dentist")]))
        self.assertFalse(account.sync_notify, "told once the pull was done")

    def test_project_manager_exports_an_activity(self):
        self.tenant.write({"project_export": True})
        self.tenant.action_test_connection()  # the application permission is known
        assignee = new_test_user(
            self.env,
            login="m365_tour_adele",
            name="Adele Tour",
            groups="base.group_user,project.group_project_user",
            email=ADELE,
            tz="Europe/Berlin",
        )
        manager = new_test_user(
            self.env,
            login="m365_tour_pm",
            groups="base.group_user,project.group_project_manager",
            tz="Europe/Berlin",
        )
        project = self.env["project.project"].create(
            {"name": "Kitchen renovation", "m365_export": True, "user_id": manager.id}
        )
        task = self.env["project.task"].create(
            {"name": "Order the tiles", "project_id": project.id, "user_ids": [assignee.id]}
        )
        # A day of workload for the overview (the busy-time import would fill it in).
        self.env["m365.workload.day"].create(
            {
                "user_id": assignee.id,
                "company_id": assignee.company_id.id,
                "date": date.today(),
                "capacity_hours": 8.0,
                "busy_hours": 3.0,
                "planned_hours": 1.0,
            }
        )
        self.start_tour(f"/odoo/project.task/{task.id}", "m365_pm_export", login=manager.login)
        activity = self.env["mail.activity"].search([("summary", "=", "Measure the walls")])
        self.assertTrue(activity.m365_export)
        self.assertEqual(activity.user_id, assignee)
        self.env["m365.job.outbox"]._m365_cron()
        subjects = [event["subject"] for event in self.sandbox.state.events(ADELE)]
        self.assertIn("Measure the walls", " ".join(subjects))
