"""Planned activities in the workload: planned hours next to Outlook busy time."""

from datetime import timedelta, timezone

from odoo.tests import tagged

from .busy_common import MONDAY, BusyCase, _at


def utc(day, hour):
    return _at(day, hour).astimezone(timezone.utc).replace(tzinfo=None)


@tagged("post_install", "-at_install")
class TestActivityWorkload(BusyCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.project_export = True
        cls.project = cls.env["project.project"].create(
            {"name": "Workload project", "m365_export": True}
        )
        cls.task = cls.env["project.task"].create(
            {"name": "Plan the work", "project_id": cls.project.id}
        )

    def schedule(self, user, summary, start=None, hours=None, deadline=MONDAY):
        return self.env["mail.activity"].create(
            {
                "res_model_id": self.env["ir.model"]._get_id("project.task"),
                "res_id": self.task.id,
                "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
                "summary": summary,
                "user_id": user.id,
                "date_deadline": deadline,
                "m365_planned_start": start,
                "m365_planned_duration": hours,
            }
        )

    def test_planned_hours_next_to_busy_time_and_the_exported_event_counted_once(self):
        self.event("Megan Bowen", MONDAY, 14, 15)  # a meeting in Outlook
        planned = self.schedule(self.megan, "Two hours", start=utc(MONDAY, 10), hours=2)
        self.schedule(self.megan, "Deadline only")  # 09:00, the project's 30 minutes
        self.env["m365.job.outbox"]._m365_cron()
        self.assertEqual(len(self.sandbox.state.events(self.upn["Megan Bowen"])), 3)
        self.import_busy()
        # The exported events are imported as busy slots like any appointment...
        self.assertEqual(len(self.slots(self.megan)), 3)
        row = self.day(self.megan, MONDAY)
        # ...but count once, as planned hours: 1 h busy, 2.5 h planned.
        self.assertRecordValues(
            row,
            [{"capacity_hours": 8.0, "busy_hours": 1.0, "planned_hours": 2.5, "free_hours": 4.5}],
        )
        # Moving the activity to Tuesday moves its planned hours.
        planned.write({"date_deadline": MONDAY + timedelta(days=1)})
        self.assertEqual(self.day(self.megan, MONDAY).planned_hours, 0.5)
        self.assertEqual(self.day(self.megan, MONDAY + timedelta(days=1)).planned_hours, 2.0)
        # Done: no longer planned work.
        planned.action_done()
        self.assertEqual(self.day(self.megan, MONDAY + timedelta(days=1)).planned_hours, 0.0)

    def test_a_second_import_without_change_writes_nothing(self):
        self.schedule(self.megan, "Two hours", start=utc(MONDAY, 10), hours=2)
        self.env["m365.job.outbox"]._m365_cron()
        self.import_busy()
        row = self.day(self.megan, MONDAY)
        stamp = row.write_date
        run = self.import_busy()
        self.assertRecordValues(run, [{"created": 0, "updated": 0, "deleted": 0}])
        row.invalidate_recordset()
        self.assertEqual(row.write_date, stamp)
        self.assertEqual(row.planned_hours, 2.0)
