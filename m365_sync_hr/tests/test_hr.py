"""Time off and work location to Outlook, Outlook absences to time off requests, against
the sandbox: all-day and timed (half day) leaves, DST, edits after the export,
refusal, overlapping leaves, stretches of work location, idempotent imports."""

from datetime import date, datetime, timedelta
from unittest.mock import patch

from odoo.addons.m365_sync.tests.common import ADELE, MEGAN, M365SandboxCase
from odoo.tests import new_test_user, tagged

from m365_graph.sync.absences import absence_payload

ROLES = ["User.Read.All", "Calendars.ReadWrite"]


class HrMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.write({"hr_absence_export": True, "connection_state": "unchecked"})
        cls.leave_type = cls.env["hr.leave.type"].create(
            {
                "name": "Paid time off (test)",
                "requires_allocation": False,
                "request_unit": "half_day",
            }
        )
        cls.users = {}
        cls.employees = {}
        for login, upn, tz in (
            ("m365_hr_adele", ADELE, "Europe/Brussels"),
            ("m365_hr_megan", MEGAN, "America/New_York"),
        ):
            user = new_test_user(cls.env, login=login, groups="base.group_user", email=upn, tz=tz)
            cls.users[upn] = user
            cls.employees[upn] = cls.env["hr.employee"].create(
                {"name": login, "user_id": user.id, "tz": tz, "work_email": upn}
            )

    def setUp(self):
        super().setUp()
        self.sandbox.state.set_app_roles(ROLES)
        for upn in (ADELE, MEGAN):
            for event in self.sandbox.state.events(upn):
                self.sandbox.state.delete_event(upn, event["id"])
        patcher = patch.object(
            type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf")
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    def drain(self):
        self.env["m365.job.outbox"]._m365_cron()
        self.env.invalidate_all()

    def outlook(self, upn=ADELE):
        return self.sandbox.state.events(upn)

    def leave(self, upn=ADELE, first=None, last=None, **values):
        first = first or date.today() + timedelta(days=7)
        leave = (
            self.env["hr.leave"]
            .with_context(leave_skip_state_check=True)
            .create(
                {
                    "employee_id": self.employees[upn].id,
                    "holiday_status_id": self.leave_type.id,
                    "request_date_from": first,
                    "request_date_to": last or first,
                    **values,
                }
            )
        )
        return leave


@tagged("post_install", "-at_install")
class TestAbsencesUp(HrMixin, M365SandboxCase):
    def test_validated_time_off_is_away_all_day_and_refused_removes_it(self):
        leave = self.leave(last=date.today() + timedelta(days=9))
        self.drain()
        self.assertEqual(self.outlook(), [], "not validated: nothing in Outlook")
        leave.action_approve()
        self.assertEqual(leave.state, "validate")
        self.drain()
        [event] = self.outlook()
        self.assertEqual((event["showAs"], event["isAllDay"]), ("oof", True))
        self.assertEqual(event["categories"], ["Odoo"])
        self.assertEqual(event["subject"], "Out of office")
        first = date.today() + timedelta(days=7)
        self.assertTrue(event["start"]["dateTime"].startswith(first.isoformat()))
        self.assertTrue(
            event["end"]["dateTime"].startswith((first + timedelta(days=3)).isoformat())
        )
        self.assertEqual(leave.m365_outlook_state, "In Outlook")
        # A drain with nothing new writes nothing.
        self.sandbox.log.clear()
        self.drain()
        self.assertFalse(
            [r for r in self.sandbox.log if r.method != "GET" and "/oauth2/" not in r.path]
        )
        # Edited after the export: the same event moves.
        leave.write({"request_date_to": first + timedelta(days=4)})
        self.drain()
        [moved] = self.outlook()
        self.assertEqual(moved["id"], event["id"])
        self.assertTrue(
            moved["end"]["dateTime"].startswith((first + timedelta(days=5)).isoformat())
        )
        leave.action_refuse()
        self.drain()
        self.assertEqual(self.outlook(), [])

    def test_validated_then_refused_before_the_drain_sends_nothing(self):
        leave = self.leave()
        leave.action_approve()
        leave.action_refuse()
        self.assertFalse(self.env["m365.outbox"].search([("res_model", "=", "hr.leave")]))
        self.drain()
        self.assertEqual(self.outlook(), [])

    def test_half_day_is_timed_in_the_employee_zone(self):
        leave = self.leave(upn=MEGAN, request_date_from_period="am", request_date_to_period="am")
        leave.action_approve()
        self.drain()
        [event] = self.outlook(MEGAN)
        self.assertFalse(event["isAllDay"])
        self.assertEqual(event["showAs"], "oof")
        # Sent on the employee's wall clock, read back in UTC: the leave's own moments.
        self.assertEqual(
            absence_payload(leave._m365_absence()).payload["start"]["timeZone"],
            "Eastern Standard Time",
        )
        self.assertEqual(event["start"]["dateTime"][:16], leave.date_from.isoformat()[:16])
        self.assertEqual(event["end"]["dateTime"][:16], leave.date_to.isoformat()[:16])

    def test_time_off_across_a_dst_change_keeps_its_days(self):
        year = date.today().year + 1
        leave = self.leave(first=date(year, 3, 27), last=date(year, 3, 31))
        leave.action_approve()
        self.drain()
        [event] = self.outlook()
        self.assertEqual(event["start"]["dateTime"][:10], f"{year}-03-27")
        self.assertEqual(event["end"]["dateTime"][:10], f"{year}-04-01")
        self.assertEqual(
            absence_payload(leave._m365_absence()).payload["start"]["timeZone"],
            "Romance Standard Time",
        )

    def test_leaves_of_two_employees_and_no_double_after_a_lost_answer(self):
        one = self.leave()
        two = self.leave(upn=MEGAN)
        (one | two).action_approve()
        # The first answers are lost: the outbox sends again, Graph dedupes on transactionId.
        self.sandbox.faults.add(kind="drop_after", path=r"/\$batch", times=2)
        self.drain()
        self.env["m365.outbox"].sudo().search([]).write({"next_attempt": datetime.now()})
        self.drain()
        self.assertEqual(len(self.outlook()), 1)
        self.assertEqual(len(self.outlook(MEGAN)), 1)

    def test_switch_off_sends_nothing(self):
        self.tenant.hr_absence_export = False
        leave = self.leave()
        leave.action_approve()
        self.drain()
        self.assertEqual(self.outlook(), [])


@tagged("post_install", "-at_install")
class TestWorkLocationUp(HrMixin, M365SandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        address = cls.env.company.partner_id
        Location = cls.env["hr.work.location"]
        cls.home = Location.create(
            {"name": "Home", "location_type": "home", "address_id": address.id}
        )
        cls.hq = Location.create(
            {"name": "HQ", "location_type": "office", "address_id": address.id}
        )
        cls.lab = Location.create(
            {"name": "Lab", "location_type": "office", "address_id": address.id}
        )
        cls.tenant.write(
            {
                "hr_location_export": True,
                "hr_default_location_id": cls.hq.id,
                "hr_location_days": 14,
            }
        )

    def stretches(self, upn=ADELE):
        return self.env["m365.work.location.event"].search(
            [("employee_id", "=", self.employees[upn].id)], order="first_day"
        )

    def test_one_event_per_stretch_and_nothing_for_the_default(self):
        employee = self.employees[ADELE]
        week = dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday"), self.hq)
        week.update(thursday=self.home, friday=self.home)
        employee.write({f"{day}_location_id": loc.id for day, loc in week.items()})
        found = self.stretches()
        self.assertEqual(len(found), 2, "two weeks: two Thursday-Friday stretches")
        self.assertTrue(all(s.subject == "Remote work" for s in found))
        self.assertTrue(all((s.last_day - s.first_day).days == 1 for s in found))
        self.drain()
        events = self.outlook()
        self.assertEqual(len(events), 2)
        self.assertEqual({e["showAs"] for e in events}, {"workingElsewhere"})
        # Nothing changed: a refresh writes nothing.
        self.sandbox.log.clear()
        self.env["m365.work.location.event"]._m365_refresh(employee)
        self.drain()
        self.assertFalse([r for r in self.sandbox.log if r.method in ("POST", "PATCH", "DELETE")])
        # An exceptional day at the lab on the first remote Thursday splits it.
        thursday = found[0].first_day
        self.env["hr.employee.location"].create(
            {"employee_id": employee.id, "date": thursday, "work_location_id": self.lab.id}
        )
        subjects = sorted(self.stretches().mapped("subject"))
        self.assertEqual(subjects, ["Office: Lab", "Remote work", "Remote work"])
        self.drain()
        self.assertEqual(len(self.outlook()), 3)
        # Back to the default everywhere: every event removed.
        employee.write({"thursday_location_id": self.hq.id, "friday_location_id": self.hq.id})
        self.env["hr.employee.location"].search([("employee_id", "=", employee.id)]).unlink()
        self.drain()
        self.assertEqual(self.outlook(), [])
        self.assertFalse(self.stretches())


@tagged("post_install", "-at_install")
class TestAbsencesDown(HrMixin, M365SandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.write(
            {
                "hr_absence_export": False,
                "hr_absence_import": True,
                "hr_absence_threshold_hours": 4,
                "hr_absence_leave_type_id": cls.leave_type.id,
            }
        )

    def slot(
        self, event_id, start, stop, *, show_as="oof", all_day=False, categories=False, upn=ADELE
    ):
        return (
            self.env["m365.busy.slot"]
            .sudo()
            .create(
                {
                    "company_id": self.env.company.id,
                    "user_id": self.users[upn].id,
                    "event_id": event_id,
                    "start": start,
                    "stop": stop,
                    "all_day": all_day,
                    "show_as": show_as,
                    "categories": categories,
                }
            )
        )

    def run_job(self):
        run = self.env["m365.job.absences"]._m365_run_unit(
            {"tenant": self.tenant.id}, due_only=False
        )
        self.env.invalidate_all()
        return run

    def requests(self):
        return self.env["hr.leave"].search(
            [("m365_outlook_event_id", "!=", False)], order="request_date_from"
        )

    def test_out_of_office_becomes_one_request_to_approve(self):
        start = datetime.combine(date.today() + timedelta(days=10), datetime.min.time())
        self.slot("holiday", start, start + timedelta(days=2), all_day=True)
        self.slot("short", start + timedelta(days=5, hours=9), start + timedelta(days=5, hours=10))
        self.slot(
            "busy",
            start + timedelta(days=6),
            start + timedelta(days=7),
            show_as="busy",
            all_day=True,
        )
        self.slot(
            "ours",
            start + timedelta(days=8),
            start + timedelta(days=9),
            all_day=True,
            categories="Odoo",
        )
        run = self.run_job()
        self.assertEqual(run.state, "done", run.message)
        [request] = self.requests()
        self.assertEqual(request.state, "confirm", "never approved automatically")
        self.assertEqual(
            (request.request_date_from, request.request_date_to),
            (start.date(), start.date() + timedelta(days=1)),
        )
        # Idempotent: a second run creates nothing.
        self.run_job()
        self.assertEqual(len(self.requests()), 1)
        # Refused by the manager: not created again either.
        request.action_refuse()
        self.run_job()
        self.assertEqual(len(self.requests().filtered(lambda r: r.state != "refuse")), 0)

    def test_recurring_series_one_request_per_occurrence_and_no_overlap(self):
        start = datetime.combine(date.today() + timedelta(days=14), datetime.min.time())
        for week in range(3):
            day = start + timedelta(days=7 * week)
            self.slot(f"series_{week}", day, day + timedelta(days=1), all_day=True)
        # The last one overlaps time off the employee already has.
        self.leave(first=(start + timedelta(days=14)).date())
        self.run_job()
        self.assertEqual(len(self.requests()), 2)
        self.run_job()
        self.assertEqual(len(self.requests()), 2)

    def test_a_long_timed_absence_counts_and_the_threshold_holds(self):
        start = datetime.combine(date.today() + timedelta(days=20), datetime.min.time())
        self.slot("afternoon", start + timedelta(hours=12), start + timedelta(hours=17))
        self.run_job()
        self.assertEqual(len(self.requests()), 1)


@tagged("post_install", "-at_install")
class TestAutoReplies(HrMixin, M365SandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.write(
            {
                "hr_auto_replies": True,
                "hr_absence_import": True,
                "hr_absence_leave_type_id": cls.leave_type.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.sandbox.state.set_app_roles([*ROLES, "MailboxSettings.ReadWrite"])
        self.sandbox.state.mailbox_settings.clear()
        for employee in self.employees.values():
            employee.sudo().m365_auto_reply_key = False

    def run_job(self):
        run = self.env["m365.job.auto_replies"]._m365_run_unit(
            {"tenant": self.tenant.id}, due_only=False
        )
        self.env.invalidate_all()
        return run

    def replies(self, upn):
        record = self.sandbox.state.user_record(upn)
        return self.sandbox.state.mailbox_settings[record.props["id"]]["automaticRepliesSetting"]

    def test_time_off_schedules_replies_once_and_refusal_switches_them_off(self):
        leave = self.leave()
        leave.action_approve()
        run = self.run_job()
        self.assertEqual(run.state, "done", run.message)
        replies = self.replies(ADELE)
        self.assertEqual(replies["status"], "scheduled")
        self.assertTrue(
            replies["scheduledStartDateTime"]["dateTime"].startswith(
                leave.date_from.strftime("%Y-%m-%dT%H:%M")
            )
        )
        self.assertFalse(
            self.env["hr.leave"].search([("m365_outlook_event_id", "like", "autoreply:")]),
            "Odoo's own schedule is not an absence from Outlook",
        )
        self.sandbox.log.clear()
        self.run_job()
        self.assertFalse([r for r in self.sandbox.log if r.method == "PATCH"], "nothing twice")
        leave.action_refuse()
        self.run_job()
        self.assertEqual(self.replies(ADELE)["status"], "disabled")

    def test_replies_set_in_outlook_are_kept_and_become_a_request(self):
        start = datetime.combine(date.today() + timedelta(days=21), datetime.min.time())
        record = self.sandbox.state.user_record(MEGAN)
        self.run_job()
        self.sandbox.state.mailbox_settings[record.props["id"]]["automaticRepliesSetting"].update(
            status="scheduled",
            scheduledStartDateTime={"dateTime": start.isoformat(), "timeZone": "UTC"},
            scheduledEndDateTime={
                "dateTime": (start + timedelta(days=2)).isoformat(),
                "timeZone": "UTC",
            },
        )
        self.leave(upn=MEGAN, first=start.date() + timedelta(days=7)).action_approve()
        self.run_job()
        self.assertEqual(self.replies(MEGAN)["status"], "scheduled")
        self.assertTrue(
            self.replies(MEGAN)["scheduledStartDateTime"]["dateTime"].startswith(
                start.date().isoformat()
            )
        )
        [request] = self.env["hr.leave"].search([("m365_outlook_event_id", "like", "autoreply:")])
        self.assertEqual(request.state, "confirm")
        self.assertEqual(request.request_date_to, start.date() + timedelta(days=1))
        self.run_job()
        self.assertEqual(
            len(self.env["hr.leave"].search([("m365_outlook_event_id", "like", "autoreply:")])), 1
        )

    def test_without_the_permission_the_run_says_so(self):
        self.sandbox.state.set_app_roles(ROLES)
        run = self.run_job()
        self.assertEqual(run.state, "failed")
        self.assertIn("MailboxSettings", run.message)
