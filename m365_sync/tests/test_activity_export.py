"""Activities of exporting projects in the assignee's Outlook calendar."""

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .activity_common import ActivityMixin, day, next_weekday
from .common import ADELE, MEGAN, M365SandboxCase


def utc(day_, hour):
    """``hour`` o'clock in Brussels on ``day_``, as naive UTC (the sandbox answers in UTC)."""
    local = datetime.combine(day_, time(hour), ZoneInfo("Europe/Brussels"))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


@tagged("post_install", "-at_install")
class TestActivityExport(ActivityMixin, M365SandboxCase):
    # -- which activities ------------------------------------------------------------

    def test_existing_activities_are_not_exported(self):
        project = self.env["project.project"].create({"name": "Bathroom"})
        task = self.env["project.task"].create({"name": "Plumbing", "project_id": project.id})
        before = self.activity(record=task, summary="Existed before")
        project.m365_export = True
        after = self.activity(record=task, summary="Scheduled after")
        self.assertFalse(before.m365_export)
        self.assertTrue(after.m365_export)
        before.write({"summary": "Edited after the switch", "m365_planned_duration": 2})
        self.assertFalse(self.queued(before), "an activity that existed before is never sent")
        self.drain()
        self.assertEqual([e["subject"] for e in self.remote()], ["Scheduled after"])
        self.assertEqual(self.status(before)[0], "none")
        self.assertIn("created before", self.status(before)[1])

    def test_activities_of_other_records_and_projects_are_not_exported(self):
        other = self.env["project.project"].create({"name": "Not exporting"})
        task = self.env["project.task"].create({"name": "Elsewhere", "project_id": other.id})
        partner = self.env["res.partner"].create({"name": "A supplier"})
        partner_activity = self.activity(record=partner, by=self.env.ref("base.user_admin"))
        task_activity = self.activity(record=task)
        self.assertFalse(partner_activity.m365_export or task_activity.m365_export)
        self.assertFalse(partner_activity.m365_export_enabled or task_activity.m365_export_enabled)
        self.assertTrue(self.activity().m365_export_enabled)
        self.assertFalse(self.queued(partner_activity | task_activity))

    def test_an_activity_on_the_project_itself_is_exported(self):
        activity = self.planned(record=self.project, summary="Steering meeting")
        self.assertTrue(activity.m365_export_enabled)
        self.drain()
        [event] = self.remote()
        self.assertEqual(event["subject"], "Steering meeting")
        self.assertIn(f"res_id={self.project.id}", event["body"]["content"])

    # -- the event -------------------------------------------------------------------

    def test_the_assignees_own_account_writes_the_event(self):
        activity = self.planned(
            days=3, hour=8, minute=30, hours=1.5, note="<p>Ask for <b>prices</b></p>"
        )
        [item] = self.queued(activity)
        self.assertRecordValues(
            item,
            [
                {
                    "writer": "delegated",
                    "account_id": self.account.id,
                    "mailbox": "me",
                    "user_id": self.manager.id,
                    "operation": "create",
                }
            ],
        )
        self.assertFalse(self.writes(), "Graph is never called inside the user's transaction")
        self.assertEqual(self.status(activity)[0], "waiting")
        run = self.drain()
        self.assertRecordValues(run, [{"state": "done", "created": 1}])
        [event] = self.remote()
        self.assertEqual(event["subject"], "Call the supplier")
        self.assertEqual(event["categories"], ["Odoo"])
        self.assertEqual(event["showAs"], "busy")
        self.assertEqual(event["attendees"], [], "nobody is invited")
        self.assertEqual(self.sandbox.state.sent_meeting_mail, [])
        self.assertIn("<b>prices</b>", event["body"]["content"])
        self.assertIn(
            f"/mail/view?model=project.task&amp;res_id={self.task.id}", event["body"]["content"]
        )
        self.assertIn("Order the tiles", event["body"]["content"])
        # 08:30 UTC is 09:30 or 10:30 in Brussels, written in the user's zone.
        start = self.remote_start(event)
        end = datetime.fromisoformat(event["end"]["dateTime"][:19])
        self.assertEqual(end - start, timedelta(hours=1.5))
        self.assertEqual(event["originalStartTimeZone"], "Romance Standard Time")
        state, text = self.status(activity)
        self.assertEqual(state, "exported")
        self.assertIn("In Outlook", text)
        link = self.env["m365.event.link"]._m365_links_of(activity)
        self.assertRecordValues(
            link,
            [{"graph_event_id": event["id"], "user_id": self.user.id, "origin": "odoo"}],
        )

    def test_without_planned_start_the_due_date_at_the_working_day_start(self):
        # The company's standard calendar starts at 08:00 (Brussels) on weekdays.
        wednesday = next_weekday(2)
        self.activity(date_deadline=wednesday, summary="Deadline only")
        self.drain()
        [event] = self.remote()
        self.assertEqual(self.remote_start(event), utc(wednesday, 8))
        start = self.remote_start(event)
        end = datetime.fromisoformat(event["end"]["dateTime"][:19])
        self.assertEqual(end - start, timedelta(minutes=30), "the project's default duration")

    def test_a_day_without_working_time_starts_at_nine(self):
        saturday = next_weekday(5)
        self.activity(date_deadline=saturday, summary="Weekend")
        self.drain()
        [event] = self.remote()
        self.assertEqual(self.remote_start(event), utc(saturday, 9))

    def test_default_duration_types_and_limits(self):
        self.project.write(
            {
                "m365_export_default_duration": 0.75,
                "m365_export_type_ids": self.types("mail.mail_activity_data_todo"),
            }
        )
        self.activity(summary="Default length")
        self.planned(days=4, hours=0, summary="Zero")
        long = self.planned(days=5, hours=30, summary="Three days")
        call = self.activity(summary="A call", activity_type_id=self.call.id)
        self.assertTrue(call.m365_export, "scheduled in an exporting project")
        self.assertFalse(self.queued(call), "but its type is not exported")
        [long_item] = self.queued(long)
        self.assertIn("above 24 h", long_item.notes)
        run = self.drain()
        self.assertIn("above 24 h", run.skipped_details)
        lengths = {
            e["subject"]: datetime.fromisoformat(e["end"]["dateTime"][:19]) - self.remote_start(e)
            for e in self.remote()
        }
        self.assertEqual(
            lengths,
            {
                "Default length": timedelta(minutes=45),
                "Zero": timedelta(minutes=45),
                "Three days": timedelta(hours=24),
            },
        )

    def test_a_user_without_time_zone_gets_utc_and_a_note(self):
        self.user.tz = False
        try:
            activity = self.planned(days=3, hour=14, hours=1)
            [item] = self.queued(activity)
            self.assertIn("no time zone", item.notes)
            self.drain()
            [event] = self.remote()
            self.assertEqual(event["originalStartTimeZone"], "UTC")
            self.assertEqual(self.remote_start(event), day(3, 14))
        finally:
            self.user.tz = "Europe/Brussels"

    # -- the writers -----------------------------------------------------------------

    def test_the_application_permission_writes_to_a_colleague_without_account(self):
        activity = self.planned(user=self.other_user, summary="For Megan")
        [item] = self.queued(activity)
        self.assertRecordValues(
            item, [{"writer": "application", "account_id": False, "mailbox": MEGAN}]
        )
        run = self.drain()
        self.assertRecordValues(run, [{"state": "done", "created": 1}])
        [event] = self.remote(MEGAN)
        self.assertEqual(event["subject"], "For Megan")
        self.assertFalse(self.remote(ADELE))
        self.assertEqual(self.status(activity)[0], "exported")

    def test_the_assigners_shared_access_when_the_application_permission_is_missing(self):
        self.app_permission_known_missing()
        self.give_shared_access(self.manager, "alex.wilber@contoso.onmicrosoft.com", MEGAN)
        activity = self.planned(user=self.other_user, summary="Through the share")
        [item] = self.queued(activity)
        manager_account = (
            self.env["m365.account"].sudo().search([("user_id", "=", self.manager.id)])
        )
        self.assertRecordValues(
            item,
            [{"writer": "delegated", "account_id": manager_account.id, "mailbox": MEGAN}],
        )
        run = self.drain()
        self.assertRecordValues(run, [{"state": "done", "created": 1}])
        [event] = self.remote(MEGAN)
        self.assertEqual(event["subject"], "Through the share")
        self.assertEqual(self.status(activity)[0], "exported")

    def test_403_of_the_application_permission_fails_once_and_tells_the_assigner(self):
        self.sandbox.state.set_app_roles(["User.Read.All"])  # not tested: tried, refused
        activity = self.planned(user=self.other_user, summary="Refused")
        self.drain()
        state, text = self.status(activity)
        self.assertEqual(state, "failed")
        self.assertIn("Not exported", text)
        self.assertIn("Calendars.ReadWrite", text)
        [note] = self.notes()
        self.assertIn(self.manager.partner_id, note.partner_ids, "the assigner is told")
        self.assertFalse(self.remote(MEGAN))
        # No endless retries: later drains send nothing.
        self.sandbox.log.clear()
        self.make_due()
        self.drain()
        self.assertFalse(self.writes())
        self.assertEqual(self.status(activity)[0], "failed")
        # Once the permission is granted, Retry exports it.
        self.sandbox.state.set_app_roles(["User.Read.All", "Calendars.ReadWrite"])
        activity.with_user(self.manager).action_m365_export_retry()
        self.drain()
        self.assertEqual(len(self.remote(MEGAN)), 1)
        self.assertEqual(self.status(activity)[0], "exported")

    def test_403_of_a_calendar_not_shared_for_writing(self):
        self.app_permission_known_missing()
        self.give_shared_access(self.manager, "alex.wilber@contoso.onmicrosoft.com")
        activity = self.planned(user=self.other_user, summary="Not shared")
        self.drain()
        state, text = self.status(activity)
        self.assertEqual(state, "failed")
        self.assertIn("Calendars.ReadWrite.Shared", text)
        self.assertTrue(self.notes())
        self.assertFalse(self.remote(MEGAN))

    def test_no_way_to_write_queues_nothing_and_says_why(self):
        self.app_permission_known_missing()
        activity = self.planned(user=self.other_user, summary="Nobody can write")
        self.assertFalse(self.queued(activity))
        state, text = self.status(activity)
        self.assertEqual(state, "failed")
        self.assertIn("Calendars.ReadWrite.Shared", text)
        self.assertIn("Up or Up and Down", text)
        [note] = self.notes()
        self.assertIn(self.manager.partner_id, note.partner_ids)
        # Editing again does not repeat the same message.
        activity.write({"summary": "Still nobody"})
        self.assertEqual(len(self.notes()), 1)

    def test_assignee_without_mailbox(self):
        self.other_user.email = False
        activity = self.planned(user=self.other_user)
        self.assertFalse(self.queued(activity))
        self.assertIn("no Microsoft 365 mailbox", self.status(activity)[1])

    # -- the dialogs -----------------------------------------------------------------

    def test_the_schedule_dialog_hands_over_the_planned_time(self):
        Wizard = self.env["mail.activity.schedule"].with_user(self.manager)
        context = {"active_model": "project.task", "active_ids": self.task.ids}
        wizard = Wizard.with_context(**context).create(
            {
                "activity_type_id": self.todo.id,
                "summary": "From the dialog",
                "activity_user_id": self.user.id,
                "m365_planned_start": day(4, 13),
                "m365_planned_duration": 3.0,
            }
        )
        self.assertTrue(wizard.m365_export_enabled)
        wizard.action_schedule_activities()
        activity = self.task.activity_ids.filtered(lambda a: a.summary == "From the dialog")
        self.assertRecordValues(
            activity,
            [{"m365_planned_start": day(4, 13), "m365_planned_duration": 3.0, "m365_export": True}],
        )
        [item] = self.queued(activity)
        self.assertEqual(item.operation, "create")
        other = self.env["project.project"].create({"name": "Quiet"})
        task = self.env["project.task"].create({"name": "Quiet task", "project_id": other.id})
        quiet = Wizard.with_context(active_model="project.task", active_ids=task.ids).create(
            {"activity_type_id": self.todo.id, "activity_user_id": self.user.id}
        )
        self.assertFalse(quiet.m365_export_enabled, "no planned fields for other projects")

    def test_views_show_the_planned_fields(self):
        form = self.env["mail.activity"].get_view(
            self.env.ref("mail.mail_activity_view_form_popup").id, "form"
        )["arch"]
        self.assertIn('name="m365_planned_start"', form)
        self.assertIn('name="m365_export_status"', form)
        dialog = self.env["mail.activity.schedule"].get_view(view_type="form")["arch"]
        self.assertIn('name="m365_planned_duration"', dialog)
        project_form = self.env["project.project"].get_view(
            self.env.ref("project.edit_project").id, "form"
        )["arch"]
        self.assertIn('name="m365_export_type_ids"', project_form)

    def test_the_project_switch_needs_the_company_switch(self):
        self.tenant.project_export = False
        with self.assertRaises(ValidationError):
            self.env["project.project"].create({"name": "Too early", "m365_export": True})
        self.tenant.project_export = True

    def test_an_assignee_of_a_company_not_connected_to_microsoft_365(self):
        company = self.env["res.company"].create({"name": "Subsidiary"})
        outsider = self.env["res.users"].create(
            {
                "name": "Outsider",
                "login": "m365_outsider",
                "email": "alex.wilber@contoso.onmicrosoft.com",
                "company_id": company.id,
                "company_ids": [(6, 0, (company | self.env.company).ids)],
            }
        )
        activity = self.planned(user=outsider)
        self.assertFalse(self.queued(activity))
        self.assertIn("Subsidiary is not connected to Microsoft 365", self.status(activity)[1])

    # -- shared-calendar consent -----------------------------------------------------------

    def test_writing_colleagues_calendars_asks_calendars_readwrite_shared(self):
        account = self.account.with_user(self.user)
        self.assertNotIn("Calendars.ReadWrite.Shared", account._m365_consent_scopes())
        self.assertFalse(account._m365_can_write_shared())
        account.write({"write_shared": True})
        self.assertIn("Calendars.ReadWrite.Shared", account._m365_consent_scopes())
        self.assertTrue(account.consent_needed, "a new permission: sign in again")
        self.assertFalse(account._m365_can_write_shared(), "not granted yet")
        account = self.give_shared_access(self.user, ADELE)
        self.assertFalse(account.consent_needed)
        self.assertTrue(account._m365_can_write_shared())
        account.action_pause()
        self.assertFalse(account._m365_can_write_shared(), "a paused account writes nothing")

    # -- who sees what ----------------------------------------------------------------------

    def test_the_assigner_sees_and_retries_the_failed_row_others_do_not(self):
        self.sandbox.state.set_app_roles(["User.Read.All"])
        activity = self.planned(user=self.other_user)
        self.drain()
        rows = self.env["m365.outbox"].with_user(self.manager).search([])
        self.assertEqual(rows.res_id, activity.id, "the assigner sees the row of their change")
        self.assertFalse(self.env["m365.outbox"].with_user(self.other_user).search([]))
        self.assertTrue(rows.can_retry)
