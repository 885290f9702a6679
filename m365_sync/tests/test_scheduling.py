"""Through Odoo against the sandbox: Teams meetings on appointments, the
privacy and upload rules, private Outlook appointments as Busy blocks, colleagues'
availability while scheduling (appointment form, activity dialog) and the busy-only
mirror between a user's accounts."""

from datetime import timedelta

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from m365_graph.sync.mirror import MIRROR_CATEGORY

from . import availability_common
from .busy_common import MONDAY, BusyCase
from .common import ADELE, ALEX, MEGAN, M365SandboxCase, M365SandboxHttpCase
from .outbox_common import OutboxMixin, day


@tagged("post_install", "-at_install")
class TestTeamsMeetings(OutboxMixin, M365SandboxCase):
    def setUp(self):
        super().setUp()
        self.sandbox.state.set_teams(True)
        self.sandbox.state.set_teams(True, user=ADELE)

    def test_teams_switch_creates_the_meeting_and_the_link_comes_back(self):
        event = self.appointment("Design review", m365_teams=True)
        self.assertEqual(self.queued(event).payload["onlineMeetingProvider"], "teamsForBusiness")
        self.drain()
        [remote] = self.outlook()
        self.assertTrue(remote["isOnlineMeeting"])
        join = remote["onlineMeeting"]["joinUrl"]
        self.assertRecordValues(
            event,
            [{"videocall_location": join, "m365_teams_pushed": True, "m365_teams_error": False}],
        )
        self.assertFalse(self.queued(), "writing the link back queues nothing")

    def test_switching_off_replaces_the_event_once(self):
        event = self.appointment("Design review", m365_teams=True)
        self.drain()
        [before] = self.outlook()
        event.with_user(self.user).write({"m365_teams": False})
        self.assertIs(self.queued(event).payload["isOnlineMeeting"], False)
        self.sandbox.log.clear()
        self.drain()
        # A PATCH keeps the meeting (microsoft-graph-docs#17308); the drain deletes the
        # event and creates it again without one.
        [after] = self.outlook()
        self.assertNotEqual(after["id"], before["id"])
        self.assertFalse(after["isOnlineMeeting"])
        self.assertIsNone(after["onlineMeeting"])
        self.assertEqual([r.method for r in self.writes()], ["PATCH", "DELETE", "POST"])
        self.assertEqual(self.link(event).graph_event_id, after["id"])
        self.assertRecordValues(event, [{"videocall_location": False, "m365_teams_pushed": False}])
        self.sandbox.log.clear()
        self.drain()
        self.assertFalse(self.writes(), "nothing more to send")

    def test_outlook_meeting_is_left_alone_without_the_switch(self):
        event = self.appointment("Plain")
        self.assertNotIn("isOnlineMeeting", self.queued(event).payload)

    def test_user_default_and_company_default(self):
        self.env.company.m365_teams_default = True
        fresh = new_test_user(self.env, login="m365_teams_default", groups="base.group_user")
        self.assertTrue(fresh.m365_teams_default)
        self.user.m365_teams_default = True
        event = self.appointment("Weekly")
        self.assertTrue(event.m365_teams)

    def test_without_licence_or_without_teams_the_user_is_told(self):
        for tenant_wide in (False, True):
            self.sandbox.state.set_teams(True)
            self.sandbox.state.set_teams(True, user=ADELE)
            if tenant_wide:
                self.sandbox.state.set_teams(False)
            else:
                self.sandbox.state.set_teams(False, user=ADELE)
            event = self.appointment(f"Review {tenant_wide}", m365_teams=True)
            self.drain()
            self.assertIn("Teams licence", event.m365_teams_error)
            self.assertFalse(event.videocall_location)
            notes = event.message_ids.filtered(lambda m: "Teams" in (m.body or ""))
            self.assertEqual(len(notes), 1, "said once")
            event.with_user(self.user).write({"name": f"Review {tenant_wide} (moved)"})
            self.drain()
            self.assertEqual(
                len(event.message_ids.filtered(lambda m: "Teams" in (m.body or ""))), 1
            )


