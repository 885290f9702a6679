"""The resource overview: people by days and weeks, coloured by load, with time off."""

from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests.common import new_test_user

from ..models.m365_resource_overview import load_state
from .busy_common import MONDAY, SECRET_SUBJECT, BusyCase

TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)


@tagged("post_install", "-at_install")
class TestResourceOverview(BusyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Overview = cls.env["m365.resource.overview"]

    def overview(self, **kwargs):
        self.env.cr.flush()
        return self.Overview.get_overview(start=str(MONDAY), **kwargs)

    def cells(self, data, user):
        (row,) = [row for row in data["rows"] if row["user_id"] == user.id]
        return row, {cell["key"]: cell for cell in row["cells"]}

    def test_load_states(self):
        self.assertEqual(load_state(8, 0), "free")
        self.assertEqual(load_state(8, 2), "booked")
        self.assertEqual(load_state(8, 6.4), "full")
        self.assertEqual(load_state(8, 9), "over")
        self.assertEqual(load_state(0, 1), "over", "booked on a day without working time")

    def test_people_by_days_coloured_by_load_with_time_off(self):
        self.event("Adele Vance", MONDAY, 8, 18)  # the whole working day and more
        self.event("Adele Vance", TUESDAY, 9, 11)
        resource = self.adele.resource_ids
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Dentist",
                "resource_id": resource.id,
                "calendar_id": self.nine_to_five.id,
                # 08:00-12:00 UTC = 10:00-14:00 in Berlin (CEST)
                "date_from": datetime.combine(WEDNESDAY, datetime.min.time()) + timedelta(hours=8),
                "date_to": datetime.combine(WEDNESDAY, datetime.min.time()) + timedelta(hours=12),
            }
        )
        self.import_busy()
        data = self.overview(span=7)
        self.assertEqual(data["start"], str(MONDAY))
        self.assertEqual(
            [c["key"] for c in data["columns"]][:3], [str(MONDAY), str(TUESDAY), str(WEDNESDAY)]
        )
        self.assertTrue(data["columns"][5]["weekend"])
        row, cells = self.cells(data, self.adele)
        self.assertFalse(row["tz_utc"])
        monday, tuesday, wednesday = (cells[str(d)] for d in (MONDAY, TUESDAY, WEDNESDAY))
        self.assertEqual((monday["capacity"], monday["busy"], monday["state"]), (8.0, 8.0, "full"))
        self.assertEqual(monday["load"], 100)
        self.assertEqual((tuesday["busy"], tuesday["free"], tuesday["state"]), (2.0, 6.0, "booked"))
        self.assertEqual(wednesday["off"], 4.0, "time off is shown")
        self.assertEqual(wednesday["capacity"], 4.0, "and reduces capacity")
        self.assertEqual(wednesday["state"], "free")
        self.assertEqual(row["totals"]["busy"], 10.0)
        # Weeks add the days up.
        weeks = self.overview(scale="week", span=2)
        _row, week_cells = self.cells(weeks, self.adele)
        first = week_cells[str(MONDAY)]
        self.assertEqual((first["busy"], first["off"]), (10.0, 4.0))
        self.assertEqual(weeks["columns"][0]["until"], str(MONDAY + timedelta(days=6)))
        self.assertEqual(weeks["next"], str(MONDAY + timedelta(weeks=2)))

    def test_filters_and_utc_people(self):
        self.event("Alex Wilber", MONDAY, 9, 10)
        self.event("Adele Vance", MONDAY, 9, 10)
        self.alex.tz = "UTC"
        self.import_busy()
        project = self.env["project.project"].create({"name": "Launch"})
        self.env["project.task"].create(
            {"name": "Plan", "project_id": project.id, "user_ids": [self.alex.id]}
        )
        data = self.overview(filters={"project_id": project.id})
        self.assertEqual([row["name"] for row in data["rows"]], ["Alex Wilber"])
        self.assertTrue(data["rows"][0]["tz_utc"])
        self.assertIn([project.id, "Launch"], data["filters"]["projects"])
        everyone = {row["name"] for row in self.overview()["rows"]}
        self.assertTrue({"Alex Wilber", "Adele Vance"} <= everyone)

    def test_a_cell_lists_its_busy_slots_to_managers_only(self):
        self.event("Adele Vance", MONDAY, 9, 10)
        self.import_busy()
        cell = self.Overview.get_cell(self.adele.id, str(MONDAY))
        self.assertTrue(cell["slots_visible"])
        (slot,) = cell["slots"]
        self.assertTrue(slot["counted"])
        self.assertEqual(slot["hours"], 1.0)
        self.assertNotIn(SECRET_SUBJECT, str(cell), "never a title")
        planner = new_test_user(
            self.env, login="planner", groups="base.group_user,project.group_project_user"
        )
        seen = self.Overview.with_user(planner).get_cell(self.adele.id, str(MONDAY))
        self.assertFalse(seen["slots_visible"])
        self.assertEqual(seen["slots"], [])
        outsider = new_test_user(self.env, login="outsider", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Overview.with_user(outsider).get_cell(self.adele.id, str(MONDAY))
        self.assertTrue(self.env.ref("m365_sync.action_m365_resource_overview").path)
