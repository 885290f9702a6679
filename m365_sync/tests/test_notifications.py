"""Change notifications end to end over HTTP: the sandbox subscribes, validates and
notifies Odoo's webhook (a real HTTP server in the test), Odoo queues and reads.

The sandbox's delivery thread is paused except inside :meth:`deliver`, which lets
Odoo's test server take requests (``allow_requests``) while the test waits; the
subscription job runs inside the same window because Graph runs the validation
handshake against the webhook during ``POST /subscriptions``.
"""

import json
import logging
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import config

from m365_graph.sync.notifications import client_state_digest

from ..models import m365_subscription
from ..models.jobs import m365_job_subscription
from .busy_common import MONDAY, BusyCase
from .common import ADELE, M365SandboxHttpCase, PersonalSyncMixin


class NotifyMixin:
    def setUp(self):
        super().setUp()
        self.hub = self.sandbox.notifications
        self.hub.clear()
        self.hub.paused = True
        self.hub.retry_initial = 0.1
        self.hub.retry_window = 1.0
        self.addCleanup(self.hub.clear)
        self.tenant.write({"notification_base_url": self.base_url(), "notifications_enabled": True})
        self.Sub = self.env["m365.subscription"].sudo()
        self.SubJob = self.env["m365.job.subscription"]
        m365_subscription._DIGESTS.clear()
        self.addCleanup(m365_subscription._DIGESTS.clear)
        # Graph's POSTs carry no session: Odoo picks the database by its dbfilter, as a
        # production server serving the webhook must (see the README).
        self.patch(config, "options", {**config.options, "dbfilter": f"^{self.env.cr.dbname}$"})

    def keep_subscriptions(self):
        """The subscription cron (plan + units), with Odoo serving the handshake."""
        with self.allow_requests(all_requests=True):
            self.SubJob._m365_cron()
        self.env.invalidate_all()

    def deliver(self):
        """Let the sandbox POST what it queued, and wait until it is answered."""
        with self.allow_requests(all_requests=True):
            self.hub.paused = False
            self.assertTrue(self.hub.flush(20), "the sandbox delivered its notifications")
            self.hub.paused = True
        self.env.invalidate_all()

    def post(self, path, body, **kwargs):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.url_open(path, data=data, **kwargs)

    def genuine_item(self, sub, client_state):
        return {
            "subscriptionId": sub.graph_id,
            "changeType": "updated",
            "clientState": client_state,
            "resource": f"Users/{sub.mailbox}/Events/AAMk",
            "resourceData": {"id": "AAMk"},
        }