@tagged("post_install", "-at_install")
class TestUploadRules(OutboxMixin, M365SandboxCase):
    def setUp(self):
        super().setUp()
        self.env.company.write(
            {
                "m365_private_upload": "private",
                "m365_upload_domain": "[]",
                "m365_upload_from_today": False,
            }
        )
        self.user.m365_rules_own = False

    def test_private_goes_up_as_private_by_default(self):
        self.appointment("Doctor", privacy="private")
        self.drain()
        [remote] = self.outlook()
        self.assertEqual(remote["sensitivity"], "private")

    def test_private_not_at_all_and_a_newly_excluded_event_is_removed_once(self):
        event = self.appointment("Dentist")
        self.drain()
        self.assertEqual(len(self.outlook()), 1)
        self.user.write({"m365_rules_own": True, "m365_private_upload": "skip"})
        self.appointment("Secret", privacy="private")
        self.assertFalse(self.queued(self.env["calendar.event"].search([("name", "=", "Secret")])))
        event.with_user(self.user).write({"privacy": "private"})
        [item] = self.queued(event)
        self.assertEqual(item.operation, "delete")
        self.drain()
        self.assertEqual(self.outlook(), [], "removed from Outlook")
        self.assertFalse(self.link(event))
        event.with_user(self.user).write({"name": "Dentist (moved)"})
        self.assertFalse(self.queued(event), "removed once: nothing more is queued")
        self.assertTrue(event.exists(), "the appointment stays in Odoo")

    def test_a_series_follows_the_private_rule(self):
        self.user.write({"m365_rules_own": True, "m365_private_upload": "skip"})
        start = day(7, 8)
        first = (
            self.env["calendar.event"]
            .with_user(self.user)
            .create(
                {
                    "name": "Weekly",
                    "start": start,
                    "stop": start + timedelta(hours=1),
                    "recurrency": True,
                    "rrule_type": "weekly",
                    "interval": 1,
                    "end_type": "count",
                    "count": 3,
                    ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[start.weekday()]: True,
                }
            )
        )
        self.drain()
        masters = [e for e in self.outlook() if e["type"] == "seriesMaster"]
        self.assertEqual(len(masters), 1)
        first.with_user(self.user).write({"privacy": "private", "recurrence_update": "all_events"})
        self.drain()
        self.assertEqual(self.outlook(), [], "the private series left Outlook")

    def test_only_from_today_and_the_domain(self):
        self.env.company.write(
            {"m365_upload_from_today": True, "m365_upload_domain": "[('location', '=', 'Office')]"}
        )
        past = self.appointment("Last week", start=day(-7), location="Office")
        elsewhere = self.appointment("Offsite", location="Park")
        kept = self.appointment("Standup", location="Office")
        self.assertFalse(self.queued(past | elsewhere))
        self.assertEqual(self.queued(kept).operation, "create")
        self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Standup"])
        kept.with_user(self.user).write({"location": "Park"})
        self.assertEqual(self.queued(kept).operation, "delete")

    def test_a_filter_cannot_probe_a_secret(self):
        me = self.user.with_user(self.user)
        for probe in (
            "[('user_id.m365_account_ids.token_cache', 'like', 'a%')]",
            "[('no_such_field', '=', 1)]",
            "not a domain",
        ):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                me.write({"m365_rules_own": True, "m365_upload_domain": probe})
        me.write({"m365_rules_own": True, "m365_upload_domain": "[('location', '=', 'Office')]"})
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            # A Settings administrator (not the superuser) saves the company's filter.
            self.env.company.with_user(self.env.ref("base.user_admin")).write(
                {"m365_upload_domain": "[('user_id.m365_account_ids.token_cache', '!=', False)]"}
            )

    def test_outlook_private_appointment_comes_down_as_busy(self):
        self.user.write({"m365_rules_own": True, "m365_private_as_busy": True})
        account = self.account
        account.sudo().direction = "both"
        self.sandbox.state.add_event(
            ADELE,
            "Therapy",
            day(3, 9),
            day(3, 10),
            sensitivity="private",
            location={"displayName": "Clinic"},
            body={"contentType": "text", "content": "x"},
            categories=["Health"],
        )
        self.sandbox.state.add_event(ADELE, "Team lunch", day(3, 12), day(3, 13))
        self.sync(account)
        events = self.env["calendar.event"].search([("user_id", "=", self.user.id)])
        busy = events.filtered(lambda e: e.name == "Busy")
        self.assertEqual(len(busy), 1)
        self.assertRecordValues(
            busy, [{"privacy": "private", "location": False, "description": False}]
        )
        self.assertFalse(busy.categ_ids)
        self.assertIn("Team lunch", events.mapped("name"))
        self.assertNotIn("Therapy", events.mapped("name"))


