"""The units of work as queue_job jobs: queued once, on their channel, Graph's waits
as retries, the app-wide cap, and the same rows as the cron's inline run."""

import json
from datetime import timedelta
from unittest.mock import patch

from odoo.addons.m365_sync.tests.busy_common import MONDAY, BusyCase
from odoo.addons.m365_sync.tests.test_jobs import OtherWorker
from odoo.addons.m365_sync_queue.models import m365_job
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.tests import tagged
from odoo.tools import SQL

from m365_graph.core.errors import GraphUnavailable, Throttled, Transient


@tagged("post_install", "-at_install")
class TestQueue(BusyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("m365_sync.busy_shards", "3")
        cls.Job = cls.env["m365.job.busy"]

    def _calendars(self):
        self.event("Adele Vance", MONDAY, 10, 11, showAs="busy")
        self.event("Adele Vance", MONDAY, 14, 15, showAs="tentative")
        self.event("Alex Wilber", MONDAY, 9, 12, showAs="oof")
        self.event("Megan Bowen", MONDAY, 13, 17, showAs="busy")
        self.all_day("Megan Bowen", MONDAY + timedelta(days=1))

    def _rows(self):
        self.env.flush_all()
        slots = sorted(
            (s.user_id.id, s.event_id, s.start, s.stop, s.show_as, s.all_day)
            for s in self.Slot.search([])
        )
        days = sorted(
            (d.user_id.id, d.date, d.capacity_hours, d.busy_hours, d.free_hours)
            for d in self.Day.search([])
        )
        return slots, days

    def test_cron_queues_each_shard_once_on_the_busy_channel(self):
        self._calendars()
        with trap_jobs() as trap:
            self.Job._m365_cron()
            trap.assert_jobs_count(3, only=self.Job._m365_queue_run)
            jobs = sorted(trap.enqueued_jobs, key=lambda job: job.args[0]["shard"])
        covered = set()
        for shard, job in enumerate(jobs):
            unit = job.args[0]
            self.assertEqual(
                {key: unit[key] for key in ("tenant", "shard", "of")},
                {"tenant": self.tenant.id, "shard": shard, "of": 3},
            )
            self.assertEqual(job.channel, "root.m365.busy")
            self.assertEqual(
                job.identity_key, f"m365:m365.job.busy:busy:{self.tenant.id}:{shard}/3"
            )
            self.assertEqual(job.max_retries, m365_job.MAX_RETRIES)
            # The cycle's one directory read, handed to each shard (JSON in the queue).
            self.assertEqual(json.loads(json.dumps(unit)), unit)
            self.assertTrue(all(uid % 3 == shard for uid, _box in unit["mailboxes"]))
            covered |= {uid for uid, _box in unit["mailboxes"]}
        self.assertGreaterEqual(len(covered), 3)

    def test_the_button_queues_the_shards_and_answers_at_once(self):
        self.sandbox.log.clear()
        with trap_jobs() as trap:
            action = self.tenant.action_m365_sync_busy_now()
            trap.assert_jobs_count(3, only=self.Job._m365_queue_run)
        self.assertIn("started in the background", action["params"]["message"])
        self.assertFalse(self.env["m365.sync.run"].search([("kind", "=", "busy")]), "no run yet")
        self.assertFalse([r for r in self.sandbox.log if "calendarView" in r.path])

    def test_a_unit_whose_mailbox_is_in_use_goes_back_to_the_queue(self):
        """A pull or an outbox batch of the same mailbox (another server) holds the
        mailbox's lock: the job is tried again a few seconds later, no try spent."""
        unit = {"tenant": self.tenant.id, "shard": 0, "of": 3}
        mailbox = (self.tenant.id, "adele-graph-id")
        Job = type(self.Job)
        with (
            patch.object(Job, "_m365_unit_mailbox", return_value=mailbox),
            OtherWorker(self.env.cr.dbname, self.Job._m365_mailbox_lock(*mailbox)),
            self.assertRaises(RetryableJobError) as caught,
        ):
            self.Job._m365_queue_run(unit)
        self.assertEqual(caught.exception.seconds, m365_job.MAILBOX_WAIT)
        self.assertTrue(caught.exception.ignore_retry)
        self.assertIn("mailbox", str(caught.exception))
        self.assertFalse(self.env["m365.sync.run"].search([("kind", "=", "busy")]))
        # From the cron (no job), the unit is only left for the cron's next call.
        with (
            patch.object(Job, "_m365_unit_mailbox", return_value=mailbox),
            OtherWorker(self.env.cr.dbname, self.Job._m365_mailbox_lock(*mailbox)),
        ):
            self.assertIsNone(self.Job._m365_run_unit(unit, due_only=False))

    def test_a_unit_waiting_or_running_is_not_queued_again(self):
        Queue = self.env["queue.job"]
        self.Job._m365_cron()
        jobs = Queue.search([("channel", "=", "root.m365.busy")])
        self.assertEqual(len(jobs), 3)
        self.assertEqual(len(set(jobs.mapped("identity_key"))), 3)
        self.Job._m365_cron()
        self.assertEqual(Queue.search_count([("channel", "=", "root.m365.busy")]), 3)
        # queue_job's own check only sees waiting jobs; a started one counts too.
        jobs[0].write({"state": "started"})
        self.Job._m365_cron()
        self.assertEqual(Queue.search_count([("channel", "=", "root.m365.busy")]), 3)
        # Done: the next due round queues it again.
        jobs.write({"state": "done"})
        self.Job._m365_cron()
        self.assertEqual(Queue.search_count([("channel", "=", "root.m365.busy")]), 6)

    def test_job_functions_allow_commit_on_their_kind_channel(self):
        Function = self.env["queue.job.function"]
        names = self.env["m365.job"]._m365_queue_job_models()
        self.assertIn("m365.job.busy", names)
        for name in names:
            function = Function.search(
                [("name", "=", Function.job_function_name(name, "_m365_queue_run"))]
            )
            self.assertEqual(len(function), 1, name)
            self.assertTrue(function.allow_commit, name)
            self.assertEqual(function.channel, self.env[name]._m365_queue_channel())
        self.assertEqual(self.Job._m365_queue_channel(), "root.m365.busy")
        self.assertEqual(self.env["m365.job.contacts"]._m365_queue_channel(), "root.m365.contacts")

    def test_every_job_model_has_the_channel_of_its_kind(self):
        """m365_sync's jobs, and m365_sync_hr's when it is installed (this suite also
        runs without it): each on its own channel under root.m365, none on the root."""
        expected = {
            "m365.job.contacts": "root.m365.contacts",
            "m365.job.busy": "root.m365.busy",
            # The notified users of a shard take the shard's lock: the shard's channel.
            "m365.job.busy.notified": "root.m365.busy",
            "m365.job.personal": "root.m365.personal",
            "m365.job.outbox": "root.m365.outbox",
            "m365.job.mirror": "root.m365.mirror",
            "m365.job.rooms": "root.m365.rooms",
            "m365.job.subscription": "root.m365.subscriptions",
            "m365.job.absences": "root.m365.absences",
            "m365.job.work_location": "root.m365.work_location",
            "m365.job.auto_replies": "root.m365.auto_replies",
        }
        installed = {name: channel for name, channel in expected.items() if name in self.env}
        names = self.env["m365.job"]._m365_queue_job_models()
        self.assertEqual(set(names), set(installed), "every job model is known here")
        Function = self.env["queue.job.function"]
        for name, channel in installed.items():
            self.assertEqual(self.env[name]._m365_queue_channel(), channel, name)
            function = Function.search(
                [("name", "=", Function.job_function_name(name, "_m365_queue_run"))]
            )
            self.assertEqual(function.channel, channel, name)
        line = self.env["m365.job"]._m365_queue_channels_config(8)
        self.assertEqual(line, "root:10,root.m365:8,root.m365.contacts:1,root.m365.rooms:1")

    def test_a_notified_room_is_queued_on_the_rooms_channel(self):
        """A notification of a room calendar queues that room's unit, once."""
        self.tenant.room_sync = True
        room = (
            self.env["m365.room"]
            .sudo()
            .create({"tenant_id": self.tenant.id, "name": "Rainier", "email": "rainier@x.test"})
        )
        row = (
            self.env["m365.subscription"]
            .sudo()
            .create(
                {
                    "tenant_id": self.tenant.id,
                    "kind": "room",
                    "room_id": room.id,
                    "mailbox": room.email,
                    "state": "active",
                    "pending": True,
                }
            )
        )
        Rooms = self.env["m365.job.rooms"]
        with trap_jobs() as trap:
            self.env["m365.job.subscription"]._m365_dispatch_notifications()
            trap.assert_jobs_count(1, only=Rooms._m365_queue_run)
            [job] = trap.enqueued_jobs
        self.assertEqual(job.args[0], {"room": room.id})
        self.assertEqual(job.channel, "root.m365.rooms")
        self.assertEqual(job.identity_key, f"m365:m365.job.rooms:rooms:room:{room.id}")
        self.assertTrue(room.sync_requested)
        self.assertFalse(row.pending)
        # The room cron lists the room while its request stands (the job may have
        # found the tenant's room lock held).
        self.assertIn({"room": room.id}, Rooms._m365_units(due_only=True))

    def test_graph_throttling_and_outages_are_retried_after_graphs_wait(self):
        unit = {"tenant": self.tenant.id, "shard": 0, "of": 3}
        cases = [
            (Throttled("429", retry_after=7), 7),
            (Transient("503", retry_after=20), 20),
            (Transient("503"), m365_job.TRANSIENT_WAIT),
            (GraphUnavailable("circuit open"), m365_job.TRANSIENT_WAIT),
            (Throttled("429"), m365_job.THROTTLED_WAIT),
        ]
        for error, wait in cases:
            with (
                self.subTest(error=type(error).__name__, wait=wait),
                patch.object(type(self.Job), "_m365_run_unit", side_effect=error),
                self.assertRaises(RetryableJobError) as caught,
            ):
                self.Job._m365_queue_run(unit)
            if error.retry_after is None:
                self.assertEqual(caught.exception.seconds, wait)
            else:
                self.assertGreaterEqual(caught.exception.seconds, wait)
                self.assertLessEqual(caught.exception.seconds, wait + 2)
            self.assertFalse(caught.exception.ignore_retry)
        # Any other failure is the run's (recorded there): the job ends.
        with patch.object(type(self.Job), "_m365_run_unit", side_effect=ValueError("boom")):
            self.assertIn("failed: boom", self.Job._m365_queue_run(unit))
        # Switched off since it was queued: the unit does not run.
        self.tenant.busy_sync = False
        with patch.object(type(self.Job), "_m365_run_unit") as run_unit:
            self.assertIn("switched off", self.Job._m365_queue_run(unit))
        run_unit.assert_not_called()

    def test_busy_time_stopped_by_the_circuit_breaker_is_retried_and_resumes(self):
        unit = {"tenant": self.tenant.id, "shard": 0, "of": 3}
        run = self.env["m365.sync.run"]._m365_start("busy", tenant=self.tenant)
        run.resume_state = {"day": "2026-03-25", "after": 0, "unavailable": True}
        run._m365_fail("Failed — Microsoft Graph unavailable")
        with (
            patch.object(type(self.Job), "_m365_run_unit", return_value=run),
            self.assertRaises(RetryableJobError) as caught,
        ):
            self.Job._m365_queue_run(unit)
        self.assertEqual(caught.exception.seconds, m365_job.TRANSIENT_WAIT)

    def test_the_app_wide_cap_holds_over_all_servers(self):
        self.env["ir.config_parameter"].sudo().set_param(m365_job.CAPACITY_PARAM, "1")
        with self.env.registry.cursor() as other_server:
            other_server.execute(
                SQL("SELECT pg_advisory_xact_lock(%s, 0)", m365_job.CAP_LOCK_NAMESPACE)
            )
            with self.assertRaises(RetryableJobError) as caught, self.Job._m365_queue_slot():
                pass
            self.assertTrue(caught.exception.ignore_retry, "waiting for a slot spends no try")
        with self.Job._m365_queue_slot() as slot:
            self.assertEqual(slot, 0)
        self.env["ir.config_parameter"].sudo().set_param(m365_job.CAPACITY_PARAM, "0")
        with self.Job._m365_queue_slot() as slot:
            self.assertIsNone(slot, "0: no cap")
        settings = self.env["res.config.settings"].create({"m365_queue_capacity": 6})
        self.assertIn("root.m365:6", settings.m365_queue_channels)

    def test_jobs_write_the_same_rows_as_the_cron(self):
        self._calendars()
        self.Job.with_context(m365_queue_inline=True)._m365_cron()
        inline = self._rows()
        self.assertEqual(len(inline[0]), 5)
        self.assertTrue(inline[1])
        self.Slot.search([]).unlink()
        self.Day.search([]).unlink()
        self.env["m365.sync.run"].search([("kind", "=", "busy")]).unlink()

        # allow_commit jobs run on a cursor of their own: the test's, here (and
        # without the cap's own cursor: test_the_app_wide_cap_holds_over_all_servers).
        self.registry_enter_test_mode()
        self.env["ir.config_parameter"].sudo().set_param(m365_job.CAPACITY_PARAM, "0")
        with trap_jobs() as trap:
            self.Job._m365_cron()
            trap.assert_jobs_count(3, only=self.Job._m365_queue_run)
            trap.perform_enqueued_jobs()
        self.env.invalidate_all()
        self.assertEqual(self._rows(), inline)
        runs = self.env["m365.sync.run"].search([("kind", "=", "busy")])
        self.assertEqual(len(runs), 3, "one sync run per shard")
        self.assertEqual(set(runs.mapped("state")), {"done"})
        self.assertEqual(
            sorted(runs.mapped("unit_key")),
            [f"busy:{self.tenant.id}:{k}/3" for k in range(3)],
        )
        self.assertEqual(sum(runs.mapped("created")), len(inline[0]))

    def test_the_outbox_cron_does_not_re_trigger_itself_while_its_units_wait(self):
        Outbox = self.env["m365.outbox"]
        cron = self.env.ref("m365_sync.ir_cron_m365_outbox")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        # An outbox unit waiting in the queue.
        self.env["m365.job.outbox"].with_delay(channel="root.m365.outbox")._m365_queue_run(
            {"writer": "app", "tenant": self.tenant.id, "mailbox": "x", "batch": 0, "ids": []}
        )
        Outbox.with_context(m365_queue_outbox_cron=True)._m365_trigger()
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers
        )
        # A user's change still wakes the drain.
        Outbox._m365_trigger()
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1
        )