@tagged("post_install", "-at_install")
class TestBusyNotifications(NotifyMixin, BusyCase, M365SandboxHttpCase):
    def _active(self):
        self.keep_subscriptions()
        unmatched = self.Sub.search([("state", "=", "unmatched")])
        self.assertIn("no Microsoft 365 mailbox", unmatched[:1].last_error or "")
        rows = self.Sub.search([("kind", "=", "busy"), ("state", "!=", "unmatched")])
        self.assertEqual(len(rows), 3)
        self.assertEqual(set(rows.mapped("state")), {"active"}, rows.mapped("last_error"))
        return rows

    def test_subscribe_notify_and_read_one_mailbox(self):
        rows = self._active()
        adele = rows.filtered(lambda r: r.user_id == self.adele)
        self.assertEqual(adele.mailbox, self.graph_id["Adele Vance"])
        self.assertEqual(adele.resource, f"users/{adele.mailbox}/events")
        self.assertEqual(adele.notification_url, f"{self.base_url()}/m365_sync/webhook")
        lifetime = adele.expiration - fields.Datetime.now()
        self.assertGreater(lifetime, timedelta(minutes=10_060))
        self.assertLessEqual(lifetime, timedelta(minutes=10_070))
        self.assertTrue(
            adele.expiration - lifetime / 2 <= adele.renew_at <= adele.expiration - lifetime / 4
        )
        self.assertTrue(all(ok for _url, ok in self.hub.validations))
        self.assertEqual(len(self.hub.active()), len(rows))
        self.assertEqual(self.tenant._m365_poll_minutes(15, "busy"), 240)
        self.assertIn("Active", self.tenant.notifications_status)

        self.event("Adele Vance", MONDAY, 10, 12)
        self.sandbox.log.clear()
        self.deliver()
        self.assertTrue(adele.pending)
        self.assertGreaterEqual(adele.notification_count, 1)
        self.assertFalse((rows - adele).filtered("pending"))
        cron = self.env.ref("m365_sync.ir_cron_m365_notifications")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))

        self.SubJob._m365_dispatch_notifications()
        self.assertEqual(len(self.slots(self.adele)), 1)
        self.assertFalse(self.slots(self.alex))
        adele.invalidate_recordset()
        self.assertFalse(adele.pending)
        paths = [r.path for r in self.sandbox.log.records() if "calendarView" in r.path]
        self.assertTrue(paths)
        self.assertTrue(all(adele.mailbox in p for p in paths), paths)
        run = self.Run.search([("kind", "=", "busy_notified")], limit=1)
        self.assertEqual(run.state, "done")
        # Duplicates (the sandbox repeats updates, as real tenants do) change nothing.
        self.sandbox.state.update_event(self.upn["Adele Vance"], self.slots(self.adele).event_id)
        self.deliver()
        self.SubJob._m365_dispatch_notifications()
        self.assertEqual(len(self.slots(self.adele)), 1)

    def test_forged_notifications_change_nothing(self):
        rows = self._active()
        adele = rows.filtered(lambda r: r.user_id == self.adele)
        before = adele.notification_count
        m365_subscription._dropped["since"] = 0.0
        with self.assertLogs("odoo.addons.m365_sync.models.m365_subscription", "WARNING") as logs:
            wrong = self.post("/m365_sync/webhook", {"value": [self.genuine_item(adele, "guess")]})
        self.assertEqual(wrong.status_code, 202)
        self.assertNotIn("guess", "\n".join(logs.output))
        missing = dict(self.genuine_item(adele, None))
        del missing["clientState"]
        unknown = self.genuine_item(adele, "guess") | {"subscriptionId": "no-such-id"}
        for body in ({"value": [missing]}, {"value": [unknown]}, {"value": []}):
            self.assertEqual(self.post("/m365_sync/webhook", body).status_code, 202)
        adele.invalidate_recordset()
        self.assertFalse(adele.pending)
        self.assertEqual(adele.notification_count, before)

        bad = self.post("/m365_sync/webhook", b'{"value": [')
        self.assertEqual(bad.status_code, 400)
        self.assertTrue(bad.headers["Content-Type"].startswith("text/plain"))
        self.assertNotIn("Traceback", bad.text)
        huge = self.post("/m365_sync/webhook", b"{" + b" " * 1_100_000 + b"}")
        self.assertEqual(huge.status_code, 413)

        token = '<script>alert("x")</script>&amp; Validation: <b>bold</b>'
        answer = self.url_open("/m365_sync/webhook", data=b"", params={"validationToken": token})
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.text, token)
        self.assertTrue(answer.headers["Content-Type"].startswith("text/plain"))
        self.assertEqual(answer.headers["X-Content-Type-Options"], "nosniff")
        lifecycle = self.url_open(
            "/m365_sync/webhook/lifecycle", data=b"", params={"validationToken": token}
        )
        self.assertEqual(lifecycle.text, token)

        # The genuine secret (known only to the sync) is accepted.
        secret = "known-" + "x" * 40
        adele.write({"client_state": secret, "client_state_digest": client_state_digest(secret)})
        m365_subscription._DIGESTS.clear()
        ok = self.post("/m365_sync/webhook", {"value": [self.genuine_item(adele, secret)]})
        self.assertEqual(ok.status_code, 202)
        adele.invalidate_recordset()
        self.assertTrue(adele.pending)

    def test_lifecycle_events(self):
        rows = self._active()
        adele = rows.filtered(lambda r: r.user_id == self.adele)
        first = adele.graph_id
        self.assertTrue(self.hub.send_lifecycle(first, "reauthorizationRequired"))
        self.deliver()
        self.assertEqual(adele.state, "reauthorize")
        self.sandbox.log.clear()
        self.keep_subscriptions()
        self.assertEqual(adele.state, "active")
        self.assertTrue(
            any(r.path.endswith(f"{first}/reauthorize") for r in self.sandbox.log.records())
        )

        self.assertTrue(self.hub.send_lifecycle(first, "missed"))
        self.deliver()
        self.assertTrue(adele.pending)
        self.SubJob._m365_dispatch_notifications()
        adele.invalidate_recordset()
        self.assertFalse(adele.pending)

        self.assertTrue(self.hub.send_lifecycle(first, "subscriptionRemoved"))
        self.deliver()
        self.assertEqual(adele.state, "new")
        self.assertTrue(adele.pending)
        self.keep_subscriptions()
        self.assertEqual(adele.state, "active")
        self.assertNotEqual(adele.graph_id, first)
        self.assertTrue(self.hub.get(adele.graph_id))

    def test_renewal_recreation_and_cleanup(self):
        rows = self._active()
        adele = rows.filtered(lambda r: r.user_id == self.adele)
        old_expiry = adele.expiration
        adele.write({"renew_at": fields.Datetime.now() - timedelta(minutes=1)})
        self.sandbox.log.clear()
        self.keep_subscriptions()
        patches = [r for r in self.sandbox.log.records() if r.method == "PATCH"]
        self.assertEqual(len(patches), 1, "only the due subscription is renewed")
        self.assertGreaterEqual(adele.expiration, old_expiry)
        self.assertTrue(adele.last_renewed)
        self.assertGreater(adele.renew_at, fields.Datetime.now())

        # Graph dropped it: the renewal's 404 creates it again.
        gone = adele.graph_id
        self.hub.remove(gone)
        adele.write({"renew_at": fields.Datetime.now() - timedelta(minutes=1)})
        self.keep_subscriptions()
        self.assertEqual(adele.state, "active")
        self.assertNotEqual(adele.graph_id, gone)

        # At most RENEW_PER_RUN per run, unless one is about to lapse.
        rows.write({"renew_at": fields.Datetime.now() - timedelta(minutes=1)})
        self.sandbox.log.clear()
        with patch.object(m365_job_subscription, "RENEW_PER_RUN", 1):
            self.keep_subscriptions()
        patches = [r for r in self.sandbox.log.records() if r.method == "PATCH"]
        self.assertEqual(len(patches), 1)
        self.assertEqual(len(rows.filtered(lambda r: r.renew_at <= fields.Datetime.now())), 2)

        # Busy time switched off: every subscription is deleted at Graph, rows too.
        self.tenant.busy_sync = False
        self.keep_subscriptions()
        self.assertFalse(self.Sub.search([("kind", "=", "busy")]))
        self.assertFalse(self.hub.active())
        self.assertEqual(self.tenant._m365_poll_minutes(15, "busy"), 15)

    def test_no_public_url_means_polling(self):
        self.tenant.write({"notification_base_url": "http://odoo.example.com"})
        self.keep_subscriptions()
        self.assertFalse(self.Sub.search([]))
        self.assertFalse(self.tenant.notifications_active)
        self.assertIn("not https", self.tenant.notifications_status)
        self.assertEqual(self.tenant._m365_poll_minutes(15, "busy"), 15)
        self.tenant.write({"notification_base_url": "https://odoo.example.com"})
        self.assertIn("Waiting", self.tenant.notifications_status)
        self.tenant.write({"notifications_enabled": False})
        self.assertIn("switched off", self.tenant.notifications_status)

    def test_failed_handshake_is_kept_on_the_row(self):
        # Odoo's public URL answers nothing Graph accepts: the creation fails, the row
        # keeps the error and is retried later.
        self.tenant.write({"notification_base_url": "http://127.0.0.1:9"})
        self.keep_subscriptions()
        rows = self.Sub.search([("kind", "=", "busy"), ("state", "!=", "unmatched")])
        self.assertEqual(len(rows), 3)
        self.assertEqual(set(rows.mapped("state")), {"failed"})
        self.assertIn("validation request failed", rows[0].last_error)
        self.assertTrue(rows[0].retry_at > fields.Datetime.now())


