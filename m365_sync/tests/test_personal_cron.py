import json
import logging
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.sql_db import db_connect
from odoo.tests import tagged

from ..models.m365_account import LOCK_CLASS
from .common import ADELE, MEGAN, M365SandboxCase, PersonalSyncMixin
from .test_admin_consent import simple_notifications
from .test_personal_pull import at


@tagged("post_install", "-at_install")
class TestPersonalCron(PersonalSyncMixin, M365SandboxCase):
    def cron(self):
        self.env["m365.job.personal"]._m365_cron()
        self.env.invalidate_all()

    def failure_mails(self, account):
        return (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "m365.account"), ("res_id", "=", account.id)])
        )

    def test_cron_syncs_due_accounts_only(self):
        self.sandbox.state.add_event(ADELE, "One", at(1), at(1, 10))
        account = self.connect()
        trigger = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", self.env.ref("m365_sync.ir_cron_m365_personal_sync").id)]
        )
        self.assertTrue(trigger, "connecting schedules the first sync right away")
        self.cron()
        self.assertTrue(account.last_sync)
        self.assertEqual(len(self.events(account)), 1)
        runs = self.env["m365.sync.run"].search_count([("kind", "=", "personal")])
        self.cron()
        self.assertEqual(
            self.env["m365.sync.run"].search_count([("kind", "=", "personal")]),
            runs,
            "not due again before the interval",
        )
        self.assertEqual(self.tenant.personal_interval_minutes, 30)
        account.last_sync_start = fields.Datetime.now() - timedelta(minutes=29)
        self.cron()
        self.assertEqual(self.env["m365.sync.run"].search_count([("kind", "=", "personal")]), runs)
        account.last_sync_start = fields.Datetime.now() - timedelta(minutes=31)
        self.cron()
        self.assertEqual(
            self.env["m365.sync.run"].search_count([("kind", "=", "personal")]), runs + 1
        )

    def test_cron_skips_paused_up_and_disabled(self):
        account = self.connect()
        account.action_pause()
        self.assertEqual(account.direction, "none")
        self.cron()
        self.assertFalse(account.last_sync, "paused accounts are kept, not synchronised")
        account.action_resume()
        self.assertEqual(account.direction, "down")
        self.assertTrue(account.sync_requested)
        self.tenant.personal_sync = False
        self.cron()
        self.assertFalse(account.last_sync, "personal sync switched off for the company")
        self.tenant.personal_sync = True
        account.sudo().direction = "up"
        self.cron()
        self.assertFalse(account.last_sync, "Up accounts are not pulled")
        account.sudo().direction = "both"
        self.cron()
        self.assertTrue(account.last_sync)

    def test_one_failing_account_does_not_stop_the_others(self):
        broken = self.connect(ADELE)
        working = self.connect(MEGAN, user=self.other_user)
        self.sandbox.state.add_event(MEGAN, "Works", at(1), at(1, 10))
        # Adele's sign-in is revoked; her access token has expired.
        self.sandbox.state.revoke_refresh_tokens(ADELE)
        self.sandbox.state.advance_clock(3700)
        self.cron()
        self.assertEqual(broken.state, "reconnect")
        self.assertIn("connect the account again", broken.last_error)
        self.assertEqual(working.state, "connected")
        self.assertEqual(self.events(working).mapped("name"), ["Works"])

    def test_reconnect_needed_is_reported_at_once_and_once(self):
        account = self.connect()
        self.sandbox.state.revoke_refresh_tokens(ADELE)
        self.sandbox.state.advance_clock(3700)
        outcome, run = self.sync(account)
        self.assertFalse(outcome)
        self.assertEqual(run.state, "failed")
        self.assertEqual(account.state, "reconnect")
        mails = self.failure_mails(account)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.recipient_ids, self.user.partner_id)
        self.assertIn("Reconnect my account", mails.body_html)
        self.assertIn("/odoo/action-m365_sync.action_m365_my_accounts", mails.body_html)
        self.cron()
        self.assertEqual(len(self.failure_mails(account)), 1, "skipped until reconnected")
        # Reconnecting clears the streak.
        result, oid = self.sign_in(account, ADELE)
        account._m365_store_connection(result, oid)
        self.assertEqual((account.state, account.failure_count), ("connected", 0))
        self.assertTrue(self.sync(account)[0])

    def test_failure_email_after_threshold_once_per_streak(self):
        account = self.connect()
        self.sandbox.faults.add(403, path=r"/calendarView/delta", times=None)
        for expected_mails in (0, 0, 1, 1):
            outcome, _run = self.sync(account)
            self.assertFalse(outcome)
            self.assertEqual(len(self.failure_mails(account)), expected_mails)
        self.assertEqual(account.state, "error")
        self.assertEqual(account.failure_count, 4)
        self.assertIn("access denied", account.last_error)
        mail = self.failure_mails(account)
        self.assertIn("the last", mail.body_html)
        self.assertIn("access denied", mail.body_html)
        self.assertEqual(mail.recipient_ids, self.user.partner_id)
        # Success ends the streak; a new streak sends a new e-mail.
        self.sandbox.faults.clear()
        self.assertTrue(self.sync(account)[0])
        self.assertEqual((account.state, account.failure_count), ("connected", 0))
        self.assertFalse(account.last_error)
        self.sandbox.faults.add(403, path=r"/calendarView/delta", times=None)
        for _i in range(3):
            self.sync(account)
        self.assertEqual(len(self.failure_mails(account)), 2)

    def test_the_pull_streak_is_the_base_s(self):
        """3 failed pulls: one e-mail to the owner; the 4th: none; a success ends it.
        The streak is read from the account's run rows (``m365.job``), and
        ``failure_count`` shows it."""
        account = self.connect()
        Job = self.env["m365.job.personal"]
        self.assertEqual(account.tenant_id.personal_failure_threshold, 3)
        self.sandbox.faults.add(403, path=r"/calendarView/delta", times=None)
        for count, expected_mails in ((1, 0), (2, 0), (3, 1), (4, 1)):
            outcome, run = self.sync(account)
            self.assertFalse(outcome)
            self.assertEqual(run.unit_key, Job._m365_unit_identity(account.id))
            self.assertEqual(Job._m365_failure_streak(account.id, 10), count)
            self.assertEqual(account.failure_count, count)
            self.assertEqual(len(self.failure_mails(account)), expected_mails, f"run {count}")
        mail = self.failure_mails(account)
        self.assertEqual(mail.recipient_ids, self.user.partner_id, "the owner only")
        self.assertIn("the last", mail.body_html)
        self.assertNotIn("Reconnect my account", mail.body_html)
        self.sandbox.faults.clear()
        self.assertTrue(self.sync(account)[0])
        self.assertEqual(Job._m365_failure_streak(account.id, 10), 0)
        self.assertEqual((account.failure_count, account.failure_notified), (0, False))

    def test_reconnect_needed_is_not_told_again_by_the_streak(self):
        """The job's own rule (an e-mail at once) and the streak never tell twice."""
        self.tenant.personal_failure_threshold = 1
        account = self.connect()
        self.sandbox.state.revoke_refresh_tokens(ADELE)
        self.sandbox.state.advance_clock(3700)
        self.assertFalse(self.sync(account)[0])
        self.assertEqual((account.state, account.failure_count), ("reconnect", 1))
        mails = self.failure_mails(account)
        self.assertEqual(len(mails), 1)
        self.assertIn("Reconnect my account", mails.body_html)

    def test_a_new_sign_in_ends_the_streak(self):
        account = self.connect()
        Job = self.env["m365.job.personal"]
        self.sandbox.faults.add(403, path=r"/calendarView/delta", times=None)
        for _i in range(3):
            self.sync(account)
        self.assertEqual(len(self.failure_mails(account)), 1)
        result, oid = self.sign_in(account, ADELE)
        account._m365_store_connection(result, oid)
        self.assertEqual(Job._m365_failure_streak(account.id, 10), 0)
        for count in (1, 2, 3):
            self.sync(account)
            self.assertEqual(account.failure_count, count)
        self.assertEqual(len(self.failure_mails(account)), 2, "a new streak, a new e-mail")

    def test_managers_can_be_told_too(self):
        self.tenant.write({"personal_notify_managers": True, "personal_failure_threshold": 1})
        manager = self.env["res.users"].create(
            {
                "name": "M365 Manager",
                "login": "m365_mgr",
                "email": "mgr@odoo.example",
                "group_ids": [
                    (4, self.env.ref("base.group_user").id),
                    (4, self.env.ref("m365_sync.group_m365_manager").id),
                ],
            }
        )
        account = self.connect()
        self.sandbox.faults.add(403, path=r"/calendarView/delta", times=None)
        self.sync(account)
        recipients = self.failure_mails(account).recipient_ids
        self.assertIn(self.user.partner_id, recipients)
        self.assertIn(manager.partner_id, recipients)

    def test_rotated_refresh_token_is_kept_even_when_the_run_fails(self):
        account = self.connect()
        before = account.token_cache
        self.sandbox.state.advance_clock(3700)  # the access token expired: refresh
        # The first request is refused (401), the token refreshed, the retry fails (403).
        self.sandbox.faults.add(403, path=r"/calendarView/delta", after=1, times=1)
        outcome, run = self.sync(account)
        self.assertFalse(outcome)
        self.assertEqual(run.state, "failed")
        self.assertNotEqual(account.token_cache, before, "the rotated cache was kept")
        with self.assertRaises(AccessError, msg="never sent out, not even to its owner"):
            account.with_user(self.user).read(["token_cache"])
        # The old refresh token has been redeemed; only the kept one works.
        self.sandbox.state.advance_clock(3700)
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(account.state, "connected")

    def test_a_locked_account_is_left_to_its_worker(self):
        account = self.connect()
        other = db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_CLASS, account.id])
            runs = self.env["m365.sync.run"].search_count([])
            self.assertIsNone(account._m365_sync())
            self.assertEqual(self.env["m365.sync.run"].search_count([]), runs)
            # The button only asks: the page never waits for the worker holding it.
            action = account.with_user(self.user).action_sync_now()
            self.assertIn("Started in the background", action["params"]["message"])
            self.assertTrue(account.sync_requested)
        finally:
            other.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, account.id])
            other.close()
        self.assertTrue(account._m365_sync())

    def test_sync_now_button(self):
        self.sandbox.state.add_event(ADELE, "Now", at(1), at(1, 10))
        account = self.connect()
        self.cron()  # the first pull after connecting
        self.sandbox.state.add_event(ADELE, "Later", at(2), at(2, 10))
        mine = account.with_user(self.user)
        action = mine.action_sync_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("Started in the background", action["params"]["message"])
        self.assertEqual(action["params"]["links"][0]["label"], "Sync runs")
        self.assertEqual(self.events(account).mapped("name"), ["Now"], "nothing pulled yet")
        self.cron()
        self.assertEqual(sorted(self.events(account).mapped("name")), ["Later", "Now"])
        note = simple_notifications(self.env)[-1]
        self.assertEqual(note["type"], "success")
        self.assertIn("1 created", note["message"])
        self.assertFalse(account.sync_notify, "told once")
        account.action_pause()
        with self.assertRaisesRegex(UserError, "does not import"):
            mine.action_sync_now()
        # A failure is told in plain words too, and recorded on the account.
        account.action_resume()
        self.sandbox.state.revoke_refresh_tokens(ADELE)
        self.sandbox.state.advance_clock(3700)
        mine.action_sync_now()
        self.cron()
        note = simple_notifications(self.env)[-1]
        self.assertEqual(note["type"], "danger")
        self.assertIn("connect the account again", note["message"])
        self.assertEqual(account.state, "reconnect")

    def test_tokens_are_never_logged(self):
        self.sandbox.state.add_event(ADELE, "One", at(1), at(1, 10))
        with self.assertLogs(level=logging.DEBUG) as logs:
            logging.getLogger("odoo.addons.m365_sync").debug("capture start")
            account = self.connect()
            self.sandbox.state.advance_clock(3700)  # a refresh, with rotation
            self.sync(account)
            self.sandbox.state.revoke_refresh_tokens(ADELE)
            self.sandbox.state.advance_clock(3700)
            self.sync(account)  # fails: reconnect needed
        secrets = [
            value.split()[-1]
            for record in self.sandbox.log
            for name, value in record.headers.items()
            if name.lower() == "authorization" and value.lower().startswith("bearer ")
        ]
        secrets += list(self.sandbox.state.refresh_tokens)
        cache = json.loads(account.token_cache)
        secrets += [item["secret"] for item in cache.get("RefreshToken", {}).values()]
        self.assertGreater(len(secrets), 3)
        # odoo.sql_db's debug_sql level prints every query's parameters (any field of
        # any model): an operator's choice for debugging, not a log of this module.
        lines = [line for line in logs.output if ":odoo.sql_db:" not in line]
        for secret in secrets:
            leaks = [line[:200] for line in lines if secret in line]
            self.assertFalse(leaks, "a token was logged")
        self.assertEqual(account.state, "reconnect")

    def test_configuration_problem_in_plain_words(self):
        account = self.connect()
        self.tenant.write({"client_id": False})
        outcome, run = self.sync(account)
        self.assertFalse(outcome)
        self.assertEqual(run.state, "failed")
        self.assertEqual(account.state, "error")
        self.assertIn("not configured", account.last_error)
        self.assertNotIn("Traceback", account.last_error)
