from datetime import datetime, time, timedelta, timezone
from unittest.mock import patch

from odoo.tests import tagged

from m365_sandbox import weekly_recurrence as weekly

from ..models import m365_event_link
from .common import ADELE, MEGAN, M365SandboxCase, PersonalSyncMixin

UTC = timezone.utc


def at(days, hour=9, minute=0):
    """An aware datetime ``days`` from today at ``hour`` UTC."""
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), UTC)


@tagged("post_install", "-at_install")
class TestPersonalPull(PersonalSyncMixin, M365SandboxCase):
    def add(self, subject, start, end, upn=ADELE, **props):
        return self.sandbox.state.add_event(upn, subject, start, end, **props)

    def test_first_sync_imports_the_calendar(self):
        state = self.sandbox.state
        self.add(
            "Customer call",
            at(1, 9),
            at(1, 10),
            showAs="tentative",
            categories=["Customer", "Travel"],
            location={"displayName": "Room 4"},
            body={"contentType": "text", "content": "Bring the offer"},
            isOnlineMeeting=True,
        )
        self.add("Private", at(2, 12), at(2, 13), sensitivity="private", showAs="free")
        day = at(3).date()
        self.add("Holiday", day, day + timedelta(days=2), isAllDay=True, showAs="oof")
        series = self.add("Weekly", at(4, 14), at(4, 15), recurrence=weekly(at(4, 14), 3))
        self.add("Far away", at(400), at(400, 10))  # outside the window (365 days)
        account = self.connect()
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.email, ADELE)
        self.assertTrue(account.is_main)
        self.assertTrue(account.sync_requested, "the first sync starts right after connecting")

        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.state, "done")
        self.assertRecordValues(run, [{"created": 6, "updated": 0, "deleted": 0, "skipped": 0}])
        self.assertFalse(account.sync_requested)
        self.assertIn("6 created", account.last_sync_summary)
        events = self.events(account)
        self.assertEqual(len(events), 6)
        by_name = {}
        for event in events:
            by_name.setdefault(event.name, event)
            self.assertEqual(event.user_id, self.user, "owned by the account's user")
            self.assertIn(self.user.partner_id, event.partner_ids, "shows in the user's calendar")
        call = by_name["Customer call"]
        self.assertEqual(call.start, at(1, 9).replace(tzinfo=None))
        self.assertEqual(call.show_as, "busy")
        self.assertEqual(sorted(call.categ_ids.mapped("name")), ["Customer", "Travel"])
        self.assertEqual(call.location, "Room 4")
        self.assertIn("Bring the offer", call.description)
        self.assertTrue(call.videocall_location.startswith("https://teams.microsoft.com/"))
        self.assertTrue(call.m365_from_outlook)
        attendee = call.attendee_ids.filtered(lambda a: a.partner_id == self.user.partner_id)
        self.assertEqual(attendee.state, "accepted")
        private = by_name["Private"]
        self.assertEqual(private.privacy, "private")
        self.assertEqual(private.show_as, "free")
        self.assertEqual(private.with_user(self.other_user).display_name, "Busy")
        holiday = by_name["Holiday"]
        self.assertTrue(holiday.allday)
        self.assertEqual((holiday.start_date, holiday.stop_date), (day, day + timedelta(days=1)))
        occurrences = events.filtered(lambda e: e.name == "Weekly")
        self.assertEqual(len(occurrences), 3)
        self.assertFalse(any(occurrences.mapped("recurrency")), "linked occurrences")
        links = occurrences.m365_link_ids
        self.assertEqual(set(links.mapped("series_master_id")), {series["id"]})
        self.assertEqual(set(links.mapped("event_type")), {"occurrence"})
        self.assertEqual(
            sorted(links.mapped("original_start")),
            [at(4 + 7 * i, 14).replace(tzinfo=None) for i in range(3)],
        )
        self.assertEqual(len(state.events(ADELE)), 5, "nothing was written to Outlook")
        self.assertFalse(
            [
                r
                for r in self.sandbox.log
                if r.method in ("POST", "PATCH", "DELETE") and "/oauth2/" not in r.path
            ],
            "pulled appointments never bounce back to Outlook",
        )

    def test_second_sync_without_change_writes_nothing(self):
        self.add("One", at(1), at(1, 10))
        self.add("Two", at(2), at(2, 10), recurrence=weekly(at(2), 2))
        account = self.connect()
        self.sync(account)
        events = self.events(account)
        links = events.m365_link_ids
        self.sandbox.log.clear()
        with self.assert_no_writes(*events, *links):
            outcome, run = self.sync(account)
        self.assertTrue(outcome)
        self.assertRecordValues(
            run, [{"state": "done", "created": 0, "updated": 0, "deleted": 0, "skipped": 0}]
        )
        self.assertEqual(run.http_requests, 1, "one delta request, nothing else")
        self.assertEqual(account.last_sync_summary, "No change.")
        self.assertEqual(self.events(account), events)

    def test_weekly_new_round_moves_the_window_without_writes(self):
        self.add("One", at(1), at(1, 10))
        self.add("Old", at(-20), at(-20, 10))
        account = self.connect()
        self.sync(account)
        events = self.events(account)
        self.assertEqual(len(events), 2)
        # Eight days later the stored round's window is stale: a new round starts.
        account.write(
            {
                "window_start": account.window_start - timedelta(days=8),
                "window_end": account.window_end - timedelta(days=8),
            }
        )
        with self.assert_no_writes(*events, *events.m365_link_ids):
            outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertRecordValues(run, [{"created": 0, "updated": 0, "deleted": 0}])
        self.assertEqual(account.window_start.date(), at(-30).date())
        delta_calls = self.sandbox.log.filter(r"/calendarView/delta")
        self.assertIn("startDateTime", delta_calls[-1].query, "a new round, with a window")

    def test_changes_cancelled_occurrences_and_deletions(self):
        state = self.sandbox.state
        moved = self.add("Moved", at(1), at(1, 10))
        gone = self.add("Gone", at(2), at(2, 10))
        series = self.add("Series", at(3), at(3, 10), recurrence=weekly(at(3), 3))
        account = self.connect()
        self.sync(account)
        occurrence = self.events(account).filtered(lambda e: e.name == "Series")[1]
        occurrence_id = occurrence.m365_link_ids.graph_event_id
        state.update_event(ADELE, moved["id"], subject="Moved!", start=at(5, 8), end=at(5, 9))
        state.delete_event(ADELE, gone["id"])
        state.delete_event(ADELE, occurrence_id)  # one occurrence cancelled
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertRecordValues(run, [{"created": 0, "updated": 1, "deleted": 2}])
        names = self.events(account).mapped("name")
        self.assertEqual(sorted(names), ["Moved!", "Series", "Series"])
        moved_event = self.events(account).filtered(lambda e: e.name == "Moved!")
        self.assertEqual(moved_event.start, at(5, 8).replace(tzinfo=None))
        self.assertFalse(occurrence.exists())
        self.assertEqual(
            len(self.env["m365.event.link"].search([("series_master_id", "=", series["id"])])), 2
        )

    def test_deleted_series_disappears_entirely(self):
        series = self.add("Training", at(2), at(2, 10), recurrence=weekly(at(2), 6))
        account = self.connect()
        self.sync(account)
        self.assertEqual(len(self.events(account)), 6)
        # A shorter window: later occurrences leave it, and stay in Odoo.
        self.tenant.personal_days_ahead = 14
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.deleted, 0, "never deleted because they left the window")
        self.assertEqual(len(self.events(account)), 6)
        self.sandbox.state.delete_event(ADELE, series["id"])
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.deleted, 6, "in the window and outside it")
        self.assertFalse(self.events(account))

    def test_event_moved_out_of_the_window_is_kept(self):
        event = self.add("Conference", at(10), at(10, 17))
        account = self.connect()
        self.sync(account)
        self.sandbox.state.update_event(ADELE, event["id"], start=at(500), end=at(500, 17))
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.deleted, 0)
        kept = self.events(account)
        self.assertEqual(len(kept), 1)
        self.assertEqual(kept.start, at(500).replace(tzinfo=None), "updated from a fresh read")

    def test_same_meeting_in_two_accounts_is_one_appointment(self):
        state = self.sandbox.state
        mine = self.add("Board meeting", at(1), at(1, 11))
        theirs = self.add("Board meeting", at(1), at(1, 11), upn=MEGAN, showAs="tentative")
        # Exchange gives every copy of one meeting the same iCalUId.
        state.override_event_json(MEGAN, theirs["id"], iCalUId=mine["iCalUId"])
        main = self.connect(ADELE)
        second = self.connect(MEGAN)
        self.assertTrue(main.is_main)
        self.assertFalse(second.is_main)
        self.sync(main)
        outcome, run = self.sync(second)
        self.assertTrue(outcome, second.last_error)
        self.assertEqual(run.created, 0)
        self.assertIn("already in Odoo from another account", second.last_sync_summary)
        appointment = self.events(main)
        self.assertEqual(len(appointment), 1)
        self.assertEqual(self.events(second), appointment)
        self.assertEqual(len(appointment.m365_link_ids), 2)
        self.assertEqual(appointment.show_as, "busy", "the main account decides the values")
        # Removed from one mailbox: the appointment stays for the other.
        state.delete_event(ADELE, mine["id"])
        self.sync(main)
        self.assertTrue(appointment.exists())
        self.assertEqual(appointment.m365_link_ids.account_id, second)
        state.delete_event(MEGAN, theirs["id"])
        self.sync(second)
        self.assertFalse(appointment.exists())

    def test_bad_items_are_skipped_and_counted(self):
        state = self.sandbox.state
        self.add("Good", at(1), at(1, 10))
        backwards = self.add("Backwards", at(2, 10), at(2, 11))
        martian = self.add("Martian", at(3), at(3, 10))
        no_start = self.add("No start", at(4), at(4, 10))
        state.override_event_json(
            ADELE,
            backwards["id"],
            end={"dateTime": at(2, 8).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        )
        state.override_event_json(
            ADELE,
            martian["id"],
            start={"dateTime": at(3).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "Mars Time"},
        )
        state.override_event_json(ADELE, no_start["id"], start=None)
        account = self.connect()
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.state, "done")
        self.assertEqual((run.created, run.skipped), (1, 3))
        details = run.skipped_details
        self.assertIn("ends before it starts", details)
        self.assertIn("unknown time zone", details)
        self.assertIn("'start'", details)
        self.assertEqual(self.events(account).mapped("name"), ["Good"])
        self.assertEqual(account.state, "connected")
        self.assertIn("3 skipped", account.last_sync_summary)

    def test_expired_delta_restarts_without_duplicates_or_deletions(self):
        self.add("One", at(1), at(1, 10))
        self.add("Two", at(2), at(2, 10), recurrence=weekly(at(2), 2))
        account = self.connect()
        self.sync(account)
        events = self.events(account)
        self.sandbox.state.expire_delta_tokens()
        with self.assert_no_writes(*events, *events.m365_link_ids):
            outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertRecordValues(run, [{"created": 0, "updated": 0, "deleted": 0}])
        self.assertIn("read again", run.message)
        self.assertEqual(self.events(account), events)
        self.assertEqual(self.sandbox.log.count(status=410), 1)

    def test_expired_delta_still_finds_deleted_events(self):
        keep = self.add("Keep", at(1), at(1, 10))
        gone = self.add("Gone", at(2), at(2, 10))
        account = self.connect()
        self.sync(account)
        self.sandbox.state.delete_event(ADELE, gone["id"])
        self.sandbox.state.expire_delta_tokens()
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.deleted, 1, "checked with Graph (404) before deleting")
        self.assertEqual(self.events(account).m365_link_ids.graph_event_id, keep["id"])

    def test_throttling_is_honoured_and_the_run_goes_on(self):
        self.add("One", at(1), at(1, 10))
        self.sandbox.faults.add(429, path=r"/calendarView/delta", retry_after=0, times=2)
        account = self.connect()
        outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.throttled, 2)
        self.assertEqual(run.created, 1)

    def test_interrupted_round_resumes_where_it_stopped(self):
        for day in range(1, 6):
            self.add(f"E{day}", at(day), at(day, 10))
        account = self.connect()
        with patch.object(m365_event_link, "PAGE_SIZE", 2):
            # The second page keeps being throttled: the retries give up.
            self.sandbox.faults.add(
                429, path=r"/calendarView/delta", retry_after=0, after=1, times=None
            )
            outcome, run = self.sync(account)
            self.assertTrue(outcome, account.last_error)
            self.assertEqual(run.created, 2)
            self.assertIn("Interrupted", run.message)
            self.assertTrue(account.resume_link)
            self.sandbox.faults.clear()
            outcome, run = self.sync(account)
        self.assertTrue(outcome, account.last_error)
        self.assertEqual(run.created, 3)
        self.assertFalse(account.resume_link)
        self.assertTrue(account.delta_link)
        self.assertEqual(len(self.events(account)), 5, "no duplicates")

    def test_pulled_events_send_no_invitation(self):
        self.add("Future meeting", at(3), at(3, 10))
        account = self.connect()
        Mail = self.env["mail.mail"].sudo()
        before = Mail.search_count([])
        postcommit = len(self.env.cr.postcommit._funcs)
        self.sync(account)
        self.assertEqual(len(self.events(account)), 1)
        self.assertEqual(Mail.search_count([]), before, "no invitation e-mail")
        self.assertEqual(
            len(self.env.cr.postcommit._funcs),
            postcommit,
            "Odoo's Outlook Calendar app was not asked to push the appointment",
        )

    def test_private_events_stay_private_for_colleagues(self):
        self.add("Doctor", at(1), at(1, 10), sensitivity="private")
        account = self.connect()
        self.sync(account)
        event = self.events(account)
        event.invalidate_recordset()
        as_colleague = event.with_user(self.other_user)
        self.assertEqual(as_colleague.read(["name"])[0]["name"], "Busy")
        event.invalidate_recordset()
        self.assertEqual(event.with_user(self.user).read(["name"])[0]["name"], "Doctor")
