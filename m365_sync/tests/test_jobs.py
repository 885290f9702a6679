"""The unit-of-work base (``m365.job``) against the faults a fault matrix showed.

Killed workers are simulated by a run row left "running" whose lock nobody holds;
a second worker by a second real database connection holding the unit's lock.
"""

import json

from odoo.exceptions import UserError
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import mute_logger

from m365_graph import build_payload
from m365_sandbox import Sandbox

from ..models.jobs import m365_job_busy, m365_job_contacts
from ..models.m365_account import LOCK_CLASS
from .busy_common import MONDAY, BusyCase
from .common import ADELE, M365SandboxCase, PersonalSyncMixin
from .outbox_common import OutboxMixin


class OtherWorker:
    """A second database connection holding a unit's advisory lock (another worker)."""

    def __init__(self, dbname, lock):
        self.lock = lock
        self.cr = db_connect(dbname).cursor()

    def __enter__(self):
        self.cr.execute("SELECT pg_advisory_lock(%s, %s)", list(self.lock))
        return self

    def __exit__(self, *exc):
        self.cr.execute("SELECT pg_advisory_unlock(%s, %s)", list(self.lock))
        self.cr.close()

    def can_lock(self):
        """Whether this connection could take the lock (nobody else holds it)."""
        self.cr.execute("SELECT pg_try_advisory_lock(%s, %s)", list(self.lock))
        return self.cr.fetchone()[0]


def free_elsewhere(dbname, lock):
    """True when a second connection can take ``lock`` at once (then releases it)."""
    worker = OtherWorker(dbname, lock)
    try:
        taken = worker.can_lock()
        if taken:
            worker.cr.execute("SELECT pg_advisory_unlock(%s, %s)", list(lock))
        return taken
    finally:
        worker.cr.close()


class StreakMixin:
    """The base's failure streak of a tenant job: one e-mail to the managers per streak."""

    kind = None

    def streak_mails(self):
        runs = self.env["m365.sync.run"].sudo().search([("kind", "=", self.kind)])
        return (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "m365.sync.run"), ("res_id", "in", runs.ids)])
        )

    def check_streak(self, run_once, break_it, fix_it):
        manager = self.env["res.users"].create(
            {
                "name": "M365 Manager",
                "login": f"m365_streak_{self.kind}",
                "email": "streak@odoo.example",
                "group_ids": [
                    (4, self.env.ref("base.group_user").id),
                    (4, self.env.ref("m365_sync.group_m365_manager").id),
                ],
            }
        )
        self.tenant.personal_failure_threshold = 3
        before = self.streak_mails()
        break_it()
        for count in range(1, 3):
            self.assertEqual(run_once().state, "failed")
            self.assertEqual(self.streak_mails(), before, f"not after {count} failure(s)")
        run = run_once()
        self.assertEqual(run.state, "failed")
        mail = self.streak_mails() - before
        self.assertEqual(len(mail), 1, "one e-mail after 3 failed runs in a row")
        self.assertIn(manager.partner_id, mail.recipient_ids)
        self.assertIn("the last 3 times", mail.body_html)
        self.assertIn(run.message[:20], mail.body_html)
        self.assertEqual(run_once().state, "failed")
        self.assertEqual(len(self.streak_mails() - before), 1, "one e-mail per streak")
        fix_it()
        self.assertEqual(run_once().state, "done")
        self.assertEqual(len(self.streak_mails() - before), 1)
        break_it()
        for _i in range(3):
            run_once()
        self.assertEqual(len(self.streak_mails() - before), 2, "a new streak, a new e-mail")


