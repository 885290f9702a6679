"""Who sees busy time and workload: users their own slots, managers all, per company."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .busy_common import MONDAY, BusyCase


@tagged("post_install", "-at_install")
class TestBusySecurity(BusyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="m365_busy_manager",
            groups="base.group_user,m365_sync.group_m365_manager",
        )
        cls.plain = new_test_user(cls.env, login="m365_plain", groups="base.group_user")

    def setUp(self):
        super().setUp()
        self.event("Adele Vance", MONDAY, 9, 10)
        self.event("Alex Wilber", MONDAY, 9, 10)
        self.import_busy()

    def test_users_see_only_their_own_busy_time(self):
        Slot = self.Slot.with_user(self.adele)
        mine = Slot.search([])
        self.assertEqual(mine.user_id, self.adele)
        alex_slot = self.slots(self.alex)
        with self.assertRaises(AccessError):
            alex_slot.with_user(self.adele).read(["start"])
        with self.assertRaises(AccessError):
            mine.write({"show_as": "free"})
        with self.assertRaises(AccessError):
            mine.unlink()

    def test_managers_see_all_busy_time(self):
        self.assertEqual(
            self.Slot.with_user(self.manager).search([]).user_id, self.adele | self.alex
        )

    def test_workload_is_for_project_users(self):
        rows = self.Day.with_user(self.adele).search([("date", "=", MONDAY)])
        self.assertEqual(rows.user_id, self.adele | self.alex | self.megan)
        with self.assertRaises(AccessError):
            self.Day.with_user(self.plain).search([])
        with self.assertRaises(AccessError):
            rows.with_user(self.adele).write({"busy_hours": 0})

    def test_category_rules_are_managed_by_managers(self):
        rule = self.env["m365.category.rule"].with_user(self.manager).create({"name": "Focus time"})
        self.assertEqual(rule.tenant_id, self.tenant)
        rule.with_user(self.adele).read(["name"])
        with self.assertRaises(AccessError):
            self.env["m365.category.rule"].with_user(self.adele).create({"name": "Private"})

    def test_only_managers_start_an_import(self):
        with self.assertRaises(AccessError):
            self.tenant.with_user(self.adele).action_m365_sync_busy_now()

    def test_other_companies_stay_hidden(self):
        other = self.env["res.company"].create({"name": "Fabrikam"})
        stranger = new_test_user(
            self.env,
            login="fabrikam_pm",
            groups="base.group_user,project.group_project_user,m365_sync.group_m365_manager",
            company_id=other.id,
            company_ids=[other.id],
        )
        self.assertFalse(self.Slot.with_user(stranger).search([]))
        self.assertFalse(self.Day.with_user(stranger).search([]))
        self.assertFalse(self.env["m365.category.rule"].with_user(stranger).search([]))
