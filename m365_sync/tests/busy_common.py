"""Test base of the busy-time and workload suites.

A sandbox tenant with the default seed's people, Odoo users whose e-mail is
theirs, a 09:00-17:00 Monday-to-Friday calendar in Europe/Berlin, and a fixed
"today" (Wednesday 2026-03-25) so the import window (7 days back, 90 ahead)
holds the European DST change of Sunday 2026-03-29. Every test starts from
empty calendars; committing is patched out (tests run in one transaction).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from odoo.tests.common import new_test_user

from .common import M365SandboxCase

TODAY = date(2026, 3, 25)  # a Wednesday
MONDAY = date(2026, 3, 30)  # the next Monday (CEST, UTC+2)
BERLIN = ZoneInfo("Europe/Berlin")
SECRET_SUBJECT = "Salary talk with Bob about the merger"


class BusyCase(M365SandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.write({"busy_sync": True})
        cls.Slot = cls.env["m365.busy.slot"]
        cls.Job = cls.env["m365.job.busy"]
        cls.Day = cls.env["m365.workload.day"]
        cls.Run = cls.env["m365.sync.run"]
        cls.upn = {u["displayName"]: u["userPrincipalName"] for u in cls.sandbox.state.users}
        cls.graph_id = {u["displayName"]: u["id"] for u in cls.sandbox.state.users}
        cls.nine_to_five = cls.env["resource.calendar"].create(
            {
                "name": "Nine to five",
                "tz": "Europe/Berlin",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {
                            "name": f"Day {weekday}",
                            "dayofweek": str(weekday),
                            "hour_from": 9,
                            "hour_to": 17,
                            "day_period": "full_day",
                        },
                    )
                    for weekday in range(5)
                ],
            }
        )
        cls.adele = cls._user("adele", "Adele Vance")
        cls.alex = cls._user("alex", "Alex Wilber")
        cls.megan = cls._user("megan", "Megan Bowen")

    @classmethod
    def _user(cls, login, display_name, calendar=True, **values):
        user = new_test_user(
            cls.env,
            login=login,
            groups="base.group_user,project.group_project_user",
            name=display_name,
            email=cls.upn.get(display_name, f"{login}@elsewhere.example"),
            tz="Europe/Berlin",
            **values,
        )
        if calendar:
            cls.env["resource.resource"].create(
                {
                    "name": display_name,
                    "user_id": user.id,
                    "calendar_id": cls.nine_to_five.id,
                    "tz": "Europe/Berlin",
                }
            )
        return user

    def setUp(self):
        super().setUp()
        state = self.sandbox.state
        for upn in self.upn.values():
            try:
                events = state.events(upn)
            except KeyError:  # no mailbox
                continue
            for event in events:
                state.delete_event(upn, event["id"])
        self.patch(type(self.env["ir.cron"]), "_commit_progress", _no_commit)
        self.patch(type(self.Job), "_m365_busy_today", lambda _self: TODAY)

    # -- helpers -------------------------------------------------------------------
    def event(self, name, day, start, end, subject=SECRET_SUBJECT, **props):
        """Add an appointment to ``name``'s calendar, local Berlin hours of ``day``."""
        return self.sandbox.state.add_event(
            self.upn[name], subject, _at(day, start), _at(day, end), **props
        )

    def all_day(self, name, day, days=1, **props):
        props.setdefault("showAs", "oof")
        return self.sandbox.state.add_event(
            self.upn[name],
            SECRET_SUBJECT,
            day,
            day + timedelta(days=days),
            isAllDay=True,
            **props,
        )

    def import_busy(self):
        run = self.Job._m365_import_busy(self.tenant)
        self.assertTrue(run, "the import ran")
        return run

    def day(self, user, when):
        self.env.cr.flush()  # runs scheduled recomputes (precommit hooks)
        row = self.Day.search([("user_id", "=", user.id), ("date", "=", when)])
        self.assertEqual(len(row), 1, f"one workload row for {user.name} on {when}")
        return row

    def slots(self, user):
        return self.Slot.search([("user_id", "=", user.id)], order="start")


def _at(day, hour):
    whole = int(hour)
    return datetime.combine(day, time(whole, round((hour - whole) * 60)), BERLIN)


def _no_commit(_self, processed=0, *, remaining=None, deactivate=False):
    return float("inf")
