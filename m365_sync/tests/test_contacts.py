"""Contact sync against the sandbox: baseline, increments, ownership, bad input.

Each test gets a fresh sandbox tenant (the default seed: six members with a
mailbox or not, a disabled user, a guest and a room), so changes made in one test
never leak into another; the Odoo side is rolled back by the TransactionCase.
"""

from datetime import datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.sql_db import db_connect
from odoo.tests import new_test_user, tagged

from m365_graph.identity.auth import forget_apps
from m365_sandbox import Sandbox

from ..models.jobs import m365_job_contacts as m365_contact_sync
from .common import M365SandboxCase

DOMAIN = "contoso.onmicrosoft.com"
JORDAN = "jordan.miller_fabrikam.com#EXT#@contoso.onmicrosoft.com"
PAST = datetime(2020, 1, 1, 12, 0, 0)
MEMBERS = ("Adele Vance", "Alex Wilber", "Megan Bowen", "Lynne Robbins", "Diego Siciliani")
IMPORTED = (*MEMBERS, "Isaiah Langer")


def upn(name):
    return f"{name.lower().replace(' ', '.')}@{DOMAIN}"


@tagged("post_install", "-at_install")
class TestContactSync(M365SandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env["res.partner"].with_context(active_test=False)
        cls.Sync = cls.env["m365.job.contacts"]
        cls.tag = cls.env.ref("m365_sync.res_partner_category_m365")

    def setUp(self):
        super().setUp()
        # A fresh directory per test: the class sandbox would keep one test's changes.
        sb = self.sandbox = Sandbox().start()
        self.addCleanup(sb.stop)
        self.tenant.write(
            {
                "azure_tenant": sb.tenant_id,
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "authority_host": sb.url,
                "graph_url": sb.graph_url,
                "ca_bundle": sb.ca_path,
                "http_timeout": 10,
                "contact_sync": True,
            }
        )
        # Jobs commit per batch; a test must not.
        self.patch(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf"))

    # ------------------------------------------------------------------ helpers
    def sync(self):
        return self.Sync._m365_sync(self.tenant)

    def synced(self):
        return self.Partner.search([("m365_user_id", "!=", False)])

    def contact(self, name):
        user_id = self.sandbox.state.get_user(upn(name))["id"]
        return self.Partner.search([("m365_user_id", "=", user_id)])

    def age_write_dates(self):
        """Move every synced contact's write_date to the past: a later write shows."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s WHERE m365_user_id IS NOT NULL", [PAST]
        )
        self.env.invalidate_all()

    def assertUntouched(self, partners):
        partners.invalidate_recordset(["write_date"])
        self.assertEqual(set(partners.mapped("write_date")), {PAST})

    def assertCounts(self, run, **expected):
        counts = {name: run[name] for name in ("created", "updated", "deleted", "skipped")}
        self.assertEqual(counts, {name: expected.get(name, 0) for name in counts}, run.message)

    # ------------------------------------------------------------------ baseline + increments
    def test_first_run_imports_members_then_a_run_without_change_writes_nothing(self):
        run = self.sync()
        self.assertEqual(run.state, "done", run.message)
        self.assertCounts(run, created=6, skipped=3)
        self.assertIn("2 user(s) not imported: account disabled", run.skipped_details)
        self.assertIn("1 user(s) not imported: guest user", run.skipped_details)
        self.assertIn("Full read of the directory", run.message)
        self.assertEqual(sorted(self.synced().mapped("name")), sorted(IMPORTED))
        adele = self.contact("Adele Vance")
        self.assertRecordValues(
            adele,
            [
                {
                    "name": "Adele Vance",
                    "email": upn("Adele Vance"),
                    "phone": "+1 425 555 0109",
                    "m365_mobile": "+1 425 555 0199",
                    "function": "Retail Manager",
                    "m365_department": "Retail",
                    "m365_office_location": "18/2111",
                    "m365_upn": upn("Adele Vance"),
                    "m365_user_type": "member",
                    "m365_account_enabled": True,
                    "m365_tenant_id": self.tenant.id,
                    "company_id": self.env.company.id,
                    "is_company": False,
                    "active": True,
                    "parent_id": False,
                }
            ],
        )
        self.assertIn(self.tag, adele.category_id)
        self.assertTrue(self.tenant.contact_delta_link)
        self.assertTrue(self.tenant.contact_delta_date)
        self.assertGreaterEqual(run.http_requests, 1)

        self.age_write_dates()
        again = self.sync()
        self.assertEqual(again.state, "done", again.message)
        self.assertCounts(again)
        self.assertUntouched(self.synced())
        self.assertEqual(again.http_requests, 1, "one delta page, nothing else")
        self.assertNotIn("Full read", again.message)

    def test_a_user_renamed_in_microsoft_365_is_renamed_after_one_run(self):
        self.sync()
        self.age_write_dates()
        adele = upn("Adele Vance")
        self.sandbox.state.update_user(adele, displayName="Adele Vance-Miller")
        run = self.sync()
        self.assertCounts(run, updated=1)
        renamed = self.contact("Adele Vance")
        self.assertEqual(renamed.name, "Adele Vance-Miller")
        self.assertEqual(renamed.function, "Retail Manager", "unchanged properties stay")
        self.assertUntouched(self.synced() - renamed)

    def test_new_and_partially_changed_users(self):
        self.sync()
        new = self.sandbox.state.add_user(
            "Nina Neu", job_title="Intern", business_phones=["+49 30 555"]
        )
        self.sandbox.state.update_user(upn("Megan Bowen"), mobilePhone="+1 412 555 0111")
        run = self.sync()
        self.assertCounts(run, created=1, updated=1)
        nina = self.Partner.search([("m365_user_id", "=", new["id"])])
        self.assertEqual(
            (nina.name, nina.function, nina.phone), ("Nina Neu", "Intern", "+49 30 555")
        )
        megan = self.contact("Megan Bowen")
        self.assertEqual(megan.m365_mobile, "+1 412 555 0111")
        self.assertEqual(megan.function, "Marketing Manager")

    def test_a_previously_skipped_user_that_changes_is_read_in_full(self):
        self.sync()
        jordan = self.sandbox.state.get_user(JORDAN)
        self.sandbox.state.update_user(jordan["id"], userType="Member")
        self.sandbox.log.clear()
        run = self.sync()
        self.assertCounts(run, created=1)
        contact = self.Partner.search([("m365_user_id", "=", jordan["id"])])
        self.assertEqual(contact.name, "Jordan Miller (Fabrikam)")
        self.assertEqual(contact.email, "jordan.miller@fabrikam.com")
        self.assertEqual(self.sandbox.log.count(r"/\$batch$", in_batch=False), 1)

    # ------------------------------------------------------------------ matching
    def test_existing_contact_is_matched_by_email_and_keeps_what_users_entered(self):
        vip = self.env["res.partner.category"].create({"name": "VIP"})
        existing = self.Partner.create(
            {
                "name": "A. Vance",
                "email": "  ADELE.VANCE@contoso.onmicrosoft.com ",
                "street": "Main Street 1",
                "comment": "<p>Met at the fair</p>",
                "category_id": [Command.link(vip.id)],
                "m365_mobile": "+49 171 000",
            }
        )
        self.sync()
        self.assertEqual(self.contact("Adele Vance"), existing, "matched, not duplicated")
        self.assertEqual(
            self.Partner.search_count([("email_normalized", "=", upn("Adele Vance"))]), 1
        )
        self.assertRecordValues(
            existing,
            [
                {
                    "name": "Adele Vance",
                    "street": "Main Street 1",
                    "m365_mobile": "+1 425 555 0199",
                    "company_id": False,
                }
            ],
        )
        self.assertIn("Met at the fair", existing.comment)
        self.assertEqual(existing.category_id, vip | self.tag)

    def test_the_partner_of_an_odoo_user_is_updated_never_duplicated(self):
        user = new_test_user(self.env, login=upn("Megan Bowen"), name="Megan B.")
        user.partner_id.email = False  # matched by the user's login
        self.sync()
        self.assertEqual(self.contact("Megan Bowen"), user.partner_id)
        self.assertEqual(user.name, "Megan Bowen")
        self.assertEqual(self.Partner.search_count([("name", "ilike", "Megan")]), 1)

    def test_a_new_user_with_a_synced_contacts_address_is_that_contact(self):
        self.sync()
        adele = self.contact("Adele Vance")
        user = new_test_user(self.env, login="adele", name="Adele Vance", email=upn("Adele Vance"))
        self.assertEqual(user.partner_id, adele)
        self.assertEqual(adele.m365_upn, upn("Adele Vance"))
        self.assertEqual(self.Partner.search_count([("name", "=", "Adele Vance")]), 1)
        # A second user with the same address gets a partner of their own.
        other = new_test_user(self.env, login="adele2", name="Adele V.", email=upn("Adele Vance"))
        self.assertNotEqual(other.partner_id, adele)

    def test_contact_sync_merges_its_contact_into_an_existing_users_partner(self):
        self.sync()
        alex = self.contact("Alex Wilber")
        activity_partner = alex.id
        # A user made before this module reused contacts: a partner of their own.
        partner = self.Partner.create({"name": "Alex W.", "email": upn("Alex Wilber")})
        user = new_test_user(
            self.env, login="alex", partner_id=partner.id, email=upn("Alex Wilber")
        )
        self.assertNotEqual(user.partner_id, alex)
        run = self.sync()
        self.assertEqual(run.state, "done", run.message)
        self.assertEqual(run.updated, 1, run.message)
        self.assertFalse(self.Partner.browse(activity_partner).exists())
        self.assertEqual(self.contact("Alex Wilber"), user.partner_id)
        self.assertEqual(user.partner_id.m365_department, "Marketing")
        self.assertEqual(self.Partner.search_count([("email", "=ilike", upn("Alex Wilber"))]), 1)
        # Nothing left to merge: the next run writes nothing.
        self.assertEqual(self.sync().updated, 0)

    def test_file_contacts_under_the_company(self):
        self.tenant.contact_parent_company = True
        self.sync()
        self.assertEqual(self.contact("Alex Wilber").parent_id, self.env.company.partner_id)

    # ------------------------------------------------------------------ ownership
    def test_odoo_edits_stay_and_values_cleared_in_microsoft_365_only_if_synced(self):
        self.sync()
        alex = self.contact("Alex Wilber")
        self.assertFalse(alex.m365_mobile)
        alex.function = "Marketing (typed in Odoo)"
        alex.m365_mobile = "+49 171 222"  # typed in Odoo: the sync never set it
        self.sandbox.state.update_user(upn("Alex Wilber"), officeLocation="131/2000")
        run = self.sync()
        self.assertCounts(run, updated=1)
        self.assertEqual(alex.m365_office_location, "131/2000")
        self.assertEqual(alex.function, "Marketing (typed in Odoo)", "an Odoo edit stays")

        self.sandbox.state.update_user(upn("Alex Wilber"), jobTitle=None, businessPhones=[])
        self.sync()
        self.assertEqual(alex.function, "Marketing (typed in Odoo)", "not the sync's value")
        self.assertFalse(alex.phone, "the sync had set the phone: cleared")
        self.assertEqual(alex.m365_mobile, "+49 171 222", "typed in Odoo: kept")

        self.sandbox.state.update_user(upn("Alex Wilber"), jobTitle="Marketing Lead")
        self.sync()
        self.assertEqual(alex.function, "Marketing Lead", "a change in Microsoft 365 wins")

    # ------------------------------------------------------------------ archive
    def test_disabled_or_deleted_users_are_archived_and_reenabled_ones_unarchived(self):
        self.sync()
        state = self.sandbox.state
        state.update_user(upn("Alex Wilber"), accountEnabled=False)
        megan = self.contact("Megan Bowen")
        state.remove_user(upn("Megan Bowen"), reason="changed")
        lynne = self.contact("Lynne Robbins")
        state.remove_user(upn("Lynne Robbins"))
        state.remove_user(JORDAN)  # never imported: nothing to do, nothing to report
        run = self.sync()
        self.assertCounts(run, deleted=3)
        alex = self.contact("Alex Wilber")
        self.assertFalse(alex.active)
        self.assertFalse(alex.m365_account_enabled)
        self.assertTrue(megan.exists() and lynne.exists(), "archived, never deleted")
        self.assertFalse(megan.active or lynne.active)

        state.update_user(upn("Alex Wilber"), accountEnabled=True)
        run = self.sync()
        self.assertCounts(run, updated=1)
        self.assertTrue(alex.active)

    def test_the_contact_of_an_active_odoo_user_is_not_archived(self):
        user = new_test_user(self.env, login="diego", email=upn("Diego Siciliani"))
        self.sync()
        self.sandbox.state.update_user(upn("Diego Siciliani"), accountEnabled=False)
        run = self.sync()
        self.assertEqual(run.state, "done")
        self.assertTrue(user.partner_id.active)
        self.assertIn("belongs to an active Odoo user", run.skipped_details)
        self.assertFalse(user.partner_id.m365_account_enabled)

    def test_guests_follow_the_setting(self):
        self.sync()
        jordan = self.sandbox.state.get_user(JORDAN)["id"]
        self.tenant.contact_include_guests = True
        run = self.sync()
        self.assertIn("the contact settings changed", run.message)
        guest = self.Partner.search([("m365_user_id", "=", jordan)])
        self.assertEqual(
            (guest.email, guest.m365_user_type), ("jordan.miller@fabrikam.com", "guest")
        )
        self.tenant.contact_include_guests = False
        self.sync()
        self.assertFalse(guest.active, "guests no longer included: archived")

    # ------------------------------------------------------------------ expired state
    def test_expired_delta_token_rebuilds_the_baseline_without_duplicates(self):
        self.sync()
        count = len(self.synced())
        self.age_write_dates()
        gone = self.contact("Diego Siciliani")
        self.sandbox.state.expire_delta_tokens()
        self.sandbox.state.remove_user(upn("Diego Siciliani"))
        run = self.sync()
        self.assertEqual(run.state, "done", run.message)
        self.assertIn("Microsoft Graph expired the saved sync state", run.message)
        self.assertEqual(len(self.synced()), count, "no duplicates")
        self.assertFalse(gone.active, "missing from the new baseline: archived")
        self.assertCounts(run, deleted=1, skipped=3)
        self.assertUntouched(self.synced() - gone)

    def test_a_gap_longer_than_the_token_lifetime_starts_a_new_baseline(self):
        self.sync()
        self.tenant.contact_delta_date = fields.Datetime.now() - timedelta(days=8)
        self.sandbox.log.clear()
        run = self.sync()
        self.assertIn("over 7 days old", run.message)
        (first,) = self.sandbox.log.filter(r"/users/delta")[:1]
        self.assertNotIn("$deltatoken", str(first.query))
        self.assertCounts(run, skipped=3)

    # ------------------------------------------------------------------ failures
    def test_missing_admin_consent_fails_with_the_permission_named_and_writes_nothing(self):
        self.sandbox.state.set_app_roles([])
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn("User.Read.All", run.message)
        self.assertFalse(self.synced())
        self.assertFalse(self.tenant.contact_delta_link)

    def test_button_reports_success_and_failure(self):
        self.tenant.contact_sync = False
        with self.assertRaisesRegex(UserError, "Switch on contact sync"):
            self.tenant.action_m365_sync_contacts()
        self.tenant.contact_sync = True
        action = self.tenant.action_m365_sync_contacts()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("created", action["params"]["message"])
        self.sandbox.state.set_app_roles([])
        forget_apps()  # roles live in the token: the revocation shows in a new one
        settings = self.env["res.config.settings"].create({})
        action = settings.action_m365_sync_contacts()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("User.Read.All", action["params"]["message"])
        self.assertIn("No contact was changed.", action["params"]["message"])
        user = new_test_user(self.env, login="plain", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.tenant.with_user(user).action_m365_sync_contacts()

    def test_graph_failure_midway_keeps_completed_batches_and_the_next_run_resumes(self):
        self.patch(type(self.Sync), "_m365_page_size", 3)
        self.patch(type(self.Sync), "_m365_batch_size", 2)
        self.sandbox.faults.add(503, path=r"/users/delta", after=1, times=None, retry_after=0)
        run = self.sync()
        self.assertEqual(run.state, "failed")
        self.assertIn("stopped after 1 page(s)", run.message)
        self.assertIn("the next run reads these changes again", run.message)
        first_page = self.synced()
        self.assertTrue(first_page, "the users of the page read are saved")
        self.assertLess(len(first_page), len(IMPORTED))
        self.assertFalse(self.tenant.contact_delta_link, "the sync point is not advanced")

        self.sandbox.faults.clear()
        run = self.sync()
        self.assertEqual(run.state, "done", run.message)
        self.assertEqual(sorted(self.synced().mapped("name")), sorted(IMPORTED))
        self.assertEqual(run.created, len(IMPORTED) - len(first_page), "resumed, no duplicate")
        self.assertTrue(self.tenant.contact_delta_link)

    def test_a_user_odoo_refuses_is_skipped_and_the_others_are_saved(self):
        Partner = type(self.env["res.partner"])
        original = Partner.create

        def create(model, vals_list):
            for vals in vals_list if isinstance(vals_list, list) else [vals_list]:
                if vals.get("name") == "Lynne Robbins":
                    raise ValidationError(model.env._("Lynne is refused"))
            return original(model, vals_list)

        self.patch(Partner, "create", create)
        run = self.sync()
        self.assertEqual(run.state, "done")
        self.assertCounts(run, created=5, skipped=4)
        self.assertIn("Lynne Robbins <", run.skipped_details)
        self.assertIn("Lynne is refused", run.skipped_details)
        self.assertNotIn("Lynne Robbins", self.synced().mapped("name"))

    def test_bad_input_is_skipped_or_cleaned_and_named(self):
        state = self.sandbox.state
        state.add_user("No Address", upn="no.address#EXT#@" + DOMAIN, mail=None)
        first = state.add_user("Sales Desk", upn="sales1@" + DOMAIN, mail="sales@contoso.com")
        second = state.add_user("Sales Team", upn="sales2@" + DOMAIN, mail="SALES@contoso.com ")
        state.add_user("", given_name="Nora", surname="Klein", upn="nora@" + DOMAIN)
        state.add_user(
            "Odd\x00 Values\n",
            upn="odd@" + DOMAIN,
            business_phones=["n/a", "+49 (0)30 123-45"],
            mobile_phone="call reception",
            job_title="Head of " + "very " * 1000 + "long titles",
        )
        run = self.sync()
        self.assertEqual(run.state, "done", run.message)
        details = run.skipped_details
        self.assertIn("No Address [", details)
        self.assertIn("no usable e-mail address", details)
        winner, loser = sorted([first, second], key=lambda u: u["id"])
        self.assertIn(f"{loser['displayName']} <", details)
        self.assertIn(f"kept for {winner['displayName']} <", details)
        self.assertEqual(
            self.Partner.search_count([("email_normalized", "=", "sales@contoso.com")]), 1
        )
        nora = self.Partner.search([("email", "=", "nora@" + DOMAIN)])
        self.assertEqual(nora.name, "Nora Klein")
        odd = self.Partner.search([("email", "=", "odd@" + DOMAIN)])
        self.assertEqual(odd.name, "Odd Values")
        self.assertEqual(odd.phone, "+49 (0)30 123-45")
        self.assertFalse(odd.m365_mobile)
        self.assertEqual(len(odd.function), 128)
        self.assertCounts(run, created=9, skipped=5)

        # A new user with the address of an existing contact: the contact keeps it.
        state.add_user("Sales Again", upn="sales3@" + DOMAIN, mail="sales@contoso.com")
        run = self.sync()
        self.assertCounts(run, skipped=1)
        self.assertIn(f"already the contact of {winner['displayName']}", run.skipped_details)

    # ------------------------------------------------------------------ scheduling
    def test_cron_runs_each_tenant_when_its_interval_has_passed(self):
        Run = self.env["m365.sync.run"]
        runs = lambda: Run.search([("tenant_id", "=", self.tenant.id), ("kind", "=", "contacts")])  # noqa: E731
        self.Sync._m365_cron()
        self.assertEqual(len(runs()), 1)
        self.Sync._m365_cron()
        self.assertEqual(len(runs()), 1, "not due yet")
        runs().start = fields.Datetime.now() - timedelta(hours=25)
        self.Sync._m365_cron()
        self.assertEqual(len(runs()), 2)
        # A failed run is retried after an hour, whatever the interval.
        self.sandbox.state.set_app_roles([])
        forget_apps()  # roles live in the token: the revocation shows in a new one
        runs()[:1].start = fields.Datetime.now() - timedelta(hours=25)
        self.Sync._m365_cron()
        failed = runs()[:1]
        self.assertEqual(failed.state, "failed")
        failed.start = fields.Datetime.now() - timedelta(minutes=61)
        self.Sync._m365_cron()
        self.assertEqual(len(runs()), 4)
        self.tenant.contact_sync = False
        runs()[:1].start = fields.Datetime.now() - timedelta(days=3)
        self.Sync._m365_cron()
        self.assertEqual(len(runs()), 4, "switched off")

    def test_a_second_run_is_refused_while_one_is_running(self):
        Run = self.env["m365.sync.run"]
        running = Run._m365_start("contacts", tenant=self.tenant)
        running.unit_key = self.Sync._m365_unit_identity(self.tenant.id)
        # Another worker runs the tenant's sync: it holds the unit's lock.
        other = db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute(
                "SELECT pg_advisory_lock(%s, %s)", [m365_contact_sync.LOCK_CLASS, self.tenant.id]
            )
            with self.assertRaisesRegex(UserError, "already running"):
                self.Sync._m365_sync(self.tenant, from_button=True)
            self.assertEqual(self.Sync._m365_sync(self.tenant), running, "the cron skips")
        finally:
            other.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [m365_contact_sync.LOCK_CLASS, self.tenant.id]
            )
            other.close()
        # The worker is gone (its lock with it): its run is stale at once.
        run = self.sync()
        self.assertEqual(run.state, "done")
        self.assertEqual(running.state, "failed", "a run without its lock died with its worker")
        self.assertIn("Interrupted", running.message)

    # ------------------------------------------------------------------ views and access
    def test_views_and_field_access(self):
        self.sync()
        for view_type in ("form", "list", "search"):
            self.env["res.partner"].get_view(view_type=view_type)
        arch = self.env["res.partner"].get_view(view_type="form")["arch"]
        self.assertIn('name="m365_mobile"', arch)
        self.assertIn('string="Microsoft 365"', arch)
        self.assertIn("m365_contacts", self.env["res.partner"].get_view(view_type="search")["arch"])
        self.env["res.config.settings"].get_view(view_type="form")
        adele = self.contact("Adele Vance")
        user = new_test_user(self.env, login="reader", groups="base.group_user")
        values = adele.with_user(user).read(["m365_mobile", "m365_department", "m365_upn"])[0]
        self.assertEqual(values["m365_mobile"], "+1 425 555 0199")
        with self.assertRaises(AccessError):
            adele.with_user(user).read(["m365_sync_state"])
        copy = adele.copy()
        self.assertFalse(copy.m365_user_id, "a copy is not the directory user")
        search = self.env["res.partner"].get_view(view_type="search")["arch"]
        self.assertIn('name="m365_mobile"', search)
        action = self.env.ref("m365_sync.action_m365_contacts")
        self.assertIn("search_default_m365_contacts", action.context)

    def test_each_company_gets_its_own_contacts(self):
        sb = self.sandbox
        other = self.env["res.company"].create({"name": "Fabrikam Ltd"})
        tenant_b = other.m365_tenant_id
        tenant_b.write(
            {
                "azure_tenant": sb.tenant_id,
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "authority_host": sb.url,
                "graph_url": sb.graph_url,
                "ca_bundle": sb.ca_path,
                "contact_sync": True,
            }
        )
        shared = new_test_user(self.env, login="shared", email=upn("Diego Siciliani"))
        shared.partner_id.company_id = False
        self.sync()
        run_b = self.Sync._m365_sync(tenant_b)
        self.assertEqual(run_b.state, "done", run_b.message)
        self.assertCounts(run_b, created=5, skipped=3)
        contacts_b = self.Partner.search([("m365_tenant_id", "=", tenant_b.id)])
        self.assertEqual(set(contacts_b.mapped("company_id")), {other})
        self.assertEqual(self.contact("Diego Siciliani"), shared.partner_id, "shared, not copied")
        self.assertEqual(len(self.Partner.search([("email", "=", upn("Adele Vance"))])), 2)
        user_b = new_test_user(
            self.env, login="fabrikam_user", company_id=other.id, company_ids=[other.id]
        )
        visible = self.env["res.partner"].with_user(user_b).search([("m365_user_id", "!=", False)])
        self.assertEqual(visible, contacts_b | shared.partner_id)

    def test_the_list_of_skipped_users_is_bounded(self):
        self.patch(m365_contact_sync, "MAX_DETAIL_LINES", 1)
        for number in range(3):
            self.sandbox.state.add_user(
                f"No Address {number}", upn=f"x{number}#EXT#@{DOMAIN}", mail=None
            )
        run = self.sync()
        self.assertCounts(run, created=6, skipped=6)
        lines = run.skipped_details.splitlines()
        self.assertEqual(sum("no usable e-mail address" in line for line in lines), 1)
        self.assertIn("… and 2 more skipped user(s), not listed here.", lines)
