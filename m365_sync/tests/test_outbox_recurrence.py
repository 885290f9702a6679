from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from m365_graph import GraphClient

from .common import ADELE, M365SandboxCase
from .outbox_common import OutboxMixin, day

UTC = timezone.utc
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@tagged("post_install", "-at_install")
class TestOutboxRecurrence(OutboxMixin, M365SandboxCase):
    def series(self, name="Weekly sync", count=5, start=None, **values):
        start = start or day(7, 8)
        vals = {
            "name": name,
            "start": start,
            "stop": start + timedelta(hours=1),
            "recurrency": True,
            "rrule_type": "weekly",
            "interval": 1,
            "end_type": "count",
            "count": count,
            WEEKDAYS[start.weekday()]: True,
            "event_tz": "Europe/Brussels",
            **values,
        }
        first = self.env["calendar.event"].with_user(self.user).create(vals)
        return first.recurrence_id.calendar_event_ids.sorted("start")

    def masters(self):
        return [e for e in self.outlook() if e["type"] == "seriesMaster"]

    def instances(self, master):
        """Outlook's occurrences of a series (as calendarView would show them)."""
        state = self.sandbox.state
        low = datetime.now(UTC) - timedelta(days=2)
        with state.lock:
            stored, _key = state.find_event(ADELE, master["id"])
            return [
                stored.render(key)
                for key, _start, _end in stored.occurrences(low, low + timedelta(days=900))
            ]

    @contextmanager
    def hooks_without_graph(self):
        """Fail the test if a method of the outbox record protocol calls Graph."""
        hooks = (
            "_m365_plan",
            "_m365_needs_link",
            "_m365_link_values",
            "_m365_link_user",
            "_m365_after_push",
            "_m365_series_window",
            "_m365_link_occurrences",
            "_m365_apply_remote",
        )
        inside, called = [], []
        original_request = GraphClient.request

        def request(client, method, url, *args, **kwargs):
            if inside:
                called.append((inside[-1], method, url))
            return original_request(client, method, url, *args, **kwargs)

        def guarded(name, original):
            def method(records, *args, **kwargs):
                inside.append(f"{records._name}.{name}")
                try:
                    return original(records, *args, **kwargs)
                finally:
                    inside.pop()

            return method

        with ExitStack() as stack:
            stack.enter_context(patch.object(GraphClient, "request", request))
            for model in ("calendar.event", "calendar.recurrence"):
                cls = self.registry[model]
                for name in hooks:
                    if hasattr(cls, name):
                        stack.enter_context(
                            patch.object(cls, name, guarded(name, getattr(cls, name)))
                        )
            yield
        self.assertFalse(called, "no hook of the record protocol calls Microsoft Graph")

    def graph_requests(self):
        return [r for r in self.sandbox.log if "/oauth2/" not in r.path]

    def test_the_drain_reads_series_instances_after_its_pushes_in_batch(self):
        """Hooks never call Graph: the drain pushes, then reads the instances of the
        series in ``$batch``, then cancels what Odoo deleted and sends the occurrence
        rows that waited for their links."""
        events = self.series(count=4)
        # Deleted before the series reached Outlook: cancelled there by the drain.
        events[1].unlink()
        self.sandbox.log.clear()
        with self.hooks_without_graph():
            run = self.drain()
        self.assertEqual(run.created, 1)
        [master] = self.masters()
        self.assertEqual(len(self.instances(master)), 3)
        log = self.graph_requests()
        kinds = [
            "instances" if r.path.endswith("/instances") else r.method
            for r in log
            if not r.path.endswith("/$batch")
        ]
        reads = [i for i, kind in enumerate(kinds) if kind == "instances"]
        self.assertEqual(len(reads), 1, kinds)
        self.assertTrue(all(r.in_batch for r in log if r.path.endswith("/instances")))
        self.assertLess(kinds.index("POST"), reads[0], "instances read after the push")
        self.assertLess(reads[0], kinds.index("DELETE"), "cancel after the read")

        # An occurrence whose link is gone waits for the series to be linked again
        # (after the pushes, in the drain), then is written to its own occurrence.
        self.link(events[2]).unlink()
        events[2].write({"name": "Special edition", "recurrence_update": "self_only"})
        self.sandbox.log.clear()
        with self.hooks_without_graph():
            self.drain()
        kinds = [
            "instances" if r.path.endswith("/instances") else r.method
            for r in self.graph_requests()
            if not r.path.endswith("/$batch")
        ]
        self.assertEqual(kinds.count("instances"), 1, kinds)
        self.assertLess(kinds.index("instances"), kinds.index("PATCH"), kinds)
        special = {i["id"]: i for i in self.instances(master)}[self.link(events[2]).graph_event_id]
        self.assertEqual(special["subject"], "Special edition")
        self.assertFalse(self.writes("POST"), "no new event")

    def test_a_recurrence_is_one_outlook_series_linked_to_its_appointments(self):
        events = self.series(count=5)
        self.assertEqual(len(events), 5)
        self.assertEqual(len(self.queued()), 1, "one row: the series")
        run = self.drain()
        self.assertEqual(run.created, 1)
        [master] = self.outlook()
        self.assertEqual(master["type"], "seriesMaster")
        self.assertEqual(master["recurrence"]["pattern"]["type"], "weekly")
        self.assertEqual(master["recurrence"]["range"]["numberOfOccurrences"], 5)
        self.assertEqual(
            master["recurrence"]["range"]["recurrenceTimeZone"], "Romance Standard Time"
        )
        instances = self.instances(master)
        self.assertEqual(len(instances), 5)
        links = self.env["m365.event.link"]._m365_links_of(events, self.account)
        self.assertEqual(len(links), 5)
        self.assertEqual(set(links.mapped("graph_event_id")), {i["id"] for i in instances})
        self.assertEqual(set(links.mapped("series_master_id")), {master["id"]})
        # Same local hour for every occurrence, whatever daylight-saving does.
        self.assertEqual(len({i["start"]["dateTime"][11:16] for i in instances}), 1)
        # A pull right after the push recognises every occurrence.
        with self.assert_no_writes(*events, *links):
            _outcome, pull = self.sync(self.account)
        self.assertRecordValues(pull, [{"created": 0, "updated": 0, "deleted": 0}])
        self.assertEqual(len(self.events(self.account)), 5)

    def test_one_occurrence_edited_alone_is_a_changed_occurrence(self):
        events = self.series(count=4)
        self.drain()
        [master] = self.masters()
        self.sandbox.log.clear()
        events[1].write({"name": "Special edition", "recurrence_update": "self_only"})
        moved_start = events[2].start + timedelta(hours=2)
        events[2].write(
            {
                "start": fields.Datetime.to_string(moved_start),
                "stop": fields.Datetime.to_string(moved_start + timedelta(hours=1)),
                "recurrence_update": "self_only",
            }
        )
        self.assertEqual(len(self.queued()), 2)
        self.drain()
        self.assertEqual(len(self.outlook()), 1, "still one series")
        instances = {i["id"]: i for i in self.instances(master)}
        self.assertEqual(len(instances), 4)
        special = instances[self.link(events[1]).graph_event_id]
        self.assertEqual(special["subject"], "Special edition")
        self.assertEqual(special["type"], "exception")
        moved = instances[self.link(events[2]).graph_event_id]
        self.assertTrue(
            moved["start"]["dateTime"].startswith(moved_start.strftime("%Y-%m-%dT%H:%M"))
        )
        others = [instances[self.link(e).graph_event_id] for e in (events[0], events[3])]
        self.assertEqual({i["subject"] for i in others}, {"Weekly sync"})
        self.assertFalse(self.writes("POST"), "no new event")
        _outcome, pull = self.sync(self.account)
        self.assertRecordValues(pull, [{"created": 0, "deleted": 0}])

    def test_one_occurrence_deleted_alone_is_cancelled(self):
        events = self.series(count=4)
        self.drain()
        [master] = self.masters()
        events[1].unlink()
        self.drain()
        self.assertEqual(len(self.instances(master)), 3)
        self.assertEqual(len(self.outlook()), 1)

    def test_the_whole_series_is_updated_and_deleted(self):
        events = self.series(count=3)
        self.drain()
        [master] = self.masters()
        events[0].write({"name": "Renamed series", "recurrence_update": "all_events"})
        self.drain()
        self.assertEqual(len(self.masters()), 1)
        current = self.masters()[0]
        self.assertEqual({i["subject"] for i in self.instances(current)}, {"Renamed series"})
        self.assertEqual(len(self.instances(current)), 3)
        events = self.env["calendar.event"].search([("name", "=", "Renamed series")])
        events[0].action_mass_deletion("all_events")
        self.drain()
        self.assertFalse(self.outlook())
        self.assertFalse(master["id"] in [e["id"] for e in self.outlook()])

    def test_this_and_following_splits_the_series(self):
        events = self.series(count=5)
        self.drain()
        third = events[2]
        later = third.start + timedelta(hours=1)
        third.write(
            {
                "start": later,
                "stop": later + timedelta(hours=1),
                "recurrence_update": "future_events",
            }
        )
        self.drain()
        masters = self.masters()
        self.assertEqual(len(masters), 2)
        counts = sorted(len(self.instances(m)) for m in masters)
        self.assertEqual(counts, [2, 3])
        active = self.env["calendar.event"].search(
            [("recurrence_id", "!=", False), ("user_id", "=", self.user.id)]
        )
        self.assertEqual(len(active), 5)
        links = self.env["m365.event.link"]._m365_links_of(active, self.account)
        self.assertEqual(len(links), 5)
        _outcome, pull = self.sync(self.account)
        self.assertRecordValues(pull, [{"created": 0, "deleted": 0}])

    def test_recurrence_kinds_reach_outlook(self):
        start = day(10, 7)
        self.series("Daily", count=3, start=start, rrule_type="daily")
        self.series(
            "Monthly by weekday",
            start=start,
            rrule_type="monthly",
            month_by="day",
            byday="2",
            weekday=WEEKDAYS[start.weekday()].upper(),
            end_type="forever",
        )
        self.series(
            "Yearly until",
            start=start,
            rrule_type="yearly",
            end_type="end_date",
            until=(start + timedelta(days=800)).date(),
        )
        self.drain()
        kinds = {
            m["subject"]: (m["recurrence"]["pattern"]["type"], m["recurrence"]["range"]["type"])
            for m in self.masters()
        }
        self.assertEqual(
            kinds,
            {
                "Daily": ("daily", "numbered"),
                # Odoo stores "forever" as its own limit (15 years of months).
                "Monthly by weekday": ("relativeMonthly", "numbered"),
                "Yearly until": ("absoluteYearly", "endDate"),
            },
        )
        monthly = self.env["calendar.recurrence"].search([("name", "ilike", "second")])
        monthly.write({"end_type": "forever"})
        self.drain()
        master = next(m for m in self.masters() if m["subject"] == "Monthly by weekday")
        self.assertEqual(master["recurrence"]["range"]["type"], "noEnd")
        self.assertEqual(master["recurrence"]["pattern"]["index"], "second")
