from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import TransactionCase


@tagged("post_install", "-at_install")
class TestSecurity(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant = cls.env.company.m365_tenant_id
        cls.tenant.write(
            {
                "azure_tenant": "contoso.onmicrosoft.com",
                "client_id": "11111111-2222-4333-8444-555555555555",
                "client_secret": "top-secret-value",
            }
        )
        cls.user = new_test_user(cls.env, login="m365_user", groups="base.group_user")
        cls.other = new_test_user(cls.env, login="m365_other", groups="base.group_user")
        cls.manager = new_test_user(
            cls.env, login="m365_manager", groups="base.group_user,m365_sync.group_m365_manager"
        )
        cls.admin = new_test_user(
            cls.env, login="m365_admin", groups="base.group_user,base.group_system"
        )

    def test_internal_users_are_m365_users(self):
        self.assertTrue(self.user.has_group("m365_sync.group_m365_user"))
        self.assertFalse(self.user.has_group("m365_sync.group_m365_manager"))
        self.assertTrue(self.admin.has_group("m365_sync.group_m365_manager"))

    def test_internal_user_cannot_read_the_secret(self):
        tenant = self.tenant.with_user(self.user)
        tenant.read(["display_name", "personal_sync"])  # allowed
        for fields in (["client_secret"], ["client_id"], ["granted_roles"], ["ca_bundle"]):
            with self.assertRaises(AccessError):
                tenant.read(fields)
        with self.assertRaises(AccessError):
            tenant.write({"personal_sync": True})
        with self.assertRaises(AccessError):
            self.tenant.with_user(self.manager).read(["client_secret"])

    def test_secret_never_returned_to_the_browser_even_for_admins(self):
        tenant = self.tenant.with_user(self.admin)
        for call in (
            lambda: tenant.read(["client_secret"]),
            lambda: tenant.web_read({"client_secret": {}}),
            lambda: tenant.search_read([("id", "=", tenant.id)], ["client_secret"]),
            lambda: tenant.search([("client_secret", "=like", "top%")]),
            lambda: tenant.search([], order="client_secret"),
            lambda: tenant._read_group([], ["client_secret"], ["__count"]),
            lambda: tenant._read_group([], [], ["client_secret:array_agg"]),
        ):
            with self.assertRaises(AccessError):
                call()
        payload = tenant.web_read({"client_secret_set": {}, "client_secret_input": {}})[0]
        self.assertTrue(payload["client_secret_set"])
        self.assertFalse(payload["client_secret_input"])
        self.assertNotIn("client_secret", tenant.fields_get())
        self.assertNotIn("top-secret-value", str(tenant.read()))
        self.assertNotIn("top-secret-value", str(tenant.web_read({"display_name": {}})))

    def test_settings_form_payload_contains_no_secret(self):
        settings_model = self.env["res.config.settings"].with_user(self.admin)
        fields_in_view = settings_model.fields_get()
        defaults = settings_model.default_get(list(fields_in_view))
        self.assertNotIn("top-secret-value", str(defaults))
        settings = settings_model.create({})
        spec = {
            name: {}
            for name in fields_in_view
            if fields_in_view[name]["type"] not in ("one2many", "many2many")
        }
        self.assertNotIn("top-secret-value", str(settings.web_read(spec)))
        self.assertTrue(settings.m365_client_secret_set)

    def test_users_see_only_their_own_runs(self):
        Run = self.env["m365.sync.run"]
        mine = Run._m365_start("personal", tenant=self.tenant, user=self.user)
        theirs = Run._m365_start("personal", tenant=self.tenant, user=self.other)
        tenant_run = Run._m365_start("contacts", tenant=self.tenant)
        visible = Run.with_user(self.user).search([])
        self.assertIn(mine, visible)
        self.assertNotIn(theirs, visible)
        self.assertNotIn(tenant_run, visible)
        with self.assertRaises(AccessError):
            mine.with_user(self.user).unlink()
        manager_visible = Run.with_user(self.manager).search([])
        self.assertTrue({mine, theirs, tenant_run} <= set(manager_visible))

    def test_only_admins_test_the_connection(self):
        with self.assertRaises(AccessError):
            self.tenant.with_user(self.manager).action_test_connection()

    def test_tenants_are_per_company(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other_tenant = other_company.m365_tenant_id
        Tenant = self.env["m365.tenant"]
        visible = Tenant.with_user(self.admin).search([])
        self.assertIn(self.tenant, visible)
        self.assertNotIn(other_tenant, visible, "the admin is not in the other company")
        self.admin.write({"company_ids": [(4, other_company.id)]})
        visible = (
            Tenant.with_user(self.admin)
            .with_context(allowed_company_ids=[other_company.id])
            .search([])
        )
        self.assertEqual(visible, other_tenant)
