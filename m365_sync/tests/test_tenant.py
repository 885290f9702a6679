from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tests.common import TransactionCase
from odoo.tools import mute_logger

GUID = "8f7e6d5c-4b3a-4c2d-9e1f-0a1b2c3d4e5f"
CLIENT = "11111111-2222-4333-8444-555555555555"


@tagged("post_install", "-at_install")
class TestTenantSettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant = cls.env.company.m365_tenant_id

    def _settings(self, **values):
        settings = self.env["res.config.settings"].create(values)
        settings.execute()
        return settings

    def test_every_company_has_one_tenant(self):
        self.assertTrue(self.tenant)
        company = self.env["res.company"].create({"name": "Second company"})
        self.assertEqual(len(company.m365_tenant_ids), 1)
        self.assertNotEqual(company.m365_tenant_id, self.tenant)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["m365.tenant"].create({"company_id": company.id})

    def test_settings_round_trip(self):
        self._settings(
            m365_azure_tenant=f"  {GUID} ",
            m365_client_id=CLIENT,
            m365_client_secret="s3cret-value",
            m365_contact_sync=True,
            m365_busy_sync=True,
            m365_busy_interval_minutes=20,
            m365_run_retention_days=30,
        )
        self.assertEqual(self.tenant.azure_tenant, GUID, "surrounding spaces are stripped")
        self.assertEqual(self.tenant.client_id, CLIENT)
        self.assertEqual(self.tenant.sudo().client_secret, "s3cret-value")
        self.assertTrue(self.tenant.client_secret_set)
        self.assertTrue(self.tenant.is_configured)
        # Change notifications are on by default: their subscriptions need Calendars.Read.
        self.assertEqual(
            self.tenant._m365_enabled_features(), ["contacts", "busy_time", "change_notifications"]
        )
        self.tenant.notifications_enabled = False
        self.assertEqual(self.tenant._m365_enabled_features(), ["contacts", "busy_time"])
        self.assertEqual(
            self.env["ir.config_parameter"].get_param("m365_sync.run_retention_days"), "30"
        )

        loaded = self.env["res.config.settings"].create({})
        self.assertEqual(loaded.m365_azure_tenant, GUID)
        self.assertEqual(loaded.m365_busy_interval_minutes, 20)
        self.assertTrue(loaded.m365_client_secret_set)
        self.assertFalse(loaded.m365_client_secret, "the saved secret is never loaded back")

        # Saving again without typing a secret keeps the stored one.
        self._settings(m365_azure_tenant="contoso.onmicrosoft.com")
        self.assertEqual(self.tenant.azure_tenant, "contoso.onmicrosoft.com")
        self.assertEqual(self.tenant.sudo().client_secret, "s3cret-value")

        # Typing a new one replaces it.
        self._settings(m365_client_secret="another")
        self.assertEqual(self.tenant.sudo().client_secret, "another")

    def test_defaults_point_to_microsoft_public_cloud(self):
        self.assertEqual(self.tenant.authority_host, "https://login.microsoftonline.com")
        self.assertEqual(self.tenant.graph_url, "https://graph.microsoft.com/v1.0")
        self.assertEqual(self.tenant.busy_interval_minutes, 15)
        self.assertEqual(self.tenant.personal_interval_minutes, 30)
        self.assertEqual(self.tenant.contact_interval_hours, 24)

    def test_invalid_values_are_refused_in_plain_words(self):
        with self.assertRaisesRegex(ValidationError, "not a tenant ID"):
            self.tenant.azure_tenant = "not a tenant"
        with self.assertRaisesRegex(ValidationError, "not an Application"):
            self.tenant.client_id = "my-app"
        with self.assertRaisesRegex(ValidationError, "must start with https://"):
            self.tenant.graph_url = "http://graph.example.com/v1.0"
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.tenant.busy_interval_minutes = 5
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.tenant.personal_interval_minutes = 10

    def test_changing_credentials_resets_the_connection_state(self):
        self.tenant.sudo().write({"connection_state": "ok"})
        self.tenant.client_id = CLIENT
        self.assertEqual(self.tenant.connection_state, "unchecked")

    def test_not_configured_is_a_clear_error(self):
        self.tenant.write({"azure_tenant": False, "client_id": False})
        with self.assertRaisesRegex(ValidationError, "not configured"):
            self.tenant._m365_connection_params()

    def test_admin_consent_url(self):
        self.tenant.write({"azure_tenant": GUID, "client_id": CLIENT})
        url = self.tenant.admin_consent_url
        self.assertIn(f"https://login.microsoftonline.com/{GUID}/adminconsent", url)
        self.assertIn(f"client_id={CLIENT}", url)

    def test_views_load_and_show_rooms(self):
        settings = self.env["res.config.settings"].get_view(view_type="form")["arch"]
        self.assertIn('name="m365_contact_sync"', settings)
        self.assertIn('noSaveDialog="1"', settings)
        self.assertIn('name="m365_room_sync"', settings, "rooms are a feature of Settings")
        Tenant = self.env["m365.tenant"]
        form = Tenant.get_view(view_type="form")["arch"]
        self.assertIn('name="room_sync"', form)
        self.assertNotIn("statusbar", form)
        self.assertIn('name="personal_days_back"', form)
        self.assertIn('name="personal_notify_managers"', form)
        self.assertNotIn('name="room_sync"', Tenant.get_view(view_type="list")["arch"])
        self.assertEqual(Tenant._fields["admin_consent_url"].string, "Admin consent link")
        self.assertEqual(Tenant._fields["client_secret"].string, "Client secret")
