"""An exported activity's life: reschedule, edit, reassign, done, cancel, delete, archive."""

from datetime import timedelta

from odoo.tests import tagged

from .activity_common import ActivityMixin, day
from .common import ADELE, MEGAN, M365SandboxCase


@tagged("post_install", "-at_install")
class TestActivityLifecycle(ActivityMixin, M365SandboxCase):
    def exported(self, **values):
        activity = self.planned(**values)
        self.drain()
        self.sandbox.log.clear()
        return activity

    def test_rescheduling_moves_the_event_and_its_planned_start(self):
        activity = self.exported(days=3, hour=9, hours=1)
        [before] = self.remote()
        activity.write({"date_deadline": activity.date_deadline + timedelta(days=2)})
        self.assertEqual(activity.m365_planned_start, day(5, 9), "moved by the same two days")
        [item] = self.queued(activity)
        self.assertEqual(item.operation, "update")
        self.drain()
        [after] = self.remote()
        self.assertEqual(after["id"], before["id"], "the same event, updated")
        self.assertEqual(self.remote_start(after), day(5, 9))
        self.assertEqual(len(self.writes("PATCH")), 1)
        self.assertFalse(self.writes("POST"))

    def test_edits_update_the_event_and_nothing_is_sent_twice(self):
        activity = self.exported(days=3, hour=9, hours=1)
        activity.write({"summary": "New summary", "note": "<p>New note</p>"})
        activity.write({"m365_planned_duration": 2.5})
        self.assertEqual(len(self.queued(activity)), 1, "coalesced into one update")
        run = self.drain()
        self.assertRecordValues(run, [{"updated": 1, "created": 0}])
        [event] = self.remote()
        self.assertEqual(event["subject"], "New summary")
        self.assertIn("New note", event["body"]["content"])
        self.assertEqual(self.remote_start(event) + timedelta(hours=2.5), day(3, 11, 30))
        # The same values again: nothing is queued or sent.
        self.sandbox.log.clear()
        link = self.env["m365.event.link"]._m365_links_of(activity)
        stamp = link.write_date
        activity.write({"summary": "New summary"})
        self.assertFalse(self.queued(activity))
        self.drain()
        self.assertFalse(self.writes())
        link.invalidate_recordset()
        self.assertEqual(link.write_date, stamp)

    def test_an_unrelated_change_queues_nothing(self):
        activity = self.exported()
        activity.write({"feedback": "Irrelevant"})
        self.assertFalse(self.queued(activity))
        # Project options that change no event, a rename of another field: nothing.
        self.project.write({"m365_export_keep_done": True, "m365_export_remove_future": True})
        self.project.write({"description": "<p>New description</p>"})
        self.task.write({"description": "<p>Details</p>", "priority": "1"})
        self.assertFalse(self.queued())
        self.drain()
        self.assertFalse(self.writes())

    def test_reassigning_deletes_from_the_old_calendar_and_creates_in_the_new(self):
        activity = self.exported(user=self.other_user, summary="Moving")
        [old] = self.remote(MEGAN)
        activity.with_user(self.manager).write({"user_id": self.user.id})
        items = self.queued(activity)
        self.assertEqual(
            sorted((i.operation, i.writer, i.mailbox) for i in items),
            [("create", "delegated", "me"), ("delete", "application", MEGAN)],
        )
        run = self.drain()
        self.assertFalse(self.remote(MEGAN), "gone from Megan's calendar")
        [new] = self.remote(ADELE)
        self.assertEqual(new["subject"], "Moving")
        self.assertNotEqual(new["id"], old["id"])
        links = self.env["m365.event.link"]._m365_links_of(activity)
        self.assertEqual(links.graph_event_id, new["id"])
        self.assertEqual(links.user_id, self.user)
        self.assertEqual(run.state, "done")

    def test_reassigning_before_the_drain_sends_only_the_final_calendar(self):
        activity = self.planned(user=self.other_user)
        activity.write({"user_id": self.user.id})
        self.assertEqual(self.queued(activity).mapped("operation"), ["create"])
        self.drain()
        self.assertFalse(self.remote(MEGAN))
        self.assertEqual(len(self.remote(ADELE)), 1)
        self.assertFalse(self.writes("DELETE"))

    def test_marking_done_removes_the_event(self):
        activity = self.exported()
        activity.action_done()
        self.assertFalse(activity.active)
        self.drain()
        self.assertFalse(self.remote())
        self.assertFalse(self.env["m365.event.link"]._m365_links_of(activity))

    def test_done_activities_can_stay_in_outlook_marked(self):
        self.project.m365_export_keep_done = True
        activity = self.exported(summary="Order tiles")
        activity.action_done()
        self.drain()
        [event] = self.remote()
        self.assertEqual(event["subject"], "Done: Order tiles")
        self.assertEqual(event["showAs"], "free")
        # Deleting the task keeps a done event that is over, as history.
        activity.write({"m365_planned_start": day(-2, 9), "date_deadline": day(-2).date()})
        self.drain()
        self.task.unlink()
        self.drain()
        self.assertEqual([e["subject"] for e in self.remote()], ["Done: Order tiles"])

    def test_cancelling_removes_the_event(self):
        activity = self.exported()
        activity.action_cancel()
        self.assertFalse(activity.exists())
        [item] = self.queued()
        self.assertEqual(item.operation, "delete")
        self.drain()
        self.assertFalse(self.remote())

    def test_created_and_cancelled_before_the_drain_sends_nothing(self):
        activity = self.planned()
        activity.unlink()
        self.assertFalse(self.queued())
        self.drain()
        self.assertFalse(self.writes())

    def test_deleting_the_task_removes_its_events(self):
        task = self.env["project.task"].create({"name": "Doomed", "project_id": self.project.id})
        self.exported(record=task, summary="Future work")
        self.exported(record=task, summary="Megan's", user=self.other_user)
        task.unlink()
        self.drain()
        self.assertFalse(self.remote(ADELE))
        self.assertFalse(self.remote(MEGAN))

    def test_archiving_the_project_removes_future_events_and_restoring_brings_them_back(self):
        future = self.exported(days=3, summary="Future")
        past = self.exported(days=-3, summary="Past")
        self.project.action_archive()
        self.drain()
        self.assertEqual([e["subject"] for e in self.remote()], ["Past"])
        self.project.action_unarchive()
        self.drain()
        self.assertEqual(sorted(e["subject"] for e in self.remote()), ["Future", "Past"])
        self.assertTrue(future.active and past.active)

    def test_archiving_or_moving_a_task_removes_its_future_events(self):
        other = self.env["project.project"].create({"name": "Not exporting"})
        self.exported(summary="On the task")
        self.task.project_id = other
        self.drain()
        self.assertFalse(self.remote())
        self.task.project_id = self.project
        self.drain()
        self.assertEqual(len(self.remote()), 1)
        self.task.action_archive()
        self.drain()
        self.assertFalse(self.remote())

    def test_switching_off_stops_new_exports_and_keeps_events(self):
        kept = self.exported(summary="Kept")
        self.project.m365_export = False
        self.drain()
        self.assertEqual([e["subject"] for e in self.remote()], ["Kept"])
        new = self.planned(summary="After the switch off")
        self.assertFalse(new.m365_export)
        kept.write({"summary": "Changed while off"})
        self.assertFalse(self.queued())
        self.drain()
        self.assertEqual([e["subject"] for e in self.remote()], ["Kept"])
        # Switched on again: the activity scheduled while on is brought up to date;
        # the one scheduled while off stays out.
        self.project.m365_export = True
        self.drain()
        self.assertEqual([e["subject"] for e in self.remote()], ["Changed while off"])

    def test_switching_off_can_remove_future_events(self):
        self.project.m365_export_remove_future = True
        self.exported(days=3, summary="Future")
        self.exported(days=-3, summary="Past")
        self.project.m365_export = False
        self.drain()
        self.assertEqual([e["subject"] for e in self.remote()], ["Past"])

    def test_a_type_taken_out_of_the_export_removes_future_events(self):
        self.exported(summary="A to-do")
        self.project.m365_export_type_ids = self.types("mail.mail_activity_data_call")
        self.drain()
        self.assertFalse(self.remote())

    def test_an_event_deleted_in_outlook_is_created_again_at_the_next_change(self):
        activity = self.exported(summary="Deleted in Outlook")
        [event] = self.remote()
        self.sandbox.state.delete_event(ADELE, event["id"])
        activity.write({"summary": "Changed in Odoo"})
        self.drain()
        [again] = self.remote()
        self.assertEqual(again["subject"], "Changed in Odoo")
        self.assertNotEqual(again["id"], event["id"])
        link = self.env["m365.event.link"]._m365_links_of(activity)
        self.assertEqual(link.graph_event_id, again["id"])

    def test_removing_the_assignee_removes_the_event(self):
        activity = self.exported(record=self.project)
        activity.write({"user_id": False})
        self.drain()
        self.assertFalse(self.remote())
        self.assertIn("nobody", self.status(activity)[1].lower())

    def test_throttling_and_outages_keep_the_change_in_the_outbox(self):
        self.sandbox.faults.add(status=503, path=r"/\$batch$", times=10)
        activity = self.planned(summary="During an outage")
        self.drain()
        [item] = self.queued(activity)
        self.assertEqual(item.state, "pending")
        self.assertTrue(item.last_error)
        state, text = self.status(activity)
        self.assertEqual(state, "waiting")
        self.assertIn("tried again automatically", text)
        self.sandbox.faults.clear()
        self.make_due()
        self.drain()
        self.assertEqual([e["subject"] for e in self.remote()], ["During an outage"])
        self.assertEqual(self.status(activity)[0], "exported")