@tagged("post_install", "-at_install")
class TestContactJob(StreakMixin, M365SandboxCase):
    kind = "contacts"

    def setUp(self):
        super().setUp()
        sb = self.sandbox = Sandbox().start()
        self.addCleanup(sb.stop)
        self.tenant.write(
            {
                "azure_tenant": sb.tenant_id,
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
                "authority_host": sb.url,
                "graph_url": sb.graph_url,
                "ca_bundle": sb.ca_path,
                "http_timeout": 10,
                "contact_sync": True,
            }
        )
        self.calls = []
        self.patch(type(self.env["ir.cron"]), "_commit_progress", self._commit)
        self.Job = self.env["m365.job.contacts"]
        self.Run = self.env["m365.sync.run"]
        self.lock = (m365_job_contacts.LOCK_CLASS, self.tenant.id)

    def _commit(self, *args, **kwargs):
        self.calls.append("commit")
        return float("inf")

    def killed_run(self):
        """The row a worker killed mid-run leaves: running, its lock gone with it."""
        run = self.Run._m365_start("contacts", tenant=self.tenant)
        run.unit_key = self.Job._m365_unit_identity(self.tenant.id)
        return run

    def test_failed_runs_in_a_row_are_told_to_the_managers_once(self):
        def break_it():
            self.tenant.sudo().client_secret = "wrong"

        def fix_it():
            self.tenant.sudo().client_secret = self.sandbox.client_secret

        self.check_streak(
            lambda: self.Job._m365_run_unit(self.tenant.id, due_only=False), break_it, fix_it
        )

    def test_a_killed_sync_does_not_block_the_button(self):
        stale = self.killed_run()
        action = self.tenant.action_m365_sync_contacts()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(stale.state, "failed")
        self.assertIn("Interrupted", stale.message)

    def test_a_killed_sync_does_not_block_the_cron(self):
        stale = self.killed_run()
        self.Job._m365_cron()
        self.assertEqual(stale.state, "failed", "closed at once, not after 24 hours")
        last = self.Run.search([("kind", "=", "contacts")], limit=1)
        self.assertNotEqual(last, stale)
        self.assertEqual(last.state, "done", "the cron ran the sync")

    def test_two_workers_racing(self):
        with OtherWorker(self.env.cr.dbname, self.lock):
            with self.assertRaisesRegex(UserError, "already running"):
                self.Job._m365_sync(self.tenant, from_button=True)
            self.Job._m365_cron()
            self.assertFalse(self.Run.search([("kind", "=", "contacts")]), "no second run")
        run = self.Job._m365_sync(self.tenant)
        self.assertEqual(run.state, "done")

    def test_the_lock_is_taken_again_after_every_commit(self):
        """Another worker that took the tenant between two commits keeps it."""
        self.patch(type(self.Job), "_m365_batch_size", 2)  # several commits
        taken = []

        def try_lock(_self, lock):
            taken.append(lock)
            return len(taken) < 3  # the lock, the re-lock after the run row; then lost

        self.patch(type(self.Job), "_m365_try_lock", try_lock)
        self.assertIsNone(self.Job._m365_run_unit(self.tenant.id, due_only=False))
        self.assertEqual(len(taken), 3)
        self.patch(type(self.Job), "_m365_try_lock", lambda _self, _lock: True)
        partners = self.env["res.partner"].search_count([("m365_user_id", "!=", False)])
        self.assertEqual(partners, 2, "the first batch only: the rest is the other worker's")

    def test_the_lock_is_the_first_statement_of_a_fresh_transaction(self):
        """Whatever decides (running runs, due, feature) is read after the lock, on a
        snapshot taken with it: the base commits first, then locks, then reads."""
        Job = type(self.Job)
        for name in ("_m365_try_lock", "_m365_running_runs", "_m365_unit_due"):
            original = getattr(Job, name)

            def spy(_self, *args, _name=name, _original=original):
                self.calls.append(_name)
                return _original(_self, *args)

            self.patch(Job, name, spy)
        self.Job._m365_cron()
        self.assertEqual(
            self.calls[:4], ["commit", "_m365_try_lock", "_m365_running_runs", "_m365_unit_due"]
        )

    def test_the_lock_never_outlives_the_transaction(self):
        """A failed final commit (the cron's connection dropped) leaves no lock behind."""

        def commit(*args, **kwargs):
            if len(self.calls) > 1:
                raise RuntimeError("connection lost")
            self.calls.append("commit")
            return float("inf")

        self.patch(type(self.env["ir.cron"]), "_commit_progress", commit)
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self.Job._m365_sync(self.tenant)
        self.assertTrue(free_elsewhere(self.env.cr.dbname, self.lock))


