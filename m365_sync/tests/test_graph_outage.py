"""Nothing lost when a worker dies or Graph goes away.

* A rotated refresh token is committed at once on its own cursor: a run whose
  transaction never commits (worker killed, connection dropped) leaves it stored.
  A real second database connection stands for "its own cursor" here, since the
  test's cursors all share one transaction.
* Each job has a circuit breaker: after a few failed requests in a row, or its
  wait budget, the unit stops, its run says "failed — Microsoft Graph unavailable"
  in plain words, and the next run resumes. Nothing sleeps: the retry policy's
  sleep moves a fake clock, and the tests assert the arithmetic, not timings.
* Users whose calendar could not be read get no workload day with zero hours.
"""

import random
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, sql_db
from odoo.exceptions import AccessError

import m365_graph.core.client as graph_client
from m365_graph import GraphClient, ReconnectNeeded, RetryPolicy, get_me, refresh_scopes
from m365_graph.identity.auth import forget_apps

from ..models import m365_outbox
from ..models.jobs import m365_job_busy as m365_busy_slot
from ..models.jobs import m365_job_outbox
from ..models.m365_account import TokenKeeper
from .busy_common import MONDAY, BusyCase
from .common import ADELE, M365SandboxCase, PersonalSyncMixin
from .outbox_common import OutboxMixin, day

BATCH = r"/\$batch$"


class FakeClock:
    def __init__(self):
        self.now = 1_000_000.0
        self.slept = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def _policy_factory(clock, original):
    def make(*args, **kwargs):
        kwargs.setdefault("sleep", clock.sleep)
        kwargs.setdefault("clock", clock.time)
        kwargs.setdefault("rng", random.Random(1))  # noqa: S311  # jitter, not a secret
        return original(*args, **kwargs)

    return make


class SecondConnection:
    """A cursor on a connection of its own: what it commits survives the test's rollback."""

    def __init__(self, dbname):
        self.dbname = dbname

    def cursor(self):
        return sql_db.db_connect(self.dbname).cursor()

    def rotation(self, account_id):
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            row = env["m365.token.rotation"].search([("account_id", "=", account_id)])
            return (row.token_cache, row.saved_at) if row else (None, None)

    def forget(self, account_id):
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["m365.token.rotation"].search([("account_id", "=", account_id)]).unlink()


class TestRotatedTokensSurvive(PersonalSyncMixin, M365SandboxCase):
    def setUp(self):
        super().setUp()
        forget_apps()
        self.second = SecondConnection(self.env.cr.dbname)
        patcher = patch.object(TokenKeeper, "_cursor", lambda keeper: self.second.cursor())
        patcher.start()
        self.addCleanup(patcher.stop)

    def _client(self, blob, account):
        return GraphClient.for_account(
            account.tenant_id._m365_config(),
            blob,
            home_account_id=account.home_account_id,
            scopes=refresh_scopes((account.granted_scopes or "").split()),
            retry=RetryPolicy(max_attempts=1),
        )

    def test_rotation_committed_at_once_survives_a_run_that_never_commits(self):
        account = self.connect(ADELE)
        self.addCleanup(self.second.forget, account.id)
        spent = account.token_cache
        # The access token expires: the next run refreshes, and msal rotates the
        # refresh token. The run's transaction then dies (a savepoint rolled back
        # stands for the killed worker's transaction).
        self.sandbox.state.advance_clock(3700)
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            keeper = TokenKeeper(account)
            with account._m365_client(on_cache_change=keeper.changed) as client:
                get_me(client)
            self.assertTrue(keeper.latest)
            raise RuntimeError("worker killed")
        account.invalidate_recordset()
        self.assertEqual(account.token_cache, spent, "the job's own write died with it")
        rotated, saved_at = self.second.rotation(account.id)
        self.assertTrue(rotated and rotated != spent, "committed on its own cursor")
        self.assertGreater(saved_at, account.token_saved_at)
        # The spent refresh token no longer works; the committed one does.
        with self.assertRaises(ReconnectNeeded):
            get_me(self._client(spent, account))
        self.assertEqual(get_me(self._client(rotated, account)).user_principal_name, ADELE)

    def test_the_next_run_reads_the_newer_copy(self):
        account = self.connect(ADELE)
        Rotation = self.env["m365.token.rotation"].sudo()
        rotation = Rotation.create(
            {
                "account_id": account.id,
                "token_cache": "rotated-later",
                "saved_at": account.token_saved_at + 5,
            }
        )
        self.assertEqual(account._m365_token_cache(), "rotated-later")
        rotation.saved_at = account.token_saved_at - 5  # a rotation of an older sign-in
        self.assertEqual(account._m365_token_cache(), account.token_cache)
        admin = self.env.ref("base.user_admin")
        with self.assertRaises(AccessError, msg="never read back, not even by an administrator"):
            Rotation.with_user(admin).search_read([("id", "=", rotation.id)], ["token_cache"])

    def test_rotations_of_removed_accounts_are_deleted(self):
        account = self.connect(ADELE)
        Rotation = self.env["m365.token.rotation"].sudo()
        kept = Rotation.create({"account_id": account.id, "token_cache": "x", "saved_at": 1.0})
        orphan = Rotation.create(
            {"account_id": account.id + 10_000, "token_cache": "y", "saved_at": 1.0}
        )
        Rotation._m365_gc()
        self.assertTrue(kept.exists())
        self.assertFalse(orphan.exists())

    def test_a_sync_keeps_both_copies_in_step(self):
        account = self.connect(ADELE)
        self.addCleanup(self.second.forget, account.id)
        self.sandbox.state.advance_clock(3700)
        self.assertTrue(self.sync(account)[0])
        rotated, saved_at = self.second.rotation(account.id)
        self.assertEqual(account.token_cache, rotated)
        self.assertAlmostEqual(account.token_saved_at, saved_at, places=5)
        self.assertEqual(account._m365_token_cache(), account.token_cache)


