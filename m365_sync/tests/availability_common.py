"""Helpers of the availability tests: an organiser, colleagues in the sandbox tenant with
Outlook appointments, one person outside the tenant, and an Odoo appointment."""

from datetime import datetime, time, timedelta, timezone

from odoo import Command
from odoo.tests import new_test_user

from .common import ADELE, ALEX, MEGAN

UTC = timezone.utc
GUEST = "guest@fabrikam.example"


def next_tuesday():
    today = datetime.now(UTC).date() + timedelta(days=2)
    return today + timedelta(days=(1 - today.weekday()) % 7)


class AvailabilityMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.busy_sync = True
        cls.day = next_tuesday()
        cls.adele_user = new_test_user(
            cls.env, login="m365_av_adele", groups="base.group_user", email=ADELE, tz="UTC"
        )
        cls.organizer = cls.adele_user
        cls.megan_user = new_test_user(
            cls.env, login="m365_av_megan", groups="base.group_user", email=MEGAN, tz="UTC"
        )
        Partner = cls.env["res.partner"]
        cls.alex = Partner.create({"name": "Alex Wilber", "email": ALEX})
        cls.guest = Partner.create({"name": "Guest of Fabrikam", "email": GUEST})
        cls.project = cls.env["project.project"].create({"name": "Availability"})

    def setUp(self):
        super().setUp()
        state = self.sandbox.state
        for upn in (ADELE, MEGAN, ALEX):
            for event in state.events(upn):
                state.delete_event(upn, event["id"])
        state.add_event(ADELE, "My own focus time", self.at(8), self.at(8, 30))
        state.add_event(MEGAN, "Secret board meeting", self.at(10), self.at(11))
        state.add_event(MEGAN, "Maybe", self.at(11), self.at(11, 30), showAs="tentative")
        # Odoo-only: Alex is busy 11:30-12:00 in Odoo's calendar.
        self.env["calendar.event"].create(
            {
                "name": "Alex in Odoo",
                "start": self.at(11, 30),
                "stop": self.at(12),
                "partner_ids": [Command.set(self.alex.ids)],
                "user_id": self.megan_user.id,
            }
        )
        # The cache outlives a test's rollback (it lives in the worker): start empty.
        from ..models import m365_availability

        m365_availability._CACHE.clear()

    def at(self, hour, minute=0):
        return datetime.combine(self.day, time(hour, minute))

    def utc_slot(self, start_hour, end_hour, start_minute=0, end_minute=0):
        def iso(moment):
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "start": iso(self.at(start_hour, start_minute)),
            "end": iso(self.at(end_hour, end_minute)),
        }

    def people(self, count):
        Partner = self.env["res.partner"]
        partners = Partner
        for index in range(count):
            upn = f"av{index}@contoso.onmicrosoft.com"
            if self.sandbox.state.user_record(upn) is None:
                self.sandbox.state.add_user(f"Colleague {index}", upn=upn)
            partners |= Partner.create({"name": f"Colleague {index}", "email": upn})
        return partners

    def meeting(self, start=(10, 30), stop=(11, 30), partners=None):
        if partners is None:
            partners = (
                self.organizer.partner_id | self.megan_user.partner_id | self.alex | self.guest
            )
        return (
            self.env["calendar.event"]
            .with_user(self.organizer)
            .create(
                {
                    "name": "Planning",
                    "start": self.at(*start),
                    "stop": self.at(*stop),
                    "partner_ids": [Command.set(partners.ids)],
                }
            )
        )