@tagged("post_install", "-at_install")
class TestBusyJob(StreakMixin, BusyCase):
    kind = "busy"

    def setUp(self):
        super().setUp()
        self.unit = self.Job._m365_shard_units(self.tenant)[0]
        self.lock = self.Job._m365_lock_key(self.unit)

    def interrupted_run(self, **state):
        run = self.Run._m365_start("busy", tenant=self.tenant)
        run.write(
            {
                "unit_key": self.Job._m365_unit_identity(self.unit),
                "resume_state": {
                    "day": "2026-03-02",
                    "after": 0,
                    "mailboxes": 0,
                    "failed": 0,
                    "days": 0,
                    "fallback": 0,
                    "details": 0,
                    **state,
                },
            }
        )
        return run

    def test_failed_runs_in_a_row_are_told_to_the_managers_once(self):
        self.event("Adele Vance", MONDAY, 9, 10)

        def break_it():
            self.tenant.sudo().client_secret = "wrong"

        def fix_it():
            self.tenant.sudo().client_secret = self.sandbox.client_secret

        self.check_streak(self.import_busy, break_it, fix_it)

    def test_a_run_switched_off_midway_is_closed(self):
        run = self.interrupted_run()
        self.tenant.busy_sync = False
        self.Job._m365_cron()
        self.assertEqual(run.state, "failed", "not running forever")
        self.assertIn("switched off", run.message)
        self.assertFalse(run.resume_state)

    def test_an_interrupted_run_is_resumed_by_the_next_worker(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        run = self.interrupted_run()
        self.assertEqual(self.Job._m365_import_busy(self.tenant), run, "resumed, not a new one")
        self.assertEqual(run.state, "done")

    def test_two_workers_racing(self):
        with OtherWorker(self.env.cr.dbname, self.lock):
            self.assertIsNone(self.Job._m365_import_busy(self.tenant))
            self.Job._m365_cron()
        self.assertFalse(self.Run.search([("kind", "=", "busy")]), "no run while it is held")
        self.assertEqual(self.import_busy().state, "done")

    def test_no_lock_is_left_on_the_connection(self):
        """The import's lock is a transaction lock: a failure leaves nothing behind."""

        def failing(*args, **kwargs):
            raise RuntimeError("commit failed")

        self.patch(type(self.env["ir.cron"]), "_commit_progress", failing)
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self.Job._m365_import_busy(self.tenant)
        self.assertTrue(free_elsewhere(self.env.cr.dbname, self.lock))

    def set_shards(self, count):
        self.env["ir.config_parameter"].sudo().set_param(m365_job_busy.SHARDS_PARAM, str(count))

    def test_the_cron_runs_every_shard_covering_every_user_once(self):
        for name in ("Adele Vance", "Alex Wilber", "Megan Bowen"):
            self.event(name, MONDAY, 9, 10)
        client = self.tenant._m365_graph_client()
        try:
            covered = self.Job._m365_covered_users(self.tenant, client)[0]
        finally:
            client.close()
        self.assertGreaterEqual(len(covered), 3)
        self.set_shards(3)
        seen = []
        Job = type(self.Job)
        original = Job._m365_covered_users

        def spy(_self, tenant, client, shard=(0, 1), known=None):
            result = original(_self, tenant, client, shard, known)
            if shard[1] == 3:  # a shard's users (not the cron's one directory read)
                seen.extend((shard, uid) for uid in result[0].ids)
            return result

        self.patch(Job, "_m365_covered_users", spy)
        units = self.Job._m365_units()
        self.assertEqual(units, [{"tenant": self.tenant.id, "shard": k, "of": 3} for k in range(3)])
        self.Job._m365_cron()
        runs = self.Run.search([("kind", "=", "busy")])
        self.assertEqual(
            sorted(runs.mapped("unit_key")), [f"busy:{self.tenant.id}:{k}/3" for k in range(3)]
        )
        self.assertEqual(set(runs.mapped("state")), {"done"})
        user_ids = [uid for _shard, uid in seen]
        self.assertEqual(sorted(user_ids), sorted(covered.ids), "every user exactly once")
        self.assertTrue(all(uid % 3 == shard[0] and shard[1] == 3 for shard, uid in seen))
        self.assertEqual(sum(runs.mapped("created")), 3)
        self.assertFalse(self.Job._m365_units(), "no shard is due again")

    def test_failing_shards_tell_the_managers_once_per_streak(self):
        self.env["res.users"].create(
            {
                "name": "M365 Manager",
                "login": "m365_streak_shards",
                "email": "streak-shards@odoo.example",
                "group_ids": [
                    (4, self.env.ref("base.group_user").id),
                    (4, self.env.ref("m365_sync.group_m365_manager").id),
                ],
            }
        )
        self.tenant.personal_failure_threshold = 3
        self.set_shards(3)
        self.tenant.sudo().client_secret = "wrong"
        before = self.streak_mails()
        for _round in range(2):
            runs = self.Job._m365_import_busy(self.tenant)
            self.assertEqual(runs.mapped("state"), ["failed"] * 3)
        self.assertEqual(self.streak_mails(), before, "6 failed shard runs, 2 rounds")
        self.Job._m365_import_busy(self.tenant)
        self.assertEqual(len(self.streak_mails() - before), 1, "one e-mail for the tenant")
        self.Job._m365_import_busy(self.tenant)
        self.assertEqual(len(self.streak_mails() - before), 1, "one e-mail per streak")

    def directory_reads(self):
        return [r for r in self.sandbox.log if r.method == "GET" and r.path == "/v1.0/users"]

    def test_the_directory_is_read_once_per_cycle_not_once_per_shard(self):
        for name in ("Adele Vance", "Alex Wilber", "Megan Bowen"):
            self.event(name, MONDAY, 9, 10)
        self.set_shards(3)
        self.sandbox.log.clear()
        self.Job._m365_cron()
        runs = self.Run.search([("kind", "=", "busy")])
        self.assertEqual(len(runs), 3)
        self.assertEqual(set(runs.mapped("state")), {"done"})
        self.assertEqual(sum(runs.mapped("created")), 3, "every shard found its mailboxes")
        self.assertEqual(len(self.directory_reads()), 1, "one directory read for 3 shards")
        # The button (every shard at once) reads it once too.
        self.sandbox.log.clear()
        runs = self.Job._m365_import_busy(self.tenant)
        self.assertEqual(len(runs), 3)
        self.assertEqual(len(self.directory_reads()), 1)
        # A shard run alone (a queue retry) reads the directory itself.
        unit = {"tenant": self.tenant.id, "shard": 1, "of": 3}
        self.sandbox.log.clear()
        self.assertEqual(self.Job._m365_run_unit(unit, due_only=False).state, "done")
        self.assertEqual(len(self.directory_reads()), 1)

    def test_a_stale_directory_snapshot_is_read_again(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        self.set_shards(2)
        units = self.Job._m365_with_directory(self.Job._m365_shard_units(self.tenant))
        self.assertTrue(all(isinstance(unit["mailboxes"], list) for unit in units))
        self.assertEqual(json.loads(json.dumps(units)), units, "JSON-serialisable")
        client = self.tenant._m365_graph_client()
        try:
            covered = self.Job._m365_covered_users(self.tenant, client)[0]
        finally:
            client.close()
        self.assertEqual(
            sorted(uid for unit in units for uid, _box in unit["mailboxes"]), sorted(covered.ids)
        )
        stale = dict(units[0], read_at="2000-01-01 00:00:00")
        self.assertIsNone(self.Job._m365_known_mailboxes(stale, self.tenant))
        self.assertTrue(self.Job._m365_known_mailboxes(units[0], self.tenant))
        self.sandbox.log.clear()
        self.assertEqual(self.Job._m365_run_unit(stale, due_only=False).state, "done")
        self.assertEqual(len(self.directory_reads()), 1, "read again: the snapshot was old")

    def test_failures_of_one_shard_are_the_tenants_streak(self):
        """Shard 1 of 2 fails every cycle, shard 0 succeeds: after N cycles the managers
        are told, once; a cycle where both succeed ends the streak; a new one is told
        again."""
        self.env["res.users"].create(
            {
                "name": "M365 Manager",
                "login": "m365_streak_one_shard",
                "email": "streak-one-shard@odoo.example",
                "group_ids": [
                    (4, self.env.ref("base.group_user").id),
                    (4, self.env.ref("m365_sync.group_m365_manager").id),
                ],
            }
        )
        self.tenant.personal_failure_threshold = 3
        self.set_shards(2)
        broken = [True]
        Job = type(self.Job)
        original = Job._m365_do_unit

        def do_unit(_self, unit, run):
            if unit["shard"] == 1 and broken[0]:
                raise UserError(_self.env._("The calendars of shard 1 cannot be read."))
            return original(_self, unit, run)

        self.patch(Job, "_m365_do_unit", do_unit)
        before = self.streak_mails()

        def cycle(states):
            with mute_logger("odoo.addons.m365_sync.models.jobs.m365_job"):
                runs = self.Job._m365_import_busy(self.tenant)
            self.assertEqual(runs.sorted("unit_key").mapped("state"), states)

        for _cycle in range(2):
            cycle(["done", "failed"])
        self.assertEqual(self.streak_mails(), before, "2 failed cycles of 3")
        unit = {"tenant": self.tenant.id, "shard": 0, "of": 2}
        self.assertEqual(self.Job._m365_failure_streak(unit, 3), 2, "also seen from shard 0")
        cycle(["done", "failed"])
        told = self.streak_mails() - before
        self.assertEqual(len(told), 1, "3 failed cycles: told")
        self.assertIn("shard 1 cannot be read", told.body_html)
        cycle(["done", "failed"])
        self.assertEqual(len(self.streak_mails() - before), 1, "one e-mail per streak")
        broken[0] = False
        cycle(["done", "done"])
        self.assertEqual(self.Job._m365_failure_streak(unit, 3), 0, "a good cycle ends it")
        broken[0] = True
        for _cycle in range(3):
            cycle(["done", "failed"])
        self.assertEqual(len(self.streak_mails() - before), 2, "a new streak is told again")

    def test_the_button_takes_the_shard_locks(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        self.set_shards(3)
        held = {"tenant": self.tenant.id, "shard": 1, "of": 3}
        with OtherWorker(self.env.cr.dbname, self.Job._m365_lock_key(held)):
            action = self.tenant.action_m365_sync_busy_now()
            self.assertEqual(action["params"]["type"], "warning")
            self.assertIn(f"busy:{self.tenant.id}:1/3", action["params"]["message"])
            self.assertIn("another worker", action["params"]["message"])
            self.assertIn("(2 part(s))", action["params"]["message"])
            self.Job._m365_cron()  # the worker the button triggered
        runs = self.Run.search([("kind", "=", "busy")])
        self.assertEqual(
            sorted(runs.mapped("unit_key")),
            [f"busy:{self.tenant.id}:0/3", f"busy:{self.tenant.id}:2/3"],
            "the held shard is skipped, the others run",
        )
        self.assertEqual(set(runs.mapped("state")), {"done"})

    def test_a_changed_shard_count_closes_the_stale_shard_runs(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        self.set_shards(3)
        stale = self.interrupted_run()
        stale.unit_key = f"busy:{self.tenant.id}:1/3"
        whole = self.interrupted_run()
        whole.unit_key = f"busy:{self.tenant.id}"  # an earlier version's whole-tenant run
        busy = self.interrupted_run()
        busy.unit_key = f"busy:{self.tenant.id}:2/3"
        self.set_shards(2)
        with OtherWorker(self.env.cr.dbname, self.Job._m365_key_lock(busy.unit_key)):
            self.Job._m365_cron()
        for run in stale | whole:
            self.assertEqual(run.state, "failed", run.unit_key)
            self.assertTrue(run.interrupted)
            self.assertIn("split into 2", run.message)
            self.assertFalse(run.resume_state)
        self.assertEqual(busy.state, "running", "its worker still holds its lock")
        done = self.Run.search([("kind", "=", "busy"), ("state", "=", "done")])
        self.assertEqual(
            sorted(done.mapped("unit_key")), [f"busy:{self.tenant.id}:{k}/2" for k in range(2)]
        )
        self.Job._m365_cron()
        self.assertEqual(busy.state, "failed", "closed once its lock is free")


@tagged("post_install", "-at_install")
class TestPersonalJob(PersonalSyncMixin, M365SandboxCase):
    def test_a_killed_pull_is_closed_and_the_account_pulled(self):
        account = self.connect()
        Run = self.env["m365.sync.run"]
        stale = Run._m365_start("personal", tenant=account.tenant_id, user=account.user_id)
        stale.unit_key = self.env["m365.job.personal"]._m365_unit_identity(account.id)
        self.assertTrue(account._m365_sync())
        self.assertEqual(stale.state, "failed")
        self.assertIn("Interrupted", stale.message)

    def test_a_failed_run_counts_once(self):
        account = self.connect()
        before = account.failure_count

        def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        self.patch(type(self.env["m365.event.link"]), "_m365_pull", broken)
        with mute_logger("odoo.addons.m365_sync.models.m365_account"):
            self.assertFalse(account._m365_sync())
        self.assertEqual(account.failure_count, before + 1)

    def test_an_account_held_by_another_worker_is_left_alone(self):
        account = self.connect()
        runs = self.env["m365.sync.run"].search_count([])
        with OtherWorker(self.env.cr.dbname, (LOCK_CLASS, account.id)):
            self.assertIsNone(account._m365_sync())
        self.assertEqual(self.env["m365.sync.run"].search_count([]), runs)

    def test_a_pull_waits_while_another_unit_uses_its_mailbox(self):
        """An application outbox batch of the same mailbox (another worker) holds the
        mailbox's lock: the pull is left for later, then runs."""
        account = self.connect()
        Job = self.env["m365.job.personal"]
        self.assertTrue(account.graph_user_id)
        mailbox = Job._m365_mailbox_lock(account.tenant_id.id, account.graph_user_id.upper())
        self.assertEqual(Job._m365_mailbox_lock(*Job._m365_unit_mailbox(account.id)), mailbox)
        runs = self.env["m365.sync.run"].search_count([("kind", "=", "personal")])
        with OtherWorker(self.env.cr.dbname, mailbox):
            self.assertIsNone(Job._m365_run_unit(account.id, due_only=False))
            self.assertEqual(
                self.env["m365.sync.run"].search_count([("kind", "=", "personal")]), runs
            )
        self.assertEqual(Job._m365_run_unit(account.id, due_only=False).state, "done")


@tagged("post_install", "-at_install")
class TestOutboxJob(OutboxMixin, M365SandboxCase):
    def unit(self):
        units = self.env["m365.job.outbox"]._m365_units()
        self.assertEqual(len(units), 1)
        return units[0]

    def test_a_killed_drain_leaves_a_run_that_the_next_drain_closes(self):
        self.appointment("Sent after a crash")
        Job = self.env["m365.job.outbox"]
        commits = []

        def commit(*args, **kwargs):
            commits.append(self.env["m365.sync.run"].search_count([("kind", "=", "outbox")]))
            return float("inf")

        self.patch(type(self.env["ir.cron"]), "_commit_progress", commit)
        stale = Job._m365_start_run(self.unit())  # what the killed worker had committed
        run = self.drain()
        self.assertNotEqual(run, stale)
        self.assertEqual(run.state, "done", run.message)
        self.assertEqual(stale.state, "failed")
        self.assertIn("Interrupted", stale.message)
        self.assertIn(2, commits, "the new run was committed before anything was sent")

    def test_an_account_to_reconnect_counts_one_failure_per_drain(self):
        for index in range(5):
            self.appointment(f"Waits {index}")
        before = self.account.failure_count
        self.sandbox.state.revoke_refresh_tokens(ADELE)
        self.sandbox.state.advance_clock(3700)
        self.drain()
        self.assertEqual(self.account.state, "reconnect")
        self.assertEqual(self.account.failure_count, before + 1, "one run, one failure")

    def test_an_account_to_reconnect_while_draining_counts_on_the_pull_unit(self):
        """The drain's account error: a failed run row of the account's pull unit (the
        same streak as a failed pull), the "reconnect needed" e-mail at once, once."""
        self.appointment("Waits for a sign-in")
        Personal = self.env["m365.job.personal"]
        key = Personal._m365_unit_identity(self.account.id)
        Mail = self.env["mail.mail"].sudo()
        mails = [("model", "=", "m365.account"), ("res_id", "=", self.account.id)]
        self.sandbox.state.revoke_refresh_tokens(ADELE)
        self.sandbox.state.advance_clock(3700)
        self.drain()
        self.assertEqual(self.account.state, "reconnect")
        failed = self.env["m365.sync.run"].search([("unit_key", "=", key)])
        self.assertEqual(failed.mapped("state"), ["failed"])
        self.assertIn("connect the account again", failed.message)
        self.assertEqual(Personal._m365_failure_streak(self.account.id, 10), 1)
        self.assertEqual(self.account.failure_count, 1)
        told = Mail.search(mails)
        self.assertEqual(len(told), 1)
        self.assertIn("Reconnect my account", told.body_html)
        self.assertEqual(told.recipient_ids, self.account.user_id.partner_id)
        self.make_due()
        self.drain()
        self.assertEqual(len(Mail.search(mails)), 1, "told once until reconnected")

    def test_a_drain_held_by_the_pull_waits(self):
        self.appointment("Waits for the pull")
        with OtherWorker(self.env.cr.dbname, (LOCK_CLASS, self.account.id)):
            self.drain()
            self.assertFalse(self.env["m365.sync.run"].search([("kind", "=", "outbox")]))
        self.assertEqual(self.drain().state, "done")

    def test_one_unit_per_mailbox_over_writers_and_jobs(self):
        """The delegated batch of the account, an application batch to its mailbox and
        the account's pull take one mailbox lock: while another worker's unit holds
        it, the batch waits (rows kept, no run), then goes."""
        Job = self.env["m365.job.outbox"]
        event = self.appointment("Written by the app", user=self.other_user)
        built = build_payload(event._m365_appointment(self.account))
        entry = event._m365_outbox_entry("create", self.account, built)
        entry.update(writer="application", account_id=False, mailbox=self.account.graph_user_id)
        self.env["m365.outbox"]._m365_enqueue([entry])
        self.appointment("Written by Adele")
        units = Job._m365_units()
        self.assertEqual(sorted(unit["writer"] for unit in units), ["application", "delegated"])
        locks = {Job._m365_mailbox_lock(*Job._m365_unit_mailbox(unit)) for unit in units}
        personal = self.env["m365.job.personal"]
        locks.add(personal._m365_mailbox_lock(*personal._m365_unit_mailbox(self.account.id)))
        self.assertEqual(len(locks), 1, "one lock for the mailbox")
        with OtherWorker(self.env.cr.dbname, locks.pop()):
            self.drain()
            self.assertFalse(self.env["m365.sync.run"].search([("kind", "=", "outbox")]))
            self.assertEqual(len(self.queued()), 2, "the rows wait")
        self.drain()
        self.assertEqual(len(self.outlook()), 2, "both sent once the mailbox was free")

    def test_a_412_winner_is_resent_in_the_batched_path(self):
        events = [self.appointment(f"Meeting {index}") for index in range(3)]
        self.drain()
        for event in events:
            link = self.link(event)
            self.sandbox.state.update_event(ADELE, link.graph_event_id, subject="In Outlook")
            event.write({"name": f"{event.name} (Odoo)"})
        self.sandbox.log.clear()
        run = self.drain()
        self.assertEqual(run.updated, 3, run.message)
        patches = [r for r in self.sandbox.log if r.method == "PATCH"]
        self.assertEqual([r.status for r in patches], [412] * 3 + [200] * 3)
        self.assertTrue(all(r.in_batch for r in patches), "the resend is batched too")
        self.assertEqual(
            sorted(e["subject"] for e in self.outlook()),
            [f"Meeting {index} (Odoo)" for index in range(3)],
        )
