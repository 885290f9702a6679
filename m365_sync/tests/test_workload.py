"""Workload days: both calculation modes, rules, time off, calendars, DST, views."""

import ast
from datetime import date, datetime, timedelta, timezone

from freezegun import freeze_time
from lxml import etree

from odoo.tests import tagged
from odoo.tests.common import new_test_user

from .busy_common import BERLIN, MONDAY, BusyCase

TODAY_MONDAY = date(2026, 3, 23)  # Monday of the week of "today" (2026-03-25)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
SATURDAY = MONDAY + timedelta(days=5)
DST_SUNDAY = date(2026, 3, 29)  # 02:00 CET -> 03:00 CEST in Europe/Berlin


@tagged("post_install", "-at_install")
class TestWorkload(BusyCase):
    def test_inloox_example_in_both_modes(self):
        # Working time 09:00-17:00, appointment 16:00-18:00.
        self.event("Adele Vance", MONDAY, 16, 18)
        self.import_busy()
        day = self.day(self.adele, MONDAY)
        self.assertEqual((day.capacity_hours, day.busy_hours), (8.0, 1.0), "exact: 1 hour")
        self.assertEqual((day.free_hours, day.load_percent), (7.0, 12.5))
        self.tenant.busy_mode = "daily"
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 2.0, "daily: in full")
        self.tenant.busy_mode = "exact"
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 1.0)

    def test_overlaps_count_once_and_all_day_takes_the_working_hours(self):
        self.event("Adele Vance", MONDAY, 10, 12)
        self.event("Adele Vance", MONDAY, 11, 13)
        self.event("Adele Vance", MONDAY, 11.5, 11.75, showAs="tentative")
        self.event("Adele Vance", MONDAY, 19, 20)  # evening: outside working time
        self.all_day("Adele Vance", TUESDAY, days=5)  # Tuesday to Saturday (Sunday excluded)
        self.event("Adele Vance", TUESDAY, 18, 19)
        self.import_busy()
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 3.0)
        for when in (TUESDAY, WEDNESDAY):
            self.assertEqual(self.day(self.adele, when).busy_hours, 8.0)
        self.assertEqual(self.day(self.adele, SATURDAY).busy_hours, 0.0)
        self.assertEqual(self.day(self.adele, SATURDAY).capacity_hours, 0.0)
        self.tenant.busy_mode = "daily"
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 4.0)
        self.assertEqual(self.day(self.adele, TUESDAY).busy_hours, 9.0, "all-day + evening call")
        self.assertEqual(self.day(self.adele, SATURDAY).busy_hours, 0.0, "no working hours")
        self.assertTrue(self.day(self.adele, TUESDAY).overloaded)

    def test_category_rules_ignore_case_and_spaces_and_recompute(self):
        self.Rule = self.env["m365.category.rule"]
        self.Rule.create({"name": "  focus   TIME "})
        self.event("Adele Vance", MONDAY, 9, 11, categories=["Focus time"])
        self.event("Adele Vance", MONDAY, 13, 14, categories=["Customer", " lunch  break"])
        self.import_busy()
        focus, lunch = self.slots(self.adele)
        self.assertTrue(focus.ignored)
        self.assertFalse(focus.counted)
        self.assertFalse(lunch.ignored)
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 1.0)

        rule = self.Rule.create({"name": "Lunch Break"})
        self.assertTrue(lunch.ignored, "re-marked at once")
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 0.0)
        rule.unlink()
        self.Rule.search([]).write({"active": False})
        self.assertFalse(focus.ignored)
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 3.0)

        with self.assertRaisesRegex(Exception, "already a rule"):
            self.Rule.create([{"name": "Customer"}, {"name": "customer "}])

    def test_time_off_reduces_capacity(self):
        resource = self.adele.resource_ids
        self.event("Adele Vance", WEDNESDAY, 12, 14)
        self.import_busy()
        self.assertEqual(self.day(self.adele, WEDNESDAY).busy_hours, 2.0)
        leave = self.env["resource.calendar.leaves"].create(
            {
                "name": "Dentist",
                "resource_id": resource.id,
                "calendar_id": self.nine_to_five.id,
                "date_from": _utc(WEDNESDAY, 13),
                "date_to": _utc(WEDNESDAY, 17),
            }
        )
        day = self.day(self.adele, WEDNESDAY)
        self.assertEqual((day.capacity_hours, day.busy_hours), (4.0, 1.0))
        # A public holiday (no resource) on Monday: nobody has capacity.
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Easter Monday",
                "calendar_id": self.nine_to_five.id,
                "date_from": _utc(MONDAY + timedelta(days=7), 0),
                "date_to": _utc(MONDAY + timedelta(days=7), 23.99),
            }
        )
        for user in self.adele | self.alex:
            self.assertEqual(self.day(user, MONDAY + timedelta(days=7)).capacity_hours, 0.0)
        leave.unlink()
        self.assertEqual(self.day(self.adele, WEDNESDAY).capacity_hours, 8.0)

    def test_calendar_changes_recompute_capacity(self):
        self.event("Adele Vance", MONDAY, 14, 16)
        self.import_busy()
        monday_line = self.nine_to_five.attendance_ids.filtered(lambda a: a.dayofweek == "0")
        monday_line.hour_to = 13
        day = self.day(self.adele, MONDAY)
        self.assertEqual((day.capacity_hours, day.busy_hours), (4.0, 0.0))
        # Moving Adele to another calendar (on her resource) recomputes her days too.
        short = self.nine_to_five.copy({"name": "Mornings"})
        short.attendance_ids.write({"hour_to": 12})
        self.adele.resource_ids.calendar_id = short
        self.assertEqual(self.day(self.adele, TUESDAY).capacity_hours, 3.0)
        # A new time zone moves her local day: 14:00-16:00 Berlin is 08:00-10:00 in New York.
        self.adele.resource_ids.calendar_id = self.nine_to_five
        monday_line.hour_to = 17
        self.adele.tz = "America/New_York"
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 1.0, "09:00-10:00 counts")

    def test_user_without_calendar_uses_the_company_working_hours(self):
        lynne = self._user("lynne", "Lynne Robbins", calendar=False)
        company_calendar = self.env.company.resource_calendar_id
        self.event("Lynne Robbins", MONDAY, 7, 9)
        run = self.import_busy()
        self.assertIn("1 user(s) have no working-time calendar", run.message)
        self.assertIn("working hours were used: Lynne Robbins.", run.message, "named")
        expected = sum(
            a.hour_to - a.hour_from
            for a in company_calendar.attendance_ids
            if a.dayofweek == "0" and a.day_period != "lunch" and not a.display_type
        )
        day = self.day(lynne, MONDAY)
        self.assertEqual(day.capacity_hours, expected)
        first_start = min(
            a.hour_from for a in company_calendar.attendance_ids if a.dayofweek == "0"
        )
        self.assertEqual(day.busy_hours, max(0.0, 9 - max(7, first_start)))

    def test_dst_change_day(self):
        # A calendar that works Sundays, 09:00-17:00, on the spring DST Sunday.
        self.nine_to_five.write(
            {
                "attendance_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Sunday",
                            "dayofweek": "6",
                            "hour_from": 9,
                            "hour_to": 17,
                            "day_period": "full_day",
                        },
                    )
                ]
            }
        )
        # 01:00-04:00 local is 2 real hours (02:00-03:00 does not exist that night);
        # 16:00-18:00 overlaps working time by 1 hour.
        self.event("Adele Vance", DST_SUNDAY, 1, 4)
        self.event("Adele Vance", DST_SUNDAY, 16, 18)
        self.import_busy()
        day = self.day(self.adele, DST_SUNDAY)
        self.assertEqual((day.capacity_hours, day.busy_hours), (8.0, 1.0))
        self.tenant.busy_mode = "daily"
        self.assertEqual(self.day(self.adele, DST_SUNDAY).busy_hours, 4.0)

    def test_load_of_a_group_is_weighted_by_capacity(self):
        self.event("Adele Vance", MONDAY, 9, 15)  # 6 of 8 h: 75 %
        self.event("Adele Vance", SATURDAY, 9, 10)  # no capacity: overloaded
        self.import_busy()
        self.tenant.busy_mode = "daily"
        saturday = self.day(self.adele, SATURDAY)
        self.assertEqual((saturday.load_percent, saturday.overloaded), (100.0, True))
        domain = [
            ("user_id", "=", self.adele.id),
            ("date", ">=", MONDAY),
            ("date", "<=", MONDAY + timedelta(days=6)),
        ]
        [(load,)] = self.Day._read_group(domain, aggregates=["load_percent:avg"])
        # (6 + 1) booked over 5 x 8 h of capacity, not the mean of seven daily figures.
        self.assertAlmostEqual(load, 100 * 7 / 40)
        overloaded = self.Day.search([*domain, ("overloaded", "=", True)])
        self.assertEqual(overloaded.mapped("date"), [SATURDAY])

    def test_excluded_users_leave_the_workload_and_come_back_when_included(self):
        self.event("Alex Wilber", MONDAY, 9, 11)
        self.event("Adele Vance", MONDAY, 9, 10)
        self.import_busy()
        self.assertEqual(self.day(self.alex, MONDAY).busy_hours, 2.0)
        self.alex.m365_busy_exclude = True
        self.env.cr.flush()
        alex_rows = [("user_id", "=", self.alex.id)]
        self.assertFalse(self.Day.search(alex_rows), "not shown as entirely free")
        # Nothing brings the rows back while excluded: imports, calendar changes, mode.
        self.import_busy()
        self.tenant.busy_mode = "daily"
        self.env.company.resource_calendar_id.attendance_ids[:1].hour_to = 13
        self.Day._m365_recompute({self.alex.id: {MONDAY, TUESDAY}})
        self.env.cr.flush()
        self.assertFalse(self.Day.search(alex_rows))
        self.assertEqual(self.day(self.adele, MONDAY).busy_hours, 1.0, "others unaffected")
        # Included again: the next import fills the days in.
        self.alex.m365_busy_exclude = False
        self.import_busy()
        self.assertEqual(self.day(self.alex, MONDAY).busy_hours, 2.0)

    def test_my_team_is_me_and_the_people_on_my_projects(self):
        manager = new_test_user(
            self.env, "pm", groups="base.group_user,project.group_project_manager", name="PM"
        )
        project = self.env["project.project"].create({"name": "Rollout", "user_id": manager.id})
        self.env["project.task"].create(
            {"name": "Train users", "project_id": project.id, "user_ids": [self.alex.id]}
        )
        closed = self.env["project.task"].create(
            {"name": "Old", "project_id": project.id, "user_ids": [self.megan.id]}
        )
        closed.state = "1_done"
        self.import_busy()
        Day = self.Day.with_user(manager)
        team = Day.search([("is_my_team", "=", True), ("date", "=", MONDAY)])
        self.assertEqual(team.user_id, self.alex, "the manager has no workload row himself")
        self.assertTrue(Day.browse(team.id).is_my_team)
        others = Day.search([("is_my_team", "=", False), ("date", "=", MONDAY)])
        self.assertEqual(others.user_id, self.adele | self.megan)

    def test_views_and_filters_load(self):
        self.import_busy()
        for view_type in ("pivot", "graph", "list", "search"):
            self.Day.get_view(view_type=view_type)
        for view_type in ("list", "form", "search"):
            self.Slot.get_view(view_type=view_type)
        self.env["m365.category.rule"].get_view(view_type="list")
        self.env["res.users"].get_view(self.env.ref("base.view_users_form").id)
        action = self.env.ref("m365_sync.action_m365_workload_day")
        self.assertIn("Exact working times", str(action.help))
        self.assertIn("Daily working hours", str(action.help))
        menu = self.env.ref("m365_sync.menu_m365_workload")
        self.assertEqual(menu.parent_id, self.env.ref("project.menu_project_report"))
        # The week filters follow the week of the user's language, as the pivot's
        # and graph's weekly grouping does: one week column, never two.
        arch = etree.fromstring(self.Day.get_view(view_type="search")["arch"])
        domains = {
            name: ast.literal_eval(arch.xpath(f"//filter[@name='{name}']")[0].get("domain"))
            for name in ("this_week", "next_week", "working_or_booked")
        }
        monday_first = self.env["res.lang"]._activate_lang("fr_FR")
        for lang, week_start in (("en_US", date(2026, 3, 22)), (monday_first.code, TODAY_MONDAY)):
            Day = self.Day.with_context(lang=lang)
            self.env.user.lang = lang
            with freeze_time("2026-03-25 12:00:00"):
                this_week = Day.search(domains["this_week"])
                next_week = Day.search(domains["next_week"])
            self.assertEqual(min(this_week.mapped("date")), week_start, lang)
            self.assertEqual(max(this_week.mapped("date")), week_start + timedelta(days=6))
            self.assertEqual(min(next_week.mapped("date")), week_start + timedelta(days=7))
            weeks = Day.formatted_read_group(
                [("id", "in", this_week.ids)], ["date:week"], ["__count"]
            )
            self.assertEqual(len(weeks), 1, f"{lang}: one week column, not two")
        self.env.user.lang = "en_US"
        # The default "Working or booked days" leaves out empty weekends, not booked ones.
        self.event("Adele Vance", SATURDAY, 9, 10)
        self.import_busy()
        self.tenant.busy_mode = "daily"  # a Saturday appointment counts
        self.env.cr.flush()
        shown = self.Day.search([*domains["working_or_booked"], ("user_id", "=", self.adele.id)])
        self.assertIn(SATURDAY, shown.mapped("date"), "booked time on a day off stays")
        self.assertNotIn(SATURDAY + timedelta(days=1), shown.mapped("date"))
        self.assertIn(MONDAY, shown.mapped("date"))
        graph = etree.fromstring(self.Day.get_view(view_type="graph")["arch"])
        self.assertEqual(graph.xpath("//field[@type='measure']/@name"), ["booked_hours"])
        # The pivot's weekly grouping with every measure, as the client asks for it.
        groups = self.Day.formatted_read_group(
            [],
            ["user_id", "date:week"],
            [
                "capacity_hours:sum",
                "busy_hours:sum",
                "planned_hours:sum",
                "booked_hours:sum",
                "free_hours:sum",
                "load_percent:avg",
            ],
        )
        self.assertTrue(groups)
        # Nothing planned shows 00:00, not an empty cell.
        self.assertEqual({group["planned_hours:sum"] for group in groups}, {0.0})


def _utc(day, hour):
    """Naive UTC (Odoo's form) of a Berlin wall-clock hour of ``day``."""
    whole = int(hour)
    minute = round((hour - whole) * 60)
    local = datetime(day.year, day.month, day.day, whole, minute, tzinfo=BERLIN)
    return local.astimezone(timezone.utc).replace(tzinfo=None)