class TestBusyOutage(BusyCase):
    def setUp(self):
        super().setUp()
        forget_apps()
        self.clock = FakeClock()
        # The busy import's client takes the default policy of m365_graph.core.client.
        self.patch(graph_client, "RetryPolicy", _policy_factory(self.clock, RetryPolicy))

    def test_outage_from_part_way_on_stops_resumes_and_writes_no_empty_days(self):
        for name in ("Adele Vance", "Alex Wilber", "Megan Bowen"):
            self.event(name, MONDAY, 9, 10)
        self.patch(m365_busy_slot, "CHUNK_SIZE", 1)
        # The first $batch (Adele's chunk) goes through; then Graph answers 503.
        outage = self.sandbox.faults.add(status=503, path=BATCH, after=1, times=None)
        first = self.import_busy()
        self.assertEqual(first.state, "failed")
        self.assertIn("Failed — Microsoft Graph unavailable", first.message)
        self.assertIn("next run resumes", first.message)
        # Adele's calendar was read; Alex's $batch failed after its own retries (his
        # stored busy time is kept); Megan's opened the breaker and waits.
        self.assertIn("1 calendars were read", first.message)
        self.assertIn("1 could not be read", first.message)
        self.assertLessEqual(sum(self.clock.slept), m365_busy_slot.BUSY_BUDGET["max_wait"])
        batches = self.sandbox.log.count(BATCH, in_batch=False)
        self.assertEqual(batches, 1 + m365_busy_slot.BUSY_BUDGET["max_failures"])
        self.assertEqual(len(self.slots(self.adele)), 1)
        self.assertFalse(self.slots(self.alex))
        self.env.cr.flush()
        self.assertFalse(
            self.Day.search([("user_id", "in", (self.alex | self.megan).ids)]),
            "no workload day with zero busy hours for calendars not read",
        )
        self.assertTrue(self.Day.search([("user_id", "=", self.adele.id)]))

        # Graph is back; the cron's next run (after the interval) resumes.
        outage.cancel()
        self.sandbox.log.clear()
        second = self.import_busy()
        self.assertEqual(second.state, "done", second.message)
        self.assertNotEqual(second, first)
        self.assertIn("3 calendars read", second.message)
        self.assertEqual(len(self.slots(self.megan)), 1)
        read = [
            self.sandbox.log.count(r"/calendarView$", mailbox=self.graph_id[name])
            for name in ("Adele Vance", "Alex Wilber", "Megan Bowen")
        ]
        self.assertEqual(read, [0, 0, 1], "the resumed run reads only the mailboxes left")
        self.assertFalse(first.resume_state, "taken over by the new run")

    def test_a_calendar_not_read_gets_no_empty_workload_days(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        self.sandbox.faults.add(
            status=403,
            code="ErrorAccessDenied",
            path=rf"/users/{self.graph_id['Megan Bowen']}/calendarView",
            in_batch=True,
            times=None,
        )
        run = self.import_busy()
        self.assertEqual(run.state, "done")
        self.env.cr.flush()
        self.assertFalse(self.Day.search([("user_id", "=", self.megan.id)]))
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 1.0)


