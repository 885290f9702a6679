from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from m365_graph import ReconnectNeeded

from .common import ADELE, MEGAN, M365SandboxCase, PersonalSyncMixin
from .test_personal_pull import at


@tagged("post_install", "-at_install")
class TestPersonalAccount(PersonalSyncMixin, M365SandboxCase):
    def test_first_account_is_main_and_exactly_one_main(self):
        first = self.connect(ADELE)
        second = self.connect(MEGAN)
        self.assertTrue(first.is_main)
        self.assertFalse(second.is_main)
        second.with_user(self.user).action_make_main()
        self.assertFalse(first.is_main)
        self.assertTrue(second.is_main)
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            first.is_main = True
            first.flush_recordset()
        # Removing the main account makes the next one main.
        second.with_user(self.user).action_remove()
        self.assertTrue(first.is_main)

    def test_main_goes_to_a_connected_account(self):
        Account = self.env["m365.account"].with_user(self.user)
        pending = Account.create({"direction": "down"})
        self.assertFalse(pending.is_main, "a never-connected row is never main")
        with self.assertRaisesRegex(UserError, "Connect"):
            pending.action_make_main()
        adele = self.connect(ADELE)
        self.assertTrue(adele.is_main, "the first connected account is main")
        megan = self.connect(MEGAN, direction="both")
        self.assertFalse(megan.is_main, "a second connected account does not take over")
        # The main account must be reconnected: the other signed-in account takes over.
        adele._m365_sync_failed(ReconnectNeeded("signed out"))
        self.assertEqual((adele.is_main, megan.is_main), (False, True))
        # Removing the main account: the successor is signed in, never the pending row.
        megan.with_user(self.user).action_remove()
        self.assertTrue(adele.is_main, "a reconnect-needed account is better than none")
        self.assertFalse(pending.is_main)
        adele.with_user(self.user).action_remove()
        self.assertFalse(pending.is_main)

    def test_directions_ask_least_privilege_and_consent_for_broader(self):
        account = self.connect(direction="down")
        self.assertIn("Calendars.Read", account.granted_scopes.split())
        self.assertNotIn("Calendars.ReadWrite", account.granted_scopes.split())
        self.assertFalse(account.consent_needed)
        account.with_user(self.user).direction = "both"
        self.assertTrue(account.consent_needed, "a broader direction asks for consent again")
        account.with_user(self.user).direction = "down"
        self.assertFalse(account.consent_needed, "a narrower one never does")
        account.with_user(self.user).direction = "both"
        result, oid = self.sign_in(account, ADELE)
        account._m365_store_connection(result, oid)
        self.assertIn("Calendars.ReadWrite", account.granted_scopes.split())
        self.assertFalse(account.consent_needed)
        account.with_user(self.user).direction = "down"
        self.assertFalse(account.consent_needed)

    def test_pause_keeps_the_account_and_its_appointments(self):
        self.sandbox.state.add_event(ADELE, "Kept", at(1), at(1, 10))
        account = self.connect(direction="both")
        self.sync(account)
        account.with_user(self.user).action_pause()
        self.assertEqual((account.direction, account.resume_direction), ("none", "both"))
        self.assertEqual(account.state, "connected")
        self.assertEqual(len(self.events(account)), 1)
        account.with_user(self.user).action_resume()
        self.assertEqual(account.direction, "both")

    def test_removing_an_account_removes_only_its_appointments(self):
        state = self.sandbox.state
        shared = state.add_event(ADELE, "Shared", at(1), at(1, 10))
        twin = state.add_event(MEGAN, "Shared", at(1), at(1, 10))
        state.override_event_json(MEGAN, twin["id"], iCalUId=shared["iCalUId"])
        state.add_event(ADELE, "Only Adele", at(2), at(2, 10))
        adele = self.connect(ADELE)
        megan = self.connect(MEGAN)
        self.sync(adele)
        self.sync(megan)
        only_adele = self.events(adele).filtered(lambda e: e.name == "Only Adele")
        both = self.events(adele).filtered(lambda e: e.name == "Shared")
        adele.with_user(self.user).action_remove()
        self.assertFalse(only_adele.exists())
        self.assertTrue(both.exists(), "still linked to the other account")
        self.assertTrue(megan.is_main)
        self.assertEqual(len(state.events(ADELE)), 2, "nothing changes in Outlook")

    def test_users_manage_only_their_own_accounts(self):
        mine = self.connect(ADELE)
        theirs = self.connect(MEGAN, user=self.other_user)
        Account = self.env["m365.account"].with_user(self.user)
        self.assertEqual(Account.search([]), mine)
        with self.assertRaises(AccessError):
            theirs.with_user(self.user).read(["email"])
        with self.assertRaises(AccessError):
            theirs.with_user(self.user).action_pause()
        with self.assertRaises(AccessError):
            Account.create({"user_id": self.other_user.id})
        with self.assertRaises(AccessError):
            mine.with_user(self.user).write({"state": "connected"})
        with self.assertRaises(AccessError):
            mine.with_user(self.user).write({"graph_user_id": "someone-else"})
        with self.assertRaises(AccessError):
            mine.with_user(self.user).read(["token_cache"])
        with self.assertRaises(AccessError):
            theirs.with_user(self.user).action_connect()
        manager = new_test_user(
            self.env, login="m365_acc_mgr", groups="base.group_user,m365_sync.group_m365_manager"
        )
        self.assertEqual(self.env["m365.account"].with_user(manager).search([]), mine | theirs)
        with self.assertRaisesRegex(AccessError, "connect"):
            mine.with_user(manager).action_connect()

    def test_links_follow_their_owner(self):
        self.sandbox.state.add_event(ADELE, "Mine", at(1), at(1, 10))
        mine = self.connect(ADELE)
        self.sync(mine)
        Link = self.env["m365.event.link"]
        self.assertEqual(len(Link.with_user(self.user).search([])), 1)
        self.assertFalse(Link.with_user(self.other_user).search([]))

    def test_tokens_never_reach_the_browser(self):
        account = self.connect()
        self.assertTrue(account.token_cache)
        admin = new_test_user(
            self.env, login="m365_acc_admin", groups="base.group_user,base.group_system"
        )
        as_admin = account.with_user(admin)
        with self.assertRaises(AccessError):
            as_admin.read(["token_cache"])
        with self.assertRaises(AccessError):
            as_admin.web_read({"token_cache": {}, "email": {}})
        payload = str(as_admin.web_read({"email": {}, "delta_link": {}}))
        self.assertNotIn(account.token_cache[:40], payload)
        self.assertNotIn("token_cache", str(as_admin.read()))
        # The user's own tab reads the accounts through the user record.
        user_payload = self.user.with_user(self.user).web_read(
            {"m365_account_ids": {"fields": {"email": {}, "state": {}, "direction": {}}}}
        )
        self.assertEqual(user_payload[0]["m365_account_ids"][0]["email"], ADELE)
        self.assertNotIn("token", str(user_payload))

    def test_accounts_are_per_company(self):
        account = self.connect()
        other_company = self.env["res.company"].create({"name": "M365 Other Co"})
        manager = new_test_user(
            self.env,
            login="m365_acc_mgr2",
            groups="base.group_user,m365_sync.group_m365_manager",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        self.assertNotIn(account, self.env["m365.account"].with_user(manager).search([]))

    def test_outlook_calendar_app_conflict_is_flagged(self):
        account = self.connect()
        self.assertFalse(account.ms_calendar_conflict)
        if "microsoft_calendar_rtoken" not in self.env["res.users"]._fields:
            self.skipTest("microsoft_calendar is not installed")
        # The test itself stands in for a user who connected Odoo's Outlook Calendar app.
        self.user.sudo().microsoft_calendar_rtoken = "a-refresh-token"
        self.user.sudo().microsoft_calendar_token = "an-access-token"
        account.invalidate_recordset()
        self.assertTrue(account.ms_calendar_conflict)
        self.assertTrue(self.user.m365_ms_calendar_conflict)
        self.tenant.invalidate_recordset()
        self.assertEqual(self.tenant.personal_conflict_count, 1)
        account.action_pause()
        account.invalidate_recordset()
        self.assertFalse(account.ms_calendar_conflict, "a paused account imports nothing")

    def test_tab_and_buttons(self):
        user_env = self.env["res.users"].with_user(self.user)
        action = user_env.browse(self.user.id).action_m365_add_account()
        self.assertEqual(action["res_model"], "m365.account")
        self.assertEqual(action["context"]["default_user_id"], self.user.id)
        new = self.env["m365.account"].with_user(self.user).create({"direction": "down"})
        self.assertEqual(new.state, "new")
        self.assertEqual(new.tenant_id, self.tenant)
        self.assertEqual(new.connect_direction, "down")
        new.connect_direction = "both"
        self.assertEqual(new.direction, "both")
        dialog = self.env.ref("m365_sync.m365_account_view_form_connect").id
        arch = new.get_views([(dialog, "form")])["views"]["form"]["arch"]
        self.assertIn("connect_direction", arch)
        self.assertNotIn("none", dict(new._fields["connect_direction"].selection))
        connect = new.action_connect()
        self.assertEqual(connect["url"], f"/m365_sync/oauth/start?account_id={new.id}")
        with self.assertRaisesRegex(UserError, "Connect the account first"):
            new.action_sync_now()
        page = self.env.ref("m365_sync.action_m365_my_accounts").with_user(self.user).run()
        self.assertEqual((page["res_model"], page["res_id"]), ("res.users", self.user.id))
        for view in (
            "base.view_users_form_simple_modif",
            "m365_sync.res_users_view_form_m365_accounts",
        ):
            arch = user_env.get_views([(self.env.ref(view).id, "form")])["views"]["form"]["arch"]
            self.assertIn("m365_account_ids", arch)
            self.assertIn("action_sync_now", arch, "the rows come with their buttons")
            self.assertIn("action_m365_add_account", arch)
        self.user._m365_set_notice("Connected", "success")
        self.user.with_user(self.user).action_m365_dismiss_notice()
        self.assertFalse(self.user.m365_notice)
        self.tenant.personal_sync = False
        with self.assertRaisesRegex(UserError, "switched off"):
            new.action_connect()

    def test_settings_edit_the_personal_options(self):
        settings = self.env["res.config.settings"].create(
            {
                "m365_personal_days_back": 14,
                "m365_personal_days_ahead": 180,
                "m365_personal_failure_threshold": 5,
                "m365_personal_notify_managers": True,
            }
        )
        settings.execute()
        self.assertRecordValues(
            self.tenant,
            [
                {
                    "personal_days_back": 14,
                    "personal_days_ahead": 180,
                    "personal_failure_threshold": 5,
                    "personal_notify_managers": True,
                }
            ],
        )
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.tenant.personal_days_ahead = 0
            self.tenant.flush_recordset()