@tagged("post_install", "-at_install")
class TestAvailability(availability_common.AvailabilityMixin, M365SandboxCase):
    def test_attendees_free_busy_conflict_and_next_free_slot(self):
        event = self.meeting()
        info = event.m365_availability
        rows = {row["email"]: row for row in info["people"]}
        self.assertEqual(len(rows), 4)
        megan = rows[MEGAN]
        self.assertTrue(megan["conflict"])
        self.assertEqual([b["title"] for b in megan["busy"]], [None, None], "never a title")
        self.assertIn("Active Directory", rows["guest@fabrikam.example"]["error"])
        self.assertFalse(rows[ALEX]["conflict"])
        self.assertTrue(info["conflict"])
        # Megan 10:00-11:00 busy and 11:00-11:30 tentative, Odoo: Alex at 11:30-12:00,
        # lunch break 12-13 in the working hours: next hour-long slot is 13:00.
        self.assertEqual(info["suggestion"], self.utc_slot(13, 14))

    def test_the_viewer_sees_their_own_titles_only(self):
        event = self.meeting()
        rows = {
            row["email"]: row
            for row in event.with_user(self.adele_user).m365_availability["people"]
        }
        self.assertEqual([b["title"] for b in rows[ADELE]["busy"]], ["My own focus time"])
        self.assertTrue(all(b["title"] is None for b in rows[MEGAN]["busy"]))

    def test_tentative_on_option_and_declined_kept_out(self):
        self.organizer.write({"m365_rules_own": True, "m365_tentative_busy": False})
        info = self.meeting(start=(11, 0), stop=(11, 30)).m365_availability
        rows = {row["email"]: row for row in info["people"]}
        self.assertFalse(rows[MEGAN]["conflict"], "tentative does not count on this option")

    def test_cached_briefly(self):
        self.meeting().m365_availability  # noqa: B018
        self.sandbox.log.clear()
        event = self.meeting(start=(15, 0), stop=(16, 0))
        event.m365_availability  # noqa: B018
        self.assertFalse(
            [r for r in self.sandbox.log if "getSchedule" in r.path or "$batch" in r.path]
        )

    def test_a_read_of_many_appointments_asks_outlook_nothing(self):
        events = self.meeting() | self.meeting(start=(15, 0), stop=(16, 0))
        events.invalidate_recordset()
        self.sandbox.log.clear()
        values = events.read(["m365_availability"])
        self.assertEqual([v["m365_availability"]["people"] for v in values], [[], []])
        self.assertFalse([r for r in self.sandbox.log if "/v1.0" in r.path])

    def test_fifty_people_are_chunked(self):
        partners = self.people(50)
        self.sandbox.log.clear()
        info = self.meeting(partners=partners, start=(7, 0), stop=(7, 30)).m365_availability
        self.assertEqual(len(info["people"]), 50)
        calls = [r for r in self.sandbox.log if r.path.endswith("getSchedule")]
        self.assertEqual(len(calls), 3)
        self.assertEqual(
            [
                r.path
                for r in self.sandbox.log
                if not r.in_batch and "/oauth2/" not in r.path and "openid" not in r.path
            ],
            ["/v1.0/$batch"],
        )

    def test_without_busy_time_it_says_what_is_missing(self):
        self.tenant.busy_sync = False
        info = self.meeting().m365_availability
        self.assertIn("busy time", info["message"])
        self.assertFalse(info["people"])

    def test_graph_down_or_tenant_unconfigured_never_breaks_the_form(self):
        self.sandbox.faults.add(status=503, path=r"getSchedule|\$batch", times=50)
        info = self.meeting().m365_availability
        self.assertEqual(len(info["people"]), 4)
        self.assertTrue(all(row["error"] for row in info["people"]), info["people"])
        self.assertFalse(info["conflict"], "unknown availability is no conflict")
        self.sandbox.faults.clear()
        self.tenant.client_id = False
        info = self.meeting(start=(15, 0), stop=(16, 0)).m365_availability
        self.assertTrue(info["message"])

    def test_activity_dialog_shows_the_assignee(self):
        task = self.env["project.task"].create(
            {"name": "Write offer", "project_id": self.project.id}
        )
        wizard = (
            self.env["mail.activity.schedule"]
            .with_context(active_model="project.task", active_ids=task.ids)
            .create(
                {
                    "activity_user_id": self.megan_user.id,
                    "m365_planned_start": self.at(10, 30),
                    "m365_planned_duration": 1.0,
                }
            )
        )
        info = wizard.m365_availability
        [row] = info["people"]
        self.assertEqual(row["email"], MEGAN)
        self.assertTrue(row["conflict"])
        self.assertEqual(info["suggestion"], self.utc_slot(13, 14))


