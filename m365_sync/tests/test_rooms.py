"""Rooms: import from /places, room calendars → Odoo blocks, appointments booking rooms
(through the organiser's account, or written into the room calendar) and the rooms'
answers, against the sandbox's booking assistant."""

from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import ADELE, M365SandboxCase
from .outbox_common import OutboxMixin, day

RAINIER = "rainier@contoso.onmicrosoft.com"
BAKER = "baker@contoso.onmicrosoft.com"
ROLES = ["User.Read.All", "Calendars.ReadWrite", "Place.Read.All"]


class RoomsMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.room_sync = True
        state = cls.sandbox.state
        if state.user_record(BAKER) is None:
            state.add_room("Baker", BAKER, capacity=4, building="Building 2", floor_number=3)

    def setUp(self):
        super().setUp()
        self.sandbox.state.set_app_roles(ROLES)
        for room in (RAINIER, BAKER):
            for event in self.sandbox.state.events(room):
                self.sandbox.state.delete_event(room, event["id"])
            self.sandbox.state.set_calendar_processing(room, allowConflicts=False)
            self.sandbox.state.block_app(room, False)
        # Committing inside a test is forbidden: the jobs' progress commits are no-ops.
        patcher = patch.object(
            type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf")
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def run_rooms(self, unit=None):
        unit = unit or {"tenant": self.tenant.id}
        run = self.env["m365.job.rooms"]._m365_run_unit(unit, due_only=False)
        self.env.invalidate_all()
        return run

    def rooms(self):
        return (
            self.env["m365.room"]
            .with_context(active_test=False)
            .search([("tenant_id", "=", self.tenant.id)])
        )

    def room(self, email):
        return self.rooms().filtered(lambda r: r.email == email)

    def blocks(self, email, origin=None):
        domain = [("room_id", "=", self.room(email).id)]
        if origin:
            domain.append(("origin", "=", origin))
        return self.env["m365.room.booking"].search(domain)


@tagged("post_install", "-at_install")
class TestRoomImport(RoomsMixin, M365SandboxCase):
    def test_rooms_are_imported_renamed_missing_then_archived(self):
        run = self.run_rooms()
        self.assertEqual(run.state, "done", run.message)
        baker = self.room(BAKER)
        self.assertEqual(
            (baker.name, baker.capacity, baker.building, baker.floor, baker.bookable),
            ("Baker", 4, "Building 2", "3", True),
        )
        self.assertTrue(self.room(RAINIER))
        # A second listing with no change writes no room.
        stamps = {room.id: room.write_date for room in self.rooms()}
        self.tenant.room_listed_at = False
        self.run_rooms()
        self.assertEqual(stamps, {room.id: room.write_date for room in self.rooms()})
        # Renamed in Microsoft 365: renamed in Odoo, same record.
        self.sandbox.state.update_user(BAKER, displayName="Baker (refurbished)")
        self.tenant.room_listed_at = False
        self.run_rooms()
        self.assertEqual(self.room(BAKER).name, "Baker (refurbished)")
        self.assertEqual(self.room(BAKER).id, baker.id)
        # Gone from the listing: marked missing (Places lags), archived after the grace.
        self.sandbox.state.update_room(BAKER, placesHidden=True)
        self.tenant.room_listed_at = False
        self.run_rooms()
        self.assertTrue(self.room(BAKER).missing_since)
        self.assertTrue(self.room(BAKER).active)
        self.room(BAKER).sudo().missing_since = datetime.now() - timedelta(days=4)
        self.tenant.room_listed_at = False
        self.run_rooms()
        self.assertFalse(self.room(BAKER).active)
        # Back in the listing: restored.
        self.sandbox.state.update_room(BAKER, placesHidden=False)
        self.tenant.room_listed_at = False
        self.run_rooms()
        self.assertTrue(self.room(BAKER).active)
        self.assertFalse(self.room(BAKER).missing_since)

    def test_without_place_read_all_the_run_says_so(self):
        self.sandbox.state.set_app_roles(["Calendars.ReadWrite"])
        run = self.run_rooms()
        self.assertEqual(run.state, "failed")
        self.assertIn("Place.Read.All", run.message)

    def test_managers_map_rooms_and_microsoft_365_keeps_its_fields(self):
        self.run_rooms()
        manager = new_test_user(
            self.env,
            login="m365_room_manager",
            groups="base.group_user,m365_sync.group_m365_manager",
        )
        room = self.room(BAKER).with_user(manager)
        with self.assertRaises(UserError):
            room.write({"capacity": 40})
        room.action_unmap()
        self.assertFalse(room.mapped)
        room.write({"show_titles": True, "name": "Baker room"})
        employee = new_test_user(self.env, login="m365_room_employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.room(BAKER).with_user(employee).write({"mapped": True})
        self.assertEqual(self.room(BAKER).with_user(employee).name, "Baker room")

    def test_permission_table_lists_rooms(self):
        self.tenant.action_test_connection()
        rows = {(line.feature, line.permission) for line in self.tenant.permission_ids}
        self.assertIn(("rooms", "Place.Read.All"), rows)


@tagged("post_install", "-at_install")
class TestRoomCalendars(RoomsMixin, M365SandboxCase):
    def setUp(self):
        super().setUp()
        self.run_rooms()

    def outlook_booking(self, room, subject, start, hours=1, organizer="Megan Bowen"):
        return self.sandbox.state.add_event(
            room,
            subject,
            start,
            start + timedelta(hours=hours),
            organizer={"emailAddress": {"name": organizer, "address": "megan@contoso.example"}},
        )

    def test_outlook_bookings_become_blocks_titles_only_when_allowed(self):
        start = day(1, 10)
        event = self.outlook_booking(RAINIER, "Board meeting", start)
        self.run_rooms()
        [block] = self.blocks(RAINIER)
        self.assertEqual(
            (block.origin, block.subject, block.organizer_name, block.start),
            ("outlook", False, "Megan Bowen", start),
        )
        self.room(RAINIER).show_titles = True
        self.run_rooms()
        self.assertEqual(self.blocks(RAINIER).subject, "Board meeting")
        self.room(RAINIER).show_titles = False
        self.assertFalse(self.blocks(RAINIER).subject, "titles go with the setting")
        # Nothing changed in Outlook: nothing written.
        self.room(RAINIER).show_titles = True
        self.run_rooms()
        stamp = self.blocks(RAINIER).write_date
        run = self.run_rooms()
        self.assertEqual(self.blocks(RAINIER).write_date, stamp)
        self.assertEqual((run.created, run.updated, run.deleted), (0, 0, 0))
        # Moved, then cancelled in Outlook.
        self.sandbox.state.update_event(
            RAINIER, event["id"], start=start + timedelta(hours=2), end=start + timedelta(hours=3)
        )
        self.run_rooms()
        self.assertEqual(self.blocks(RAINIER).start, start + timedelta(hours=2))
        self.sandbox.state.delete_event(RAINIER, event["id"])
        self.run_rooms()
        self.assertFalse(self.blocks(RAINIER))

    def test_room_unit_reads_one_room(self):
        self.outlook_booking(RAINIER, "A", day(1, 9))
        self.outlook_booking(BAKER, "B", day(1, 9))
        run = self.run_rooms({"room": self.room(BAKER).id})
        self.assertEqual(run.state, "done", run.message)
        self.assertTrue(self.blocks(BAKER))
        self.assertFalse(self.blocks(RAINIER))

    def test_a_room_mailbox_refusing_the_app_keeps_its_blocks(self):
        self.outlook_booking(RAINIER, "A", day(1, 9))
        self.outlook_booking(BAKER, "B", day(1, 9))
        self.run_rooms()
        self.sandbox.state.block_app(BAKER)
        self.outlook_booking(RAINIER, "C", day(2, 9))
        run = self.run_rooms()
        self.assertEqual(run.state, "failed")
        self.assertIn("ErrorAccessDenied", self.room(BAKER).last_error)
        self.assertEqual(len(self.blocks(BAKER)), 1, "kept as last read")
        self.assertEqual(len(self.blocks(RAINIER)), 2, "the other rooms go on")

    def test_unmapped_rooms_are_not_read(self):
        self.outlook_booking(BAKER, "B", day(1, 9))
        self.run_rooms()
        self.room(BAKER).mapped = False
        self.assertFalse(self.blocks(BAKER))
        self.outlook_booking(BAKER, "C", day(2, 9))
        self.run_rooms()
        self.assertFalse(self.blocks(BAKER))


@tagged("post_install", "-at_install")
class TestRoomBookingFromOdoo(RoomsMixin, OutboxMixin, M365SandboxCase):
    def setUp(self):
        super().setUp()
        self.run_rooms()

    def test_organiser_books_the_room_and_the_answer_comes_back(self):
        rainier = self.room(RAINIER)
        first = self.appointment("Planning", day(2, 9), m365_room_ids=[(6, 0, rainier.ids)])
        self.assertEqual(first.m365_room_booking_ids.response, "none")
        self.drain()
        [event] = self.outlook(ADELE)
        self.assertIn(
            {"type": "resource", "address": RAINIER},
            [
                {"type": a["type"], "address": a["emailAddress"]["address"]}
                for a in event["attendees"]
            ],
        )
        self.assertEqual(self.sandbox.state.sent_meeting_mail[0]["to"], [RAINIER], "only the room")
        # The room answered after the write: the room job reads it.
        self.run_rooms()
        self.assertEqual(first.m365_room_booking_ids.response, "accepted")
        self.assertEqual(
            len(self.blocks(RAINIER)), 1, "the room calendar's copy is the same booking"
        )
        # Double-booked: declined, shown on the appointment.
        second = self.appointment("Overlap", day(2, 9, 30), m365_room_ids=[(6, 0, rainier.ids)])
        self.drain()
        self.run_rooms()
        self.assertEqual(second.m365_room_booking_ids.response, "declined")
        self.assertIn("Declined", second.m365_room_booking_ids.response_note)
        # Moved to a free time: asked again, accepted.
        second.write({"start": day(2, 14), "stop": day(2, 15)})
        self.assertEqual(second.m365_room_booking_ids.response, "none")
        self.make_due()
        self.drain()
        self.run_rooms()
        self.assertEqual(second.m365_room_booking_ids.response, "accepted")
        # The room removed: released in the room calendar.
        second.write({"m365_room_ids": [(5, 0, 0)]})
        self.make_due()
        self.drain()
        self.assertFalse(second.m365_room_booking_ids)
        self.assertEqual(len(self.sandbox.state.events(RAINIER)), 1)
        # The appointment deleted: the room is free again.
        first.unlink()
        self.drain()
        self.assertEqual(self.sandbox.state.events(RAINIER), [])

    def test_no_account_writes_into_the_room_calendar(self):
        baker = self.room(BAKER)
        booked = self.appointment(
            "Walk-in", day(3, 9), user=self.other_user, m365_room_ids=[(6, 0, baker.ids)]
        )
        booking = booked.m365_room_booking_ids
        self.assertEqual(booking.via, "room")
        # Graph down: the row waits, nothing lost.
        self.sandbox.faults.add(status=503, path=r"/\$batch", times=None)
        self.drain()
        self.assertEqual(self.queued(booking).state, "pending")
        self.assertEqual(self.sandbox.state.events(BAKER), [])
        self.sandbox.faults.clear()
        self.make_due()
        self.drain()
        [event] = self.sandbox.state.events(BAKER)
        self.assertEqual(event["subject"], "Walk-in")
        self.assertEqual(booking.response, "accepted")
        # A second booking at the same time is declined, nothing written.
        clash = self.appointment(
            "Clash", day(3, 9), user=self.other_user, m365_room_ids=[(6, 0, baker.ids)]
        )
        self.assertEqual(clash.m365_room_booking_ids.response, "declined")
        self.assertFalse(self.queued(clash.m365_room_booking_ids))
        # ... unless the room allows double bookings.
        baker.allow_conflicts = True
        clash.write({"name": "Clash, allowed"})
        self.drain()
        self.assertEqual(len(self.sandbox.state.events(BAKER)), 2)
        # Poll: the bookings Odoo wrote are recognised, not added again.
        self.run_rooms()
        self.assertEqual(len(self.blocks(BAKER)), 2)
        # Cancelled: removed from the room calendar.
        booked.unlink()
        clash.unlink()
        self.drain()
        self.assertEqual(self.sandbox.state.events(BAKER), [])


@tagged("post_install", "-at_install")
class TestRoomSecurity(RoomsMixin, M365SandboxCase):
    def test_employees_see_their_companys_rooms_and_change_nothing(self):
        self.run_rooms()
        self.sandbox.state.add_event(
            RAINIER,
            "Secret board meeting",
            day(1, 9),
            day(1, 10),
            organizer={"emailAddress": {"name": "Megan", "address": "megan@contoso.example"}},
        )
        self.run_rooms()
        employee = new_test_user(self.env, login="m365_room_plain", groups="base.group_user")
        booking = self.blocks(RAINIER).with_user(employee)
        self.assertEqual(booking.organizer_name, "Megan")
        self.assertFalse(booking.subject, "titles are not even stored unless the room shows them")
        with self.assertRaises(AccessError):
            booking.write({"subject": "x"})
        with self.assertRaises(AccessError):
            booking.unlink()
        with self.assertRaises(AccessError):
            self.room(RAINIER).with_user(employee).write({"show_titles": True})
        # An employee books a room on their own appointment.
        event = (
            self.env["calendar.event"]
            .with_user(employee)
            .create(
                {
                    "name": "Mine",
                    "start": day(4, 9),
                    "stop": day(4, 10),
                    "m365_room_ids": [(6, 0, self.room(RAINIER).ids)],
                }
            )
        )
        self.assertEqual(event.m365_room_booking_ids.room_id, self.room(RAINIER))
        self.assertFalse(event.m365_room_booking_ids.subject, "the room does not show titles")
        # Another company sees neither the rooms nor their bookings.
        other = self.env["res.company"].create({"name": "Other company"})
        outsider = new_test_user(
            self.env,
            login="m365_room_outsider",
            groups="base.group_user",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        self.assertFalse(self.env["m365.room"].with_user(outsider).search([]))
        self.assertFalse(self.env["m365.room.booking"].with_user(outsider).search([]))
