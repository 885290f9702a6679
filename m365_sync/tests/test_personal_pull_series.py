"""Personal pull of recurring series on Graph's real delta shapes.

The sandbox answers ``calendarView/delta`` the way real Graph does: series masters in
full, occurrences as stubs (id, series, type, start, end, etag — nothing else),
exceptions in full, a cancelled occurrence reported only as a change of its master.
Every appointment must still show its title, availability, privacy, tags and
meeting link; a changed series updates its occurrences; a cancelled occurrence
disappears; and the first pull costs no more round trips than the delta pages.
"""

from datetime import timedelta

from odoo.tests import tagged

from m365_graph.sync.pull import NO_TITLE

from .common import ADELE, MEGAN, M365SandboxCase, PersonalSyncMixin
from .test_personal_pull import at, weekly


@tagged("post_install", "-at_install")
class TestPersonalPullSeries(PersonalSyncMixin, M365SandboxCase):
    def add_series(self, subject, first, count, **props):
        return self.sandbox.state.add_event(
            ADELE,
            subject,
            first,
            first + timedelta(hours=1),
            recurrence=weekly(first, count),
            **props,
        )

    def graph_calls(self):
        return [
            r for r in self.sandbox.log if r.batch_item_id is None and r.path.startswith("/v1.0/")
        ]

    def test_occurrences_take_the_content_of_their_series(self):
        series = self.add_series(
            "Steering committee",
            at(2, 14),
            4,
            showAs="free",
            sensitivity="private",
            categories=["Board"],
            location={"displayName": "Room 12"},
            body={"contentType": "text", "content": "Quarterly figures"},
            isOnlineMeeting=True,
        )
        account = self.connect()
        # The sandbox really sends stubs: an occurrence of the delta has no subject.
        self.sandbox.log.clear()
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        delta = self.sandbox.log.filter(r"/calendarView/delta")
        self.assertEqual(len(self.graph_calls()), len(delta), "no read besides the delta pages")
        self.assertRecordValues(run, [{"created": 4, "skipped": 0}])
        events = self.events(account)
        self.assertEqual(len(events), 4)
        self.assertNotIn(NO_TITLE, events.mapped("name"))
        for event in events:
            self.assertEqual(event.name, "Steering committee")
            self.assertEqual(event.show_as, "free")
            self.assertEqual(event.privacy, "private")
            self.assertEqual(event.categ_ids.mapped("name"), ["Board"])
            self.assertEqual(event.location, "Room 12")
            self.assertIn("Quarterly figures", event.description)
            self.assertTrue(event.videocall_location.startswith("https://teams.microsoft.com/"))
        links = events.m365_link_ids
        self.assertEqual(set(links.mapped("series_master_id")), {series["id"]})
        self.assertTrue(all(links.mapped("change_key")), "the version comes from the etag")
        self.assertEqual(
            sorted(links.mapped("original_start")),
            [at(2 + 7 * i, 14).replace(tzinfo=None) for i in range(4)],
        )
        # Nothing changed: one delta request, nothing written.
        self.sandbox.log.clear()
        with self.assert_no_writes(*events, *links):
            outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.http_requests, 1)

    def test_exceptions_keep_their_own_content(self):
        self.add_series("Team sync", at(1, 10), 3, categories=["Team"])
        account = self.connect()
        self.sync(account)
        second = self.events(account)[1]
        graph_id = second.m365_link_ids.graph_event_id
        self.sandbox.state.update_event(ADELE, graph_id, subject="Team sync (customer visit)")
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertRecordValues(run, [{"created": 0, "updated": 1, "deleted": 0}])
        self.assertEqual(second.name, "Team sync (customer visit)")
        self.assertEqual(second.m365_link_ids.event_type, "exception")
        self.assertEqual(second.categ_ids.mapped("name"), ["Team"])
        self.assertEqual(
            self.events(account).mapped("name").count("Team sync"), 2, "the others stay"
        )

    def test_a_changed_series_updates_every_occurrence(self):
        series = self.add_series("Retro", at(3, 15), 3, showAs="busy")
        account = self.connect()
        self.sync(account)
        self.sandbox.state.update_event(ADELE, series["id"], subject="Retrospective", showAs="free")
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertRecordValues(run, [{"created": 0, "updated": 3, "deleted": 0}])
        events = self.events(account)
        self.assertEqual(set(events.mapped("name")), {"Retrospective"})
        self.assertEqual(set(events.mapped("show_as")), {"free"})

    def test_a_cancelled_occurrence_is_found_through_its_master(self):
        series = self.add_series("Standup", at(1, 8), 5)
        account = self.connect()
        self.sync(account)
        events = self.events(account)
        cancelled = events[2]
        graph_id = cancelled.m365_link_ids.graph_event_id
        self.sandbox.state.delete_event(ADELE, graph_id)
        self.sandbox.log.clear()
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        # Graph said nothing about the occurrence (tests/sandbox/test_delta.py): only
        # its master came again, and its instances, read again, no longer list it.
        self.assertRecordValues(run, [{"created": 0, "updated": 0, "deleted": 1}])
        self.assertFalse(cancelled.exists())
        self.assertEqual(len(self.events(account)), 4)
        instances = [r for r in self.sandbox.log if "/instances" in r.path]
        self.assertEqual(len(instances), 1, "the series' instances were read again")
        self.assertEqual(
            len(self.env["m365.event.link"].search([("series_master_id", "=", series["id"])])), 4
        )

    def test_first_pull_of_fifty_weekly_series_stays_within_the_round_trips(self):
        state = self.sandbox.state
        for i in range(150):
            state.add_event(ADELE, f"Single {i}", at(1 + i % 200, 7), at(1 + i % 200, 8))
        for i in range(50):
            self.add_series(f"Series {i}", at(1 + i % 7, 9 + i % 8), 10, categories=["Weekly"])
        account = self.connect()
        self.sandbox.log.clear()
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertRecordValues(run, [{"created": 150 + 500, "skipped": 0}])
        self.assertNotIn(NO_TITLE, self.events(account).mapped("name"))
        # 700 items (150 + 50 masters + 500 stubs) at 100 per page, a series never split.
        self.assertLessEqual(len(self.graph_calls()), 9)
        self.assertLessEqual(run.http_requests, 9)

    def test_same_series_in_two_accounts_is_one_appointment_per_occurrence(self):
        mine = self.add_series("Board", at(2, 10), 3)
        theirs = self.sandbox.state.add_event(
            MEGAN, "Board", at(2, 10), at(2, 11), recurrence=weekly(at(2, 10), 3), showAs="free"
        )
        # Exchange gives every copy of one meeting the same iCalUId (the master's here:
        # the occurrences come as stubs, without one of their own).
        self.sandbox.state.override_event_json(MEGAN, theirs["id"], iCalUId=mine["iCalUId"])
        main = self.connect(ADELE)
        second = self.connect(MEGAN)
        self.sync(main)
        outcome, run = self.sync(second)
        self.assertTrue(outcome, second.last_error)
        self.assertEqual(run.created, 0)
        appointments = self.events(main)
        self.assertEqual(len(appointments), 3)
        self.assertEqual(self.events(second), appointments)
        self.assertEqual(
            [len(a.m365_link_ids) for a in appointments], [2, 2, 2], "one link per account"
        )
        self.assertEqual(set(appointments.mapped("show_as")), {"busy"}, "the main account decides")

    def test_a_failed_series_read_loses_nothing(self):
        self.add_series("Planning", at(1, 13), 4)
        account = self.connect()
        self.sync(account)
        link_before = account.sudo().delta_link
        cancelled = self.events(account)[1]
        self.sandbox.state.delete_event(ADELE, cancelled.m365_link_ids.graph_event_id)
        self.sandbox.faults.add(
            403, path=r"/instances", in_batch=True, times=None, code="ErrorAccessDenied"
        )
        outcome, run = self.sync(account)
        self.assertFalse(outcome)
        self.assertEqual(run.state, "failed")
        self.assertIn("Calendars.Read", run.message, "the permission is named")
        self.assertTrue(cancelled.exists(), "nothing deleted on a failed read")
        self.assertEqual(account.sudo().delta_link, link_before, "the round is read again")
        self.sandbox.faults.clear()
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertRecordValues(run, [{"deleted": 1}])
        self.assertFalse(cancelled.exists())
