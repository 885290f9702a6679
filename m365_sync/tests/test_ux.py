"""What people meet on screen: the Outbox's first view, the accounts page, time-zone hints."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from ..models.common import name_people
from .common import ADELE, M365SandboxCase, PersonalSyncMixin
from .outbox_common import OutboxMixin
from .test_personal_pull import at


@tagged("post_install", "-at_install")
class TestScreens(PersonalSyncMixin, M365SandboxCase):
    def cron(self):
        self.env["m365.job.personal"]._m365_cron()
        self.env.invalidate_all()

    def test_the_outbox_opens_on_every_change_not_yet_in_outlook(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("m365_sync.action_m365_outbox")
        self.assertNotIn("search_default_failed", action["context"])
        self.assertIn("search_default_group_state", action["context"])
        self.assertFalse(action.get("domain"), "waiting and failed rows both show")

    def test_a_failed_account_is_tried_again_within_minutes(self):
        account = self.connect()
        self.cron()
        now = fields.Datetime.now()
        account.write({"state": "error", "failure_count": 1, "sync_requested": False})
        account.last_sync_start = now - timedelta(minutes=4)
        self.assertFalse(account._m365_is_due(now))
        account.last_sync_start = now - timedelta(minutes=6)
        self.assertTrue(account._m365_is_due(now), "5 minutes after one failure")
        account.failure_count = 3
        self.assertFalse(account._m365_is_due(now), "20 minutes after three")
        account.failure_count = 9
        account.last_sync_start = now - timedelta(minutes=29)
        self.assertFalse(account._m365_is_due(now), "never later than the interval")
        account.last_sync_start = now - timedelta(minutes=31)
        self.assertTrue(account._m365_is_due(now))
        # A connected account keeps the interval.
        account.state = "connected"
        account.last_sync_start = now - timedelta(minutes=6)
        self.assertFalse(account._m365_is_due(now))

    def test_a_later_run_takes_down_an_old_sign_in_notice_but_not_an_error(self):
        self.sandbox.state.add_event(ADELE, "One", at(1), at(1, 10))
        account = self.connect()
        self.user._m365_set_notice("You declined the permissions…", "warning")
        self.cron()
        self.assertEqual(account.state, "connected")
        self.assertFalse(self.user.m365_notice, "the row shows the newer result")
        self.user._m365_set_notice("2 change(s) could not be sent to Outlook", "danger")
        account.sync_requested = True
        self.cron()
        self.assertIn("could not be sent", self.user.m365_notice, "errors stay until dismissed")

    def test_utc_users_are_told(self):
        for tz, utc in ((False, True), ("UTC", True), ("Etc/UTC", True), ("Europe/Berlin", False)):
            self.user.tz = tz
            self.assertEqual(self.user.m365_tz_utc, utc, tz)
        self.assertIn("m365_tz_utc", self.user.with_user(self.user).SELF_READABLE_FIELDS)
        arch = self.env.ref("m365_sync.res_users_view_form_m365_accounts").arch
        self.assertIn("m365_tz_utc", arch)
        self.assertIn("No Microsoft 365 account connected yet", arch)

    def test_the_accounts_page_keeps_its_address_on_reload(self):
        # The page is a server action: with a path of its own, its address (and a
        # reload, or a new tab) runs it again instead of opening res.users/<id>.
        action = self.env.ref("m365_sync.action_m365_my_accounts")
        self.assertEqual(action.path, "my-microsoft-365-accounts")
        page = action.with_user(self.user).run()
        self.assertEqual(page["res_id"], self.user.id)
        self.assertEqual(
            page["views"][0][0], self.env.ref("m365_sync.res_users_view_form_m365_accounts").id
        )


@tagged("post_install", "-at_install")
class TestAppointmentStatusAndNames(OutboxMixin, M365SandboxCase):
    def test_an_appointment_always_says_where_it_stands_with_outlook(self):
        event = self.appointment("Budget review")
        self.assertIn("Waiting to be sent to Outlook", event.m365_sync_status)
        self.drain()
        event.invalidate_recordset()
        self.assertIn(f"In Outlook ({ADELE}), last sent", event.m365_sync_status)
        alone = self.appointment("Private note", user=self.other_user)
        self.assertEqual(alone.m365_sync_status, "Not synchronised with Outlook.")
        arch = self.env.ref("m365_sync.calendar_event_view_form_m365").arch
        self.assertIn('name="m365_sync_status"', arch)

    def test_errors_name_people_not_graph_ids(self):
        graph_id = self.account.graph_user_id
        request_id = "3196a826-17f2-4989-a357-230e5c36211a"
        text = f"Reading the calendar of {graph_id} failed (request-id {request_id})"
        named = name_people(self.env, text)
        self.assertIn(f"the calendar of {self.user.name} ({ADELE})", named)
        self.assertIn(request_id, named, "other ids stay for support")
        partner = self.env["res.partner"].create(
            {"name": "Megan Bowen", "email": "megan@contoso.example", "m365_user_id": request_id}
        )
        self.assertIn("Megan Bowen (megan@contoso.example)", name_people(self.env, text))
        run = self.env["m365.sync.run"]._m365_start("outbox", tenant=self.tenant)
        run._m365_fail(text)
        self.assertNotIn(graph_id, run.message)
        self.assertIn(partner.name, run.message)
