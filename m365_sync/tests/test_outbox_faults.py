from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo.tests import tagged

from ..models import m365_outbox
from .common import ADELE, M365SandboxCase
from .outbox_common import OutboxMixin, day

BATCH = r"/\$batch$"
UTC = timezone.utc


@tagged("post_install", "-at_install")
class TestOutboxFaults(OutboxMixin, M365SandboxCase):
    def many(self, count):
        return (
            self.env["calendar.event"]
            .with_user(self.user)
            .create(
                [
                    {
                        "name": f"Event {i}",
                        "start": day(2, 8) + timedelta(minutes=15 * i),
                        "stop": day(2, 8) + timedelta(minutes=15 * i + 10),
                    }
                    for i in range(count)
                ]
            )
        )

    def assert_one_remote_per_event(self, events):
        remote = self.outlook()
        self.assertEqual(len(remote), len(events), "exactly one Outlook event per appointment")
        self.assertEqual(sorted(r["subject"] for r in remote), sorted(events.mapped("name")))
        links = self.env["m365.event.link"]._m365_links_of(events, self.account)
        self.assertEqual(len(links), len(events))
        self.assertEqual(set(links.mapped("graph_event_id")), {r["id"] for r in remote})

    # -- lost answers ----------------------------------------------------------------

    def test_a_batch_applied_then_dropped_is_not_doubled(self):
        events = self.many(25)
        self.sandbox.faults.add(kind="drop_after", path=BATCH, status=200, times=1)
        run = self.drain()
        self.assertEqual(run.created, 25)
        self.assert_one_remote_per_event(events)
        self.assertFalse(self.queued())

    def test_answers_lost_for_longer_than_a_drain_are_not_doubled_either(self):
        events = self.many(5)
        # Every attempt of this drain is applied by Graph and its answer lost.
        fault = self.sandbox.faults.add(kind="drop_after", path=BATCH, status=200, times=None)
        run = self.drain()
        self.assertEqual(run.created, 0)
        items = self.queued()
        self.assertEqual(set(items.mapped("attempts")), {1})
        self.assertIn("dropped", items[0].last_error)
        self.assertEqual(len(self.outlook()), 5, "Graph did create them")
        fault.cancel()
        self.make_due()
        run = self.drain()
        self.assertEqual(run.created, 5)
        self.assert_one_remote_per_event(events)

    # -- throttling and outages ---------------------------------------------------------

    def test_a_429_storm_backs_off_and_loses_nothing(self):
        events = self.many(6)
        storm = self.sandbox.faults.add(
            status=429, path=r"/events$", in_batch=True, times=None, retry_after=0.05
        )
        run = self.drain()
        self.assertGreater(run.throttled, 0)
        items = self.queued()
        self.assertEqual(len(items), 6)
        self.assertEqual(set(items.mapped("state")), {"pending"})
        self.assertTrue(all(i.next_attempt > datetime.now() for i in items), "backed off")
        self.assertIn("throttling", items[0].last_error)
        storm.cancel()
        self.drain()
        self.assertEqual(len(self.queued()), 6, "nothing is sent before the back-off ends")
        self.make_due()
        self.drain()
        self.assert_one_remote_per_event(events)

    def test_graph_down_for_a_while_then_back(self):
        events = self.many(3)
        outage = self.sandbox.faults.add(status=503, path=BATCH, times=None)
        waits = []
        for _ in range(4):
            self.make_due()
            self.drain()
            item = self.queued()[:1]
            waits.append(item.next_attempt - item.last_attempt)
        self.assertEqual(set(self.queued().mapped("attempts")), {4})
        self.assertEqual(waits, sorted(waits), "each failure waits longer")
        self.assertGreater(waits[-1], waits[0])
        self.assertEqual(set(self.queued().mapped("state")), {"pending"})
        outage.cancel()
        self.make_due()
        self.drain()
        self.assert_one_remote_per_event(events)

    def test_after_the_retry_budget_the_change_fails_and_can_be_retried_by_hand(self):
        event = self.appointment("Stubborn")
        self.queued().write({"attempts": 13})
        outage = self.sandbox.faults.add(status=503, path=BATCH, times=None)
        self.drain()
        item = self.queued(event)
        self.assertEqual(item.state, "failed")
        self.assertIn("temporary failure", event.m365_push_error)
        self.assertIn("could not be sent to Outlook", self.user.m365_notice)
        self.assertEqual(self.account.outbox_failed_count, 1)
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "m365.account"), ("res_id", "=", self.account.id)])
        )
        self.assertEqual(mail.recipient_ids, self.user.partner_id)
        self.make_due()
        self.drain()
        self.assertEqual(item.state, "failed", "failed changes are not retried by the job")
        outage.cancel()
        item.with_user(self.user).action_retry()
        self.assertRecordValues(item, [{"state": "pending", "attempts": 0}])
        self.drain()
        self.assertFalse(item.exists())
        self.assertEqual([e["subject"] for e in self.outlook()], ["Stubborn"])

    def test_a_403_fails_at_once_naming_the_permission(self):
        event = self.appointment("Forbidden")
        self.sandbox.faults.add(
            status=403,
            path=r"/events$",
            in_batch=True,
            times=None,
            code="ErrorAccessDenied",
            message="Access is denied. Check credentials and try again.",
        )
        self.drain()
        item = self.queued(event)
        self.assertRecordValues(item, [{"state": "failed", "attempts": 1}])
        self.assertIn("Calendars.ReadWrite", item.last_error)
        self.assertFalse(self.outlook())

    def test_a_sign_in_to_renew_makes_the_changes_wait(self):
        event = self.appointment("Waits for the sign-in")
        self.sandbox.state.revoke_refresh_tokens(ADELE)
        self.sandbox.state.advance_clock(3700)
        self.drain()
        self.assertEqual(self.account.state, "reconnect")
        item = self.queued(event)
        self.assertRecordValues(item, [{"state": "pending", "attempts": 0}])
        self.assertIn("connect the account again", item.last_error)
        self.assertEqual(self.account.outbox_pending_count, 1)
        runs = self.env["m365.sync.run"].search_count([("kind", "=", "outbox")])
        self.drain()
        self.assertEqual(
            self.env["m365.sync.run"].search_count([("kind", "=", "outbox")]),
            runs,
            "rows of an account to reconnect are not even read",
        )
        result, oid = self.sign_in(self.account, ADELE)
        self.account._m365_store_connection(result, oid)
        self.assertEqual(self.account.state, "connected")
        self.drain()
        self.assertFalse(item.exists())
        self.assertEqual([e["subject"] for e in self.outlook()], ["Waits for the sign-in"])

    # -- 412: both sides changed ----------------------------------------------------------

    def test_conflict_odoo_changed_later_wins(self):
        event = self.appointment("Original")
        self.drain()
        link = self.link(event)
        self.sandbox.state.update_event(ADELE, link.graph_event_id, subject="Changed in Outlook")
        event.write({"name": "Changed in Odoo"})
        self.sandbox.log.clear()
        run = self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Changed in Odoo"])
        self.assertEqual(run.updated, 1)
        statuses = [r.status for r in self.sandbox.log if r.method == "PATCH"]
        self.assertEqual(statuses, [412, 200], "refused once, re-read, sent with the new key")
        self.assertEqual(self.link(event).change_key, self.outlook()[0]["changeKey"])

    def test_conflict_outlook_changed_later_wins(self):
        event = self.appointment("Original")
        self.drain()
        link = self.link(event)
        # The Odoo change was saved an hour ago (Graph was down); Outlook changed since.
        event.write({"name": "Changed in Odoo"})
        self.queued(event).write({"changed_at": datetime.now() - timedelta(hours=1)})
        self.sandbox.state.update_event(
            ADELE, link.graph_event_id, subject="Changed in Outlook", location={"displayName": "B"}
        )
        run = self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Changed in Outlook"])
        self.assertEqual(event.name, "Changed in Outlook", "Odoo takes Outlook's version")
        self.assertEqual(event.location, "B")
        self.assertIn("more recent", run.skipped_details)
        self.assertFalse(self.queued(), "and does not send it back")
        self.assertEqual(len(self.outlook()), 1, "never a duplicate")
        _outcome, pull = self.sync(self.account)
        self.assertRecordValues(pull, [{"created": 0, "updated": 0, "deleted": 0}])

    def test_conflict_compares_clocks_fairly(self):
        # Microsoft's clock runs 10 minutes ahead of Odoo's.
        self.sandbox.state.advance_clock(600)
        ahead = (self.sandbox.state.now() - datetime.now(UTC)).total_seconds()
        event = self.appointment("Original")
        self.drain()
        self.assertAlmostEqual(self.account.graph_clock_offset, ahead, delta=2)
        link = self.link(event)
        self.sandbox.state.update_event(ADELE, link.graph_event_id, subject="Outlook, earlier")
        event.write({"name": "Odoo, later"})
        self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Odoo, later"])

    def test_an_outlook_change_odoo_does_not_show_is_not_a_conflict(self):
        event = self.appointment("Original")
        self.drain()
        link = self.link(event)
        self.queued(event)  # nothing queued
        self.sandbox.state.update_event(ADELE, link.graph_event_id, isReminderOn=False)
        event.write({"name": "Renamed"})
        self.queued(event).write({"changed_at": datetime.now() - timedelta(hours=1)})
        self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Renamed"])

    def test_changed_in_odoo_after_being_deleted_in_outlook_is_created_again(self):
        event = self.appointment("Deleted in Outlook")
        self.drain()
        self.sandbox.state.delete_event(ADELE, self.link(event).graph_event_id)
        event.write({"name": "Still wanted"})
        self.drain()
        remote = self.outlook()
        self.assertEqual([e["subject"] for e in remote], ["Still wanted"])
        self.assertEqual(self.link(event).graph_event_id, remote[0]["id"])

    def test_an_unexpected_error_rolls_the_drain_back_and_spends_one_try(self):
        event = self.appointment("Unlucky")

        def broken(*_args, **_kwargs):
            raise RuntimeError("bug in the drain")

        with patch.object(m365_outbox, "push_operations", broken):
            run = self.drain()
        self.assertEqual(run.state, "failed")
        self.assertIn("bug in the drain", run.message)
        item = self.queued(event)
        self.assertRecordValues(item, [{"state": "pending", "attempts": 1}])
        self.assertGreater(item.next_attempt, datetime.now())
        self.make_due()
        self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Unlucky"])