@tagged("post_install", "-at_install")
class TestBusyMirror(OutboxMixin, M365SandboxCase):
    def setUp(self):
        super().setUp()
        self.account.direction = "up"
        self.second = self.connect(MEGAN, direction="up")
        self.third = self.connect(ALEX, direction="up")
        self.accounts = self.account | self.second | self.third
        self.accounts.sudo().write({"busy_mirror": True})
        state = self.sandbox.state
        state.add_event(ADELE, "Board", day(2, 9), day(2, 10))
        state.add_event(MEGAN, "Customer", day(2, 11), day(2, 12))
        state.add_event(MEGAN, "Lunch (free)", day(2, 12), day(2, 13), showAs="free")

    def mirror(self):
        self.env["m365.job.mirror"]._m365_cron()
        self.env.invalidate_all()
        return self.env["m365.sync.run"].search([("kind", "=", "mirror")], order="id desc", limit=1)

    def blocks(self, upn):
        return [e for e in self.sandbox.state.events(upn) if MIRROR_CATEGORY in e["categories"]]

    def test_cycle_across_three_accounts_then_nothing_then_cleanup(self):
        run = self.mirror()
        self.assertEqual(run.state, "done", run.error_message if "error_message" in run else run)
        self.assertEqual(len(self.blocks(ADELE)), 1)  # Megan's customer meeting
        self.assertEqual(len(self.blocks(MEGAN)), 1)  # Adele's board meeting
        self.assertEqual(len(self.blocks(ALEX)), 2)
        for block in self.blocks(ALEX):
            self.assertEqual(block["subject"], "Busy")
            self.assertEqual(block["sensitivity"], "private")
            self.assertEqual(block["body"]["content"], "")
        self.assertEqual(self.env["m365.mirror.block"].sudo().search_count([]), 4)
        # A mirror never mirrors a mirror: the second and third runs write nothing.
        for _ in range(2):
            self.sandbox.log.clear()
            self.mirror()
            self.assertFalse(
                [
                    r
                    for r in self.sandbox.log
                    if r.method in ("POST", "PATCH", "DELETE")
                    and not r.path.endswith("$batch")
                    and "/oauth2/" not in r.path
                ]
            )
        self.assertEqual(len(self.blocks(ALEX)), 2)
        # Alex switched off: his blocks go, the others stay.
        self.third.write({"busy_mirror": False})
        self.mirror()
        self.assertEqual(self.blocks(ALEX), [])
        self.assertEqual(len(self.blocks(ADELE)), 1)
        self.assertEqual(self.env["m365.mirror.block"].sudo().search_count([]), 2)

    def test_blocks_are_the_syncs_alone(self):
        self.mirror()
        Block = self.env["m365.mirror.block"]
        mine = Block.with_user(self.user).search([])
        self.assertEqual(len(mine), 4, "the owner reads their blocks")
        self.assertFalse(Block.with_user(self.other_user).search([]), "nobody else does")
        with self.assertRaises(AccessError):
            mine[:1].write({"target_event_id": "forged"})
        with self.assertRaises(AccessError):
            Block.with_user(self.user).create(
                {
                    "user_id": self.user.id,
                    "source_event_id": "x",
                    "target_event_id": "y",
                    "start": day(1),
                    "stop": day(1, 10),
                }
            )
        with self.assertRaises(AccessError):
            self.user.with_user(self.other_user).write({"m365_upload_domain": "[]"})

    def test_a_moved_source_moves_its_blocks(self):
        self.mirror()
        [board] = [e for e in self.sandbox.state.events(ADELE) if e["subject"] == "Board"]
        self.sandbox.state.update_event(
            ADELE,
            board["id"],
            start={"dateTime": day(2, 15).isoformat(), "timeZone": "UTC"},
            end={"dateTime": day(2, 16).isoformat(), "timeZone": "UTC"},
        )
        self.mirror()
        [block] = self.blocks(MEGAN)
        self.assertTrue(block["start"]["dateTime"].startswith(day(2, 15).strftime("%Y-%m-%dT%H")))

    def test_mirror_blocks_never_become_odoo_appointments(self):
        self.mirror()
        self.account.sudo().direction = "both"
        self.sync(self.account)
        names = self.env["calendar.event"].search([("user_id", "=", self.user.id)]).mapped("name")
        self.assertIn("Board", names)
        self.assertNotIn("Busy", names)


@tagged("post_install", "-at_install")
class TestAvailabilityTour(availability_common.AvailabilityMixin, M365SandboxHttpCase):
    def test_appointment_form_shows_availability_and_takes_the_free_slot(self):
        event = self.meeting()
        self.start_tour(
            f"/odoo/calendar.event/{event.id}",
            "m365_sync_availability_tour",
            login=self.organizer.login,
        )
        event.invalidate_recordset()
        self.assertEqual(event.start, self.at(13))
        self.assertEqual(event.stop, self.at(14))


@tagged("post_install", "-at_install")
class TestTentativeInWorkload(BusyCase):
    def test_tentative_counts_on_the_users_option(self):
        self.event("Adele Vance", MONDAY, 10, 11, showAs="tentative")
        self.event("Adele Vance", MONDAY, 13, 14)
        self.import_busy()
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 2.0)
        self.adele.write({"m365_rules_own": True, "m365_tentative_busy": False})
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 1.0)
        self.adele.write({"m365_rules_own": False})
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 2.0, "the company counts it")
