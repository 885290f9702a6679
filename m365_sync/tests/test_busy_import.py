"""Busy-time import against the sandbox: reconciliation, privacy, errors, resume."""

from datetime import datetime, timedelta

from odoo.addons.m365_sync.models.jobs import m365_job_busy as m365_busy_slot
from odoo.exceptions import UserError
from odoo.tests import tagged

from m365_graph import BUSY_SELECT

from . import busy_common
from .busy_common import MONDAY, SECRET_SUBJECT, BusyCase

TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)


@tagged("post_install", "-at_install")
class TestBusyImport(BusyCase):
    def test_import_creates_slots_and_workload_days(self):
        self.event("Adele Vance", MONDAY, 10, 11, showAs="busy", categories=["Customer"])
        self.event("Adele Vance", MONDAY, 12, 13, showAs="free")
        self.event("Adele Vance", MONDAY, 14, 15, showAs="tentative", sensitivity="private")
        self.event("Adele Vance", MONDAY, 15, 16, showAs="workingElsewhere")
        self.all_day("Adele Vance", TUESDAY)
        run = self.import_busy()

        self.assertEqual(run.state, "done", run.message)
        self.assertEqual((run.created, run.updated, run.deleted, run.skipped), (5, 0, 0, 0))
        self.assertIn("3 calendars read", run.message)
        self.assertGreater(run.http_requests, 0)
        slots = self.slots(self.adele)
        self.assertEqual(
            [(s.show_as, s.counted, s.all_day) for s in slots],
            [
                ("busy", True, False),
                ("free", False, False),
                ("tentative", True, False),
                ("workingElsewhere", False, False),
                ("oof", True, True),
            ],
        )
        self.assertEqual(slots[0].categories, "Customer")
        self.assertEqual(slots[2].sensitivity, "private")
        self.assertEqual(slots[0].start.hour, 8, "stored in UTC (10:00 CEST)")
        # Busy and tentative count, free and working elsewhere do not: 2 h.
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 2.0)
        self.assertEqual(self.day(self.adele, TUESDAY).busy_hours, 8.0, "all-day = working hours")
        # Every covered user gets a row for every day of the window (7 back, 90 ahead).
        for user in self.adele | self.alex | self.megan:
            self.assertEqual(self.Day.search_count([("user_id", "=", user.id)]), 98)
        self.assertEqual(self.day(self.alex, MONDAY).capacity_hours, 8.0)

    def test_series_occurrences_and_long_calendars_are_read_completely(self):
        self.event(
            "Alex Wilber",
            MONDAY,
            9,
            9.5,
            recurrence={
                "pattern": {"type": "daily", "interval": 1},
                "range": {
                    "type": "numbered",
                    "startDate": MONDAY.isoformat(),
                    "numberOfOccurrences": 5,
                },
            },
        )
        # 130 appointments: more than one page of 100.
        for n in range(130):
            day = MONDAY + timedelta(days=7 + n // 8)
            self.event("Megan Bowen", day, 8 + n % 8, 8.5 + n % 8)
        run = self.import_busy()
        self.assertEqual(run.created, 135)
        occurrences = self.slots(self.alex)
        self.assertEqual(len(occurrences), 5)
        self.assertEqual(set(occurrences.mapped("event_type")), {"occurrence"})
        self.assertEqual(len(set(occurrences.mapped("event_id"))), 5)
        self.assertEqual(len(self.slots(self.megan)), 130)
        self.assertEqual(self.day(self.alex, MONDAY + timedelta(days=4)).busy_hours, 0.5)
        self.assertGreaterEqual(
            self.sandbox.log.count(r"/calendarView$", mailbox=self.graph_id["Megan Bowen"]), 2
        )

    def test_privacy_nothing_but_busy_time_is_requested_or_stored(self):
        self.event(
            "Adele Vance",
            MONDAY,
            10,
            11,
            body={"contentType": "text", "content": "Bonus numbers inside"},
            location={"displayName": "CEO office"},
            attendees=[{"emailAddress": {"address": "bob@contoso.example"}, "type": "required"}],
        )
        self.import_busy()
        views = self.sandbox.log.filter(r"/calendarView$")
        self.assertEqual(len(views), 3)
        for record in views:
            self.assertTrue(record.in_batch)
            self.assertEqual(record.query["$select"].split(","), list(BUSY_SELECT))
            self.assertIn('outlook.timezone="UTC"', record.headers["Prefer"])
        others = {
            r.path
            for r in self.sandbox.log
            if r.path.startswith("/v1.0") and not r.path.endswith("/calendarView")
        }
        self.assertEqual(others, {"/v1.0/users", "/v1.0/$batch"})
        # No column for what must not be stored, and none of it in any row.
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'm365_busy_slot'"
        )
        columns = {name for (name,) in self.env.cr.fetchall()}
        self.assertEqual(
            columns,
            {
                "id",
                "company_id",
                "user_id",
                "event_id",
                "start",
                "stop",
                "all_day",
                "duration",
                "show_as",
                "categories",
                "sensitivity",
                "event_type",
                "is_busy",
                "ignored",
                "counted",
                "create_uid",
                "create_date",
                "write_uid",
                "write_date",
            },
        )
        self.env.cr.execute("SELECT row_to_json(s)::text FROM m365_busy_slot s")
        dump = " ".join(text for (text,) in self.env.cr.fetchall())
        self.assertIn("busy", dump)
        for secret in (SECRET_SUBJECT, "Bonus", "CEO office", "bob@contoso"):
            self.assertNotIn(secret, dump)

    def test_second_run_without_change_writes_nothing_then_reconciles_changes(self):
        keep = self.event("Adele Vance", MONDAY, 9, 10)
        move = self.event("Adele Vance", MONDAY, 11, 12)
        gone = self.event("Alex Wilber", MONDAY, 13, 14)
        self.import_busy()
        # Make any later write visible: write_date far in the past.
        self.env.cr.execute("UPDATE m365_busy_slot SET write_date = '2000-01-01'")
        self.env.cr.execute("UPDATE m365_workload_day SET write_date = '2000-01-01'")
        self.env.invalidate_all()
        slot_ids, day_ids = set(self.Slot.search([]).ids), set(self.Day.search([]).ids)

        again = self.import_busy()
        self.assertEqual(
            (again.state, again.created, again.updated, again.deleted, again.skipped),
            ("done", 0, 0, 0, 0),
        )
        self.assertIn("Workload days written: 0", again.message)
        self.env.invalidate_all()
        self.assertEqual(set(self.Slot.search([]).ids), slot_ids)
        self.assertEqual(set(self.Day.search([]).ids), day_ids)
        self.assertEqual(set(self.Slot.search([]).mapped("write_date")), {_old()})
        self.assertEqual(set(self.Day.search([]).mapped("write_date")), {_old()})

        upn = self.upn["Adele Vance"]
        self.sandbox.state.update_event(
            upn, move["id"], start=busy_common._at(MONDAY, 14), end=busy_common._at(MONDAY, 16)
        )
        self.sandbox.state.delete_event(self.upn["Alex Wilber"], gone["id"])
        self.event("Megan Bowen", WEDNESDAY, 9, 12)
        third = self.import_busy()
        self.assertEqual((third.created, third.updated, third.deleted), (1, 1, 1))
        self.env.invalidate_all()
        moved = self.Slot.search([("event_id", "=", move["id"])])
        self.assertEqual(moved.start.hour, 12, "14:00 CEST")
        self.assertEqual(self.Slot.search([("event_id", "=", keep["id"])]).write_date, _old())
        self.assertFalse(self.Slot.search([("event_id", "=", gone["id"])]))
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 3.0)
        self.assertEqual(self.day(self.alex, MONDAY).busy_hours, 0.0)
        self.assertEqual(self.day(self.megan, WEDNESDAY).busy_hours, 3.0)
        # Only the touched days were written.
        changed = self.Day.search([("write_date", "!=", _old())])
        self.assertEqual(
            {(d.user_id, d.date) for d in changed},
            {(self.adele, MONDAY), (self.alex, MONDAY), (self.megan, WEDNESDAY)},
        )

    def test_one_mailbox_failing_does_not_stop_the_others(self):
        isaiah = self._user("isaiah", "Isaiah Langer")  # no mailbox: 404
        self.event("Megan Bowen", MONDAY, 9, 10)
        self.event("Adele Vance", MONDAY, 9, 10)
        self.import_busy()
        self.assertEqual(len(self.slots(self.megan)), 1)
        # Megan's mailbox now refuses the app (403): her stored slots stay.
        self.sandbox.faults.add(
            status=403,
            code="ErrorAccessDenied",
            path=rf"/users/{self.graph_id['Megan Bowen']}/calendarView",
            in_batch=True,
            times=None,
        )
        self.event("Adele Vance", MONDAY, 11, 12)
        run = self.import_busy()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.created, 1, "Adele's new appointment")
        self.assertEqual(run.skipped, 2)
        self.assertIn("Isaiah Langer", run.skipped_details)
        self.assertIn("Megan Bowen", run.skipped_details)
        self.assertIn("stored busy time kept", run.skipped_details)
        self.assertIn("2 could not be read", run.message)
        self.assertEqual(len(self.slots(self.megan)), 1, "kept")
        self.assertEqual(self.day(self.megan, MONDAY).busy_hours, 1.0)
        self.assertFalse(self.slots(isaiah))

    def test_bad_items_are_skipped_counted_and_never_break_the_totals(self):
        state, upn = self.sandbox.state, self.upn["Adele Vance"]
        good = self.event("Adele Vance", MONDAY, 9, 10)
        odd_categories = self.event(
            "Adele Vance", MONDAY, 12, 13, categories=["  LUNCH   break ", "lunch break"]
        )
        bad = {
            "end before start": self.event("Adele Vance", MONDAY, 13, 14),
            "zero length": self.event("Adele Vance", MONDAY, 14, 15),
            "no start": self.event("Adele Vance", MONDAY, 15, 16),
            "too long": self.event("Adele Vance", TUESDAY, 9, 10),
            "unknown showAs": self.event("Adele Vance", WEDNESDAY, 9, 10),
            "graph unknown": self.event("Adele Vance", WEDNESDAY, 10, 11),
            "all-day off midnight": self.all_day("Adele Vance", WEDNESDAY),
        }
        at = "2026-03-30T{}:00:00.0000000"
        state.override_event_json(
            upn, bad["end before start"]["id"], end={"dateTime": at.format("10"), "timeZone": "UTC"}
        )
        state.override_event_json(
            upn, bad["zero length"]["id"], end={"dateTime": at.format("12"), "timeZone": "UTC"}
        )
        state.override_event_json(upn, bad["no start"]["id"], start=None)
        state.override_event_json(
            upn,
            bad["too long"]["id"],
            end={"dateTime": "2026-04-20T08:00:00.0000000", "timeZone": "UTC"},
        )
        state.override_event_json(upn, bad["unknown showAs"]["id"], showAs="maybe")
        state.override_event_json(upn, bad["graph unknown"]["id"], showAs="unknown")
        state.override_event_json(
            upn,
            bad["all-day off midnight"]["id"],
            start={"dateTime": "2026-03-31T22:00:00.0000000", "timeZone": "UTC"},
            end={"dateTime": "2026-04-01T22:00:00.0000000", "timeZone": "UTC"},
        )
        run = self.import_busy()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.skipped, 7, run.skipped_details)
        self.assertIn("1 appointments had categories with extra spaces", run.message)
        self.assertEqual(run.created, 2)
        details = run.skipped_details
        for reason in (
            "ends before it starts",
            "ends at or before its start",
            "has no 'start'",
            "more than the 14 days",
            "unknown availability (showAs 'maybe')",
            "unknown availability (showAs 'unknown')",
            "does not run from midnight to midnight",
        ):
            self.assertIn(reason, details)
        slots = self.slots(self.adele)
        self.assertEqual(set(slots.mapped("event_id")), {good["id"], odd_categories["id"]})
        self.assertEqual(
            slots.filtered(lambda s: s.event_id == odd_categories["id"]).categories, "LUNCH break"
        )
        # Hand-computed: 09-10 and 12-13 on Monday; nothing on Tuesday or Wednesday.
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 2.0)
        self.assertEqual(self.day(self.adele, TUESDAY).busy_hours, 0.0)
        self.assertEqual(self.day(self.adele, WEDNESDAY).busy_hours, 0.0)

    def test_interrupted_run_resumes_where_it_stopped(self):
        for name in ("Adele Vance", "Alex Wilber", "Megan Bowen"):
            self.event(name, MONDAY, 9, 10)
        self.patch(m365_busy_slot, "CHUNK_SIZE", 1)
        calls = []

        def out_of_time(_self, processed=0, *, remaining=None, deactivate=False):
            calls.append(processed)
            return 0.0 if processed else float("inf")

        self.patch(type(self.env["ir.cron"]), "_commit_progress", out_of_time)
        first = self.import_busy()
        self.assertEqual(first.state, "running", "stopped after one chunk: out of time")
        self.assertEqual(first.resume_state["after"], self.adele.id)
        self.assertEqual(len(self.Slot.search([])), 1)

        # The cron comes back: the same run resumes with the two other mailboxes.
        self.patch(type(self.env["ir.cron"]), "_commit_progress", busy_common._no_commit)
        self.Job._m365_cron()
        self.assertEqual(first.state, "done", first.message)
        self.assertFalse(first.resume_state)
        self.assertEqual(first.created, 3)
        self.assertIn("3 calendars read", first.message)
        self.assertEqual(self.Run.search_count([("kind", "=", "busy")]), 1)
        self.assertEqual(len(self.Slot.search([])), 3)
        per_mailbox = [
            self.sandbox.log.count(r"/calendarView$", mailbox=self.graph_id[name])
            for name in ("Adele Vance", "Alex Wilber", "Megan Bowen")
        ]
        self.assertEqual(per_mailbox, [1, 1, 1], "no mailbox read twice")

    def test_excluded_and_unmatched_users_are_not_read(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        self.event("Alex Wilber", MONDAY, 9, 10)
        self._user("stranger", "Not In Tenant")
        self.import_busy()
        self.assertEqual(self.sandbox.log.count(r"/calendarView$"), 3)
        self.alex.m365_busy_exclude = True
        self.assertFalse(self.slots(self.alex), "excluding deletes the imported busy time")
        self.env.cr.flush()
        self.assertFalse(self.Day.search([("user_id", "=", self.alex.id)]), "nor free days")
        self.sandbox.log.clear()
        self.import_busy()
        self.assertEqual(self.sandbox.log.count(r"/calendarView$"), 2)
        self.assertEqual(
            self.sandbox.log.count(r"/calendarView$", mailbox=self.graph_id["Alex Wilber"]), 0
        )
        # A user who leaves (archived) loses the imported busy time at the next run.
        self.adele.active = False
        run = self.import_busy()
        self.assertEqual(run.deleted, 1)
        self.assertFalse(self.Slot.search([("user_id", "=", self.adele.id)]))

    def test_without_directory_permission_mailboxes_are_addressed_by_upn(self):
        self.sandbox.state.set_app_roles(["Calendars.ReadBasic.All"])
        self.event("Adele Vance", MONDAY, 9, 10, categories=["Customer"])
        run = self.import_busy()
        self.assertEqual(run.state, "done", run.message)
        self.assertIn("User.ReadBasic.All", run.message)
        slot = self.slots(self.adele)
        self.assertEqual(slot.categories, "Customer", "ReadBasic still returns categories")
        self.assertEqual(self.sandbox.log.count(r"/v1.0/users$"), 1, "one refused directory read")

    def test_failure_of_the_whole_run_is_recorded_in_plain_words(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        self.import_busy()
        self.tenant.sudo().client_secret = "wrong"
        self.event("Adele Vance", MONDAY, 11, 12)
        run = self.import_busy()
        self.assertEqual(run.state, "failed")
        self.assertIn("secret", run.message.lower())
        self.assertFalse(run.resume_state)
        self.assertEqual(len(self.slots(self.adele)), 1, "nothing changed")
        action = self.tenant.action_m365_sync_busy_now()
        self.assertEqual(action["tag"], "display_notification", "no error dialog")
        self.assertIn("started in the background", action["params"]["message"])
        self.Job._m365_cron()  # the worker the button triggered
        last = self.Run.search([("kind", "=", "busy")], limit=1)
        self.assertNotEqual(last, run)
        self.assertEqual(last.state, "failed", "the button's failure is logged as a run")
        self.assertIn("secret", last.message.lower())

    def test_slot_name_in_the_readers_time_zone(self):
        self.event("Adele Vance", MONDAY, 9.5, 10)
        self.import_busy()
        slot = self.slots(self.adele)
        utc_hour = slot.start.strftime("%H:%M")
        self.assertNotEqual(utc_hour, "09:30", "stored in UTC")
        name = slot.with_context(tz="Europe/Berlin").display_name
        self.assertTrue(name.startswith("Adele Vance, "), name)
        self.assertIn("09:30", name, "the hour the Start field shows")
        self.assertNotIn(utc_hour, name, "not UTC")

    def test_cron_follows_the_switch_and_the_interval(self):
        self.tenant.busy_sync = False
        self.Job._m365_cron()
        self.assertFalse(self.Run.search([("kind", "=", "busy")]))
        self.tenant.busy_sync = True
        self.Job._m365_cron()
        self.assertEqual(self.Run.search_count([("kind", "=", "busy")]), 1)
        self.Job._m365_cron()
        self.assertEqual(self.Run.search_count([("kind", "=", "busy")]), 1, "not due yet")
        run = self.Run.search([("kind", "=", "busy")])
        run.start -= timedelta(minutes=self.tenant.busy_interval_minutes)
        self.Job._m365_cron()
        self.assertEqual(self.Run.search_count([("kind", "=", "busy")]), 2)

    def test_sync_now_button(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        self.import_busy()
        self.event("Adele Vance", MONDAY, 11, 12)
        self.sandbox.log.clear()
        cron = self.env.ref("m365_sync.ir_cron_m365_busy")
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        self.assertFalse(self.Job._m365_units(), "the interval has not passed")
        action = self.tenant.action_m365_sync_busy_now()
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("started in the background", action["params"]["message"])
        self.assertIn("%s", action["params"]["message"], "the link to the sync runs")
        self.assertEqual(
            action["params"]["links"][0]["url"],
            f"/odoo/action-{self.env.ref('m365_sync.action_m365_sync_run').id}",
        )
        self.assertFalse(
            [r for r in self.sandbox.log if "/oauth2/" not in r.path], "answered without Graph"
        )
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertTrue(self.Job._m365_units(), "the button made the shards due")
        self.Job._m365_cron()  # the worker the button triggered
        run = self.Run.search([("kind", "=", "busy")], limit=1)
        self.assertEqual(run.state, "done")
        self.assertIn("Busy slots: 1 new", run.message)
        self.assertFalse(self.Job._m365_units(), "due once per press")
        self.patch(type(self.Job), "_m365_try_lock", lambda _self, _lock: False)
        action = self.tenant.action_m365_sync_busy_now()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("being imported right now", action["params"]["message"])
        self.assertIsNone(self.Job._m365_import_busy(self.tenant), "the cron just skips")
        self.tenant.busy_sync = False
        with self.assertRaisesRegex(UserError, "Switch on"):
            self.tenant.action_m365_sync_busy_now()


def _old():
    return datetime(2000, 1, 1)
