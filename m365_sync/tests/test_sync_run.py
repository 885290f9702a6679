from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tests.common import TransactionCase


class FakeStats:
    requests = 7
    throttled = 2
    retried = 3


@tagged("post_install", "-at_install")
class TestSyncRun(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Run = cls.env["m365.sync.run"]
        cls.tenant = cls.env.company.m365_tenant_id

    def test_start_count_done(self):
        run = self.Run._m365_start("contacts", tenant=self.tenant)
        self.assertEqual(run.state, "running")
        self.assertEqual(run.company_id, self.env.company)
        run._m365_count(created=3, updated=2)
        run._m365_count(created=1, deleted=4)
        run._m365_count(skipped_reason="user 42: no e-mail address")
        run._m365_count(skipped_reason="user 43: display name empty")
        run._m365_add_stats(FakeStats())
        run._m365_done(message="ok")
        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "created": 4,
                    "updated": 2,
                    "deleted": 4,
                    "skipped": 2,
                    "http_requests": 7,
                    "throttled": 2,
                    "retried": 3,
                    "message": "ok",
                }
            ],
        )
        self.assertEqual(
            run.skipped_details.splitlines(),
            ["user 42: no e-mail address", "user 43: display name empty"],
        )
        self.assertTrue(run.end)
        self.assertGreaterEqual(run.duration, 0)

    def test_track_success(self):
        with self.Run._m365_track("busy", tenant=self.tenant, client=_Client()) as run:
            run._m365_count(created=5)
        self.assertEqual(run.state, "done")
        self.assertEqual(run.created, 5)
        self.assertEqual(run.http_requests, 7)

    def test_track_failure_rolls_back_the_body_and_keeps_the_run(self):
        partner = self.env["res.partner"].create({"name": "Before"})
        with self.Run._m365_track("contacts", tenant=self.tenant) as run:
            partner.name = "Changed inside the failed run"
            run._m365_count(updated=1)
            raise ValueError("Graph said no")
        partner.invalidate_recordset()
        self.assertEqual(partner.name, "Before", "the failed body's writes are rolled back")
        self.assertEqual(run.state, "failed")
        self.assertEqual(run.message, "Graph said no")
        self.assertTrue(run.exists())

    def test_track_reraises_for_buttons(self):
        with (
            self.assertRaisesRegex(ValueError, "boom"),
            self.Run._m365_track("contacts", tenant=self.tenant, raise_errors=True),
        ):
            raise ValueError("boom")
        run = self.Run.search([("kind", "=", "contacts")], limit=1)
        self.assertEqual(run.state, "failed")

    def test_gc_deletes_old_runs_only(self):
        self.env["ir.config_parameter"].set_param("m365_sync.run_retention_days", 10)
        old = self.Run._m365_start("busy", tenant=self.tenant)
        old._m365_done()
        recent = self.Run._m365_start("busy", tenant=self.tenant)
        recent._m365_done()
        running_old = self.Run._m365_start("busy", tenant=self.tenant)
        long_ago = fields.Datetime.now() - timedelta(days=11)
        (old | running_old).write({"start": long_ago})
        # Outside a cron, _commit_progress commits: not inside a test transaction.
        self.patch(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf"))
        self.Run._gc_old_runs()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())
        self.assertTrue(running_old.exists(), "a run still running is never deleted")

    def test_due_follows_the_last_run_of_that_kind(self):
        hour = timedelta(hours=1)
        self.assertTrue(self.tenant._m365_due("contacts", hour), "never ran")
        run = self.Run._m365_start("contacts", tenant=self.tenant)
        self.assertFalse(self.tenant._m365_due("contacts", hour))
        self.assertTrue(self.tenant._m365_due("busy", hour), "other kinds keep their own schedule")
        run.start = fields.Datetime.now() - timedelta(minutes=61)
        self.assertTrue(self.tenant._m365_due("contacts", hour))

    def test_views_load(self):
        for view_type in ("list", "form", "search", "pivot", "graph"):
            self.Run.get_view(view_type=view_type)
        self.env["m365.tenant"].get_view(view_type="form")
        self.env["res.config.settings"].get_view(view_type="form")


class _Counters:
    def snapshot(self):
        return FakeStats()


class _Client:
    counters = _Counters()


@tagged("post_install", "-at_install")
class TestSyncRunDisplay(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Run = cls.env["m365.sync.run"]
        cls.tenant = cls.env.company.m365_tenant_id

    def test_sub_second_duration(self):
        run = self.Run._m365_start("connection", tenant=self.tenant)
        run.start_ts -= 0.42
        run._m365_done()
        self.assertAlmostEqual(run.duration, 0.4, delta=0.1)
        self.assertRegex(run.duration_display, r"^0\.[3-5] s$")

    def test_human_duration(self):
        run = self.Run.create(
            {"kind": "contacts", "start_ts": 1000.0, "end_ts": 1065.3, "end": fields.Datetime.now()}
        )
        self.assertEqual(run.duration_display, "1 min 5 s")
        run.end_ts = 1000.0 + 2 * 3600 + 180
        self.assertEqual(run.duration_display, "2 h 3 min")
        run.end_ts = 1012.0
        self.assertEqual(run.duration_display, "12 s")
        old = self.Run.create(
            {
                "kind": "busy",
                "start": fields.Datetime.to_datetime("2026-01-05 08:00:00"),
                "end": fields.Datetime.to_datetime("2026-01-05 08:00:03"),
            }
        )
        self.assertEqual(old.duration, 3.0, "runs without the exact times: whole seconds")
        running = self.Run._m365_start("busy", tenant=self.tenant)
        self.assertFalse(running.duration_display)

    def test_display_name_in_the_users_time_zone(self):
        run = self.Run.create(
            {"kind": "contacts", "start": fields.Datetime.to_datetime("2026-11-21 06:28:08")}
        )
        name = run.with_context(tz="Europe/Brussels").display_name
        self.assertTrue(name.startswith("Contacts "), name)
        self.assertIn("07:28", name)
        self.assertNotIn("06:28", name)

    def test_views_load(self):
        for view_type in ("list", "form", "search"):
            arch = self.Run.get_view(view_type=view_type)["arch"]
            self.assertTrue(arch)
        self.assertIn("duration_display", self.Run.get_view(view_type="list")["arch"])
        self.assertNotIn("statusbar", self.Run.get_view(view_type="form")["arch"])