@tagged("post_install", "-at_install")
class TestPersonalNotifications(NotifyMixin, PersonalSyncMixin, M365SandboxHttpCase):
    def test_delegated_subscription_pull_and_cleanup(self):
        account = self.connect(upn=ADELE, direction="down")
        self.assertTrue(self.sync(account)[0])
        self.keep_subscriptions()
        row = self.Sub.search([("account_id", "=", account.id)])
        self.assertEqual(row.state, "active", row.last_error)
        self.assertEqual(row.resource, "me/events")
        sub = self.hub.get(row.graph_id)
        self.assertIsNotNone(sub.creator_id, "a delegated subscription")
        self.assertEqual(self.tenant._m365_poll_minutes(30, "personal", account=account), 240)

        self.sandbox.state.add_event(
            ADELE,
            "Dentist",
            fields.Datetime.now() + timedelta(days=2),
            fields.Datetime.now() + timedelta(days=2, hours=1),
        )
        self.deliver()
        self.assertTrue(row.pending)
        self.SubJob._m365_dispatch_notifications()
        self.assertEqual(self.events(account).mapped("name"), ["Dentist"])

        # The account is removed: its subscription is deleted at Graph.
        graph_id = row.graph_id
        account.unlink()
        self.keep_subscriptions()
        self.assertFalse(row.exists())
        self.assertIsNone(self.hub.get(graph_id))


@tagged("post_install", "-at_install")
class TestNotificationLogging(NotifyMixin, BusyCase, M365SandboxHttpCase):
    def test_a_flood_is_logged_once(self):
        m365_subscription._dropped["since"] = 0.0
        with self.assertLogs(
            "odoo.addons.m365_sync.models.m365_subscription", logging.WARNING
        ) as logs:
            for n in range(20):
                body = {"value": [{"subscriptionId": f"forged-{n}", "clientState": "x"}]}
                self.assertEqual(self.post("/m365_sync/webhook", body).status_code, 202)
        self.assertEqual(len(logs.output), 1)