class TestDrainOutage(OutboxMixin, M365SandboxCase):
    def setUp(self):
        super().setUp()
        self.clock = FakeClock()
        factory = _policy_factory(self.clock, RetryPolicy)
        self.patch(m365_job_outbox, "RetryPolicy", factory)

    def many(self, count):
        return (
            self.env["calendar.event"]
            .with_user(self.user)
            .create(
                [
                    {
                        "name": f"Appointment {n}",
                        "start": day(2, 8) + timedelta(minutes=15 * n),
                        "stop": day(2, 8) + timedelta(minutes=15 * n + 10),
                    }
                    for n in range(count)
                ]
            )
        )

    def test_retry_after_storm_stops_at_the_budget_and_keeps_the_tries(self):
        self.many(60)  # three $batch calls of 20
        storm = self.sandbox.faults.add(
            status=429, path=r"/events$", in_batch=True, times=None, retry_after=10
        )
        run = self.drain()
        self.assertEqual(run.state, "failed")
        self.assertIn("Failed — Microsoft Graph unavailable", run.message)
        self.assertIn("budget of 45 s", run.message)
        self.assertLessEqual(sum(self.clock.slept), m365_outbox.DRAIN_BUDGET["max_wait"])
        items = self.queued()
        self.assertEqual(len(items), 60, "nothing lost")
        waiting = items.filtered(lambda i: "unavailable" in (i.last_error or ""))
        self.assertTrue(waiting, "the rows the breaker stopped wait for Graph")
        self.assertEqual(set(waiting.mapped("attempts")), {0}, "without spending a try")
        self.assertTrue(all(i.next_attempt > i.last_attempt for i in items), "backed off")
        storm.cancel()
        self.make_due()
        self.drain()
        self.assertFalse(self.queued(), "the next run sends them")
        self.assertEqual(len(self.outlook()), 60)

    def test_outage_of_a_whole_drain_is_a_failed_run_in_plain_words(self):
        self.many(100)  # five $batch calls
        self.sandbox.faults.add(status=503, path=BATCH, times=None)
        run = self.drain()
        self.assertEqual(run.state, "failed")
        self.assertIn("Failed — Microsoft Graph unavailable", run.message)
        self.assertIn("requests in a row failed", run.message)
        batches = self.sandbox.log.count(BATCH, in_batch=False)
        self.assertEqual(batches, m365_outbox.DRAIN_BUDGET["max_failures"])
        self.assertEqual(len(self.queued()), 100)
        self.assertEqual(set(self.queued().mapped("state")), {"pending"})


class TestContactOutage(M365SandboxCase):
    def setUp(self):
        super().setUp()
        self.tenant.contact_sync = True
        self.Sync = self.env["m365.job.contacts"]
        self.patch(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf"))
        self.clock = FakeClock()
        self.patch(graph_client, "RetryPolicy", _policy_factory(self.clock, RetryPolicy))

    def test_a_long_retry_after_storm_ends_at_the_wait_budget(self):
        self.patch(type(self.Sync), "_m365_page_size", 3)
        self.sandbox.faults.add(429, path=r"/users/delta", after=1, times=None, retry_after=30)
        run = self.Sync._m365_sync(self.tenant)
        self.assertEqual(run.state, "failed")
        self.assertTrue(
            run.message.startswith("Failed — Microsoft Graph unavailable."), run.message
        )
        self.assertIn("budget of 60 s", run.message)
        self.assertIn("the next run reads these changes again", run.message)
        self.assertEqual(self.clock.slept, [30.0, 30.0], "the third wait would pass the budget")
        self.assertEqual(self.sandbox.log.count(r"/users/delta"), 4)
