"""Helpers of the activity-export tests: an exporting project, assignees, Outlook.

Adele (``self.user``) has a main account in Up and Down: her activities go to her
own calendar. Megan (``self.other_user``) has no account; her e-mail address is her
Microsoft 365 user name, so the tenant's application permission can reach her
calendar. The project manager (``self.manager``) assigns.
"""

from datetime import date, datetime, timedelta

from odoo import Command
from odoo.tests import new_test_user

from .common import ADELE, MEGAN
from .outbox_common import OutboxMixin, day

__all__ = ["ActivityMixin", "day", "next_weekday"]


def next_weekday(weekday, weeks=1):
    """The date of ``weekday`` (0 = Monday) in ``weeks`` weeks."""
    today = date.today()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
    return monday + timedelta(days=weekday)


class ActivityMixin(OutboxMixin):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.project_export = True
        cls.other_user.write({"email": MEGAN})
        cls.manager = new_test_user(
            cls.env,
            login="m365_pm",
            groups="base.group_user,project.group_project_manager",
            email="pm@odoo.example",
            tz="Europe/Brussels",
        )
        cls.project = cls.env["project.project"].create(
            {"name": "Kitchen renovation", "m365_export": True}
        )
        cls.task = cls.env["project.task"].create(
            {"name": "Order the tiles", "project_id": cls.project.id}
        )
        cls.todo = cls.env.ref("mail.mail_activity_data_todo")
        cls.call = cls.env.ref("mail.mail_activity_data_call")

    def setUp(self):
        super().setUp()
        for upn in (MEGAN,):
            for event in self.sandbox.state.events(upn):
                self.sandbox.state.delete_event(upn, event["id"])
        self.sandbox.state.shares.clear()

    # -- Odoo side --------------------------------------------------------------

    def activity(self, user=None, record=None, by=None, **values):
        record = record or self.task
        vals = {
            "res_model_id": self.env["ir.model"]._get_id(record._name),
            "res_id": record.id,
            "activity_type_id": self.todo.id,
            "summary": "Call the supplier",
            "date_deadline": next_weekday(2),
            "user_id": (user or self.user).id,
            **values,
        }
        return self.env["mail.activity"].with_user(by or self.manager).create(vals)

    def planned(self, days=3, hour=9, minute=0, hours=1.5, **values):
        """An activity planned ``days`` from now at ``hour`` UTC for ``hours``."""
        start = day(days, hour, minute)
        return self.activity(
            m365_planned_start=start,
            m365_planned_duration=hours,
            date_deadline=start.date(),
            **values,
        )

    def status(self, activity):
        activity.invalidate_recordset()
        return activity.m365_export_state, activity.m365_export_status

    def notes(self, record=None):
        """Chatter notes of the record telling someone an activity is not in Outlook."""
        record = record or self.task
        return self.env["mail.message"].search(
            [
                ("model", "=", record._name),
                ("res_id", "=", record.id),
                ("body", "ilike", "is not in their Outlook calendar"),
            ]
        )

    def give_shared_access(self, user, upn, owner_upn=None):
        """``user`` connects with Calendars.ReadWrite.Shared; ``owner_upn`` shares for writing."""
        Account = self.env["m365.account"]
        account = Account.sudo().search([("user_id", "=", user.id)], limit=1)
        if not account:
            account = Account.with_user(user).create({"direction": "down"})
        account.with_user(user).write({"write_shared": True})
        result, oid = self.sign_in(account, upn, scopes=account._m365_consent_scopes())
        account.sudo()._m365_store_connection(result, oid)
        if owner_upn:
            self.sandbox.state.share_calendar(owner_upn, upn, write=True)
        return account.sudo()

    def app_permission_known_missing(self):
        """Test connection with application roles lacking Calendars.ReadWrite."""
        self.sandbox.state.set_app_roles(["User.Read.All"])
        self.tenant.with_user(self.env.ref("base.user_admin")).action_test_connection()
        self.assertNotIn("Calendars.ReadWrite", self.tenant.granted_roles or "")

    # -- Outlook side --------------------------------------------------------------

    def remote(self, upn=ADELE, subject=None):
        events = self.outlook(upn)
        if subject is not None:
            events = [e for e in events if e["subject"] == subject]
        return events

    @staticmethod
    def remote_start(event):
        return datetime.fromisoformat(event["start"]["dateTime"][:19])

    def types(self, *refs):
        return [Command.set([self.env.ref(ref).id for ref in refs])]
