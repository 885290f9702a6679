"""Room calendars kept current by change notifications, over HTTP with the sandbox as
sender: one subscription per mapped room (application permission,
``users/{room mailbox}/events``), a booking made in Outlook reaches Odoo through the
webhook and the room unit of that one room — no room listing, no other room read —
and the subscriptions go when a room is unmapped or the feature switched off."""

from datetime import timedelta

from odoo.tests import tagged

from m365_graph.identity.auth import forget_apps

from .common import M365SandboxHttpCase
from .outbox_common import day
from .test_notifications import NotifyMixin
from .test_rooms import BAKER, RAINIER, RoomsMixin


@tagged("post_install", "-at_install")
class TestRoomNotifications(NotifyMixin, RoomsMixin, M365SandboxHttpCase):
    def setUp(self):
        super().setUp()
        self.tenant.write({"busy_sync": False, "personal_sync": False})
        self.run_rooms()
        self.Rooms = self.env["m365.job.rooms"]
        self.Run = self.env["m365.sync.run"]

    def room_rows(self):
        return self.Sub.search([("kind", "=", "room")])

    def outlook_booking(self, room, subject, start):
        return self.sandbox.state.add_event(
            room,
            subject,
            start,
            start + timedelta(hours=1),
            organizer={"emailAddress": {"name": "Megan Bowen", "address": "megan@contoso.example"}},
        )

    def test_a_booking_reaches_odoo_through_its_room_unit(self):
        self.keep_subscriptions()
        rooms = self.rooms().filtered(lambda r: r.active and r.mapped)
        rows = self.room_rows()
        self.assertEqual(rows.room_id, rooms, "one subscription per mapped room")
        self.assertEqual(set(rows.mapped("state")), {"active"}, rows.mapped("last_error"))
        rainier = rows.filtered(lambda r: r.room_id == self.room(RAINIER))
        self.assertEqual(rainier.resource, f"users/{RAINIER}/events")
        self.assertEqual(rainier.display_name, f"Room calendar: {self.room(RAINIER).name}")
        self.assertEqual(len(self.hub.active()), len(rows))
        # Notified rooms: the tenant's poll is only the safety net.
        self.assertEqual(self.tenant._m365_poll_minutes(15, "room"), 240)
        last = self.Rooms._m365_last_run({"tenant": self.tenant.id})
        last.start = last.start - timedelta(minutes=30)
        self.assertFalse(self.Rooms._m365_unit_due({"tenant": self.tenant.id}))

        self.outlook_booking(RAINIER, "Board meeting", day(1, 10))
        self.sandbox.log.clear()
        self.deliver()
        self.assertTrue(rainier.pending)
        self.assertFalse((rows - rainier).filtered("pending"))
        self.assertFalse(self.sandbox.log.records(), "the webhook itself reads nothing")

        self.SubJob._m365_dispatch_notifications()
        self.env.invalidate_all()
        [block] = self.blocks(RAINIER)
        self.assertEqual((block.origin, block.start), ("outlook", day(1, 10)))
        self.assertFalse(rainier.pending)
        self.assertFalse(self.room(RAINIER).sync_requested)
        run = self.Run.search([("unit_key", "=", f"rooms:room:{self.room(RAINIER).id}")], limit=1)
        self.assertEqual(run.state, "done", run.message)
        records = self.sandbox.log.records()
        paths = [r.path.lower() for r in records]
        self.assertTrue(any(RAINIER in p for p in paths), paths)
        self.assertFalse([p for p in paths if "/places" in p], "no room listing")
        others = [room.email for room in rooms - self.room(RAINIER)]
        self.assertFalse([p for p in paths if any(email in p for email in others)], paths)
        # One calendar read (and nothing for the answers: none is awaited).
        self.assertLessEqual(len(records), 2, paths)

        # Duplicates (the sandbox repeats updates) and a second pass change nothing.
        self.deliver()
        self.SubJob._m365_dispatch_notifications()
        self.SubJob._m365_dispatch_notifications()
        self.assertEqual(len(self.blocks(RAINIER)), 1)

    def test_unmapped_room_and_switched_off_feature_drop_the_subscriptions(self):
        self.keep_subscriptions()
        baker = self.room_rows().filtered(lambda r: r.room_id == self.room(BAKER))
        graph_id = baker.graph_id
        self.assertTrue(self.hub.get(graph_id))
        self.room(BAKER).mapped = False
        cron = self.env.ref("m365_sync.ir_cron_m365_subscriptions")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self.keep_subscriptions()
        self.assertFalse(baker.exists())
        self.assertIsNone(self.hub.get(graph_id))
        # Mapped again: watched again.
        self.room(BAKER).mapped = True
        self.keep_subscriptions()
        self.assertIn(self.room(BAKER), self.room_rows().room_id)
        # Archived: its subscription goes too.
        self.room(BAKER).active = False
        self.keep_subscriptions()
        self.assertNotIn(self.room(BAKER), self.room_rows().room_id)
        # Room calendars switched off: every room subscription is deleted at Graph.
        self.tenant.room_sync = False
        self.keep_subscriptions()
        self.assertFalse(self.room_rows())
        self.assertFalse(self.hub.active())
        self.assertEqual(self.tenant._m365_poll_minutes(15, "room"), 15)

    def test_without_calendars_read_the_subscription_names_it(self):
        self.sandbox.state.set_app_roles(["Place.Read.All", "Calendars.ReadBasic.All"])
        forget_apps()  # the app token of setUp's room import predates the new consent
        self.keep_subscriptions()
        rows = self.room_rows()
        self.assertTrue(rows)
        self.assertEqual(set(rows.mapped("state")), {"failed"})
        self.assertIn("Calendars.Read", rows[0].last_error)
        # Not every room is notified: the tenant keeps polling at its own interval.
        self.assertEqual(self.tenant._m365_poll_minutes(15, "room"), 15)
        self.tenant.action_test_connection()
        lines = {(line.feature, line.permission): line.state for line in self.tenant.permission_ids}
        self.assertEqual(lines[("change_notifications", "Calendars.Read")], "missing")
