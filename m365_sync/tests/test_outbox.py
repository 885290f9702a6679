from odoo.exceptions import AccessError
from odoo.tests import tagged

from m365_graph import build_payload

from .common import ADELE, MEGAN, M365SandboxCase
from .outbox_common import OutboxMixin, day


@tagged("post_install", "-at_install")
class TestOutbox(OutboxMixin, M365SandboxCase):
    def test_a_new_appointment_is_queued_in_the_transaction_and_sent_after(self):
        event = self.appointment(
            "Customer call",
            start=day(2, 8),
            hours=1.5,
            location="Room 4",
            description="<p>Bring the <b>offer</b></p>",
        )
        [item] = self.queued(event)
        transaction_id = item.transaction_id
        self.assertEqual(item.operation, "create")
        self.assertEqual(item.account_id, self.account)
        self.assertEqual(item.user_id, self.user)
        self.assertTrue(item.transaction_id and item.payload_hash)
        self.assertFalse(self.writes(), "Graph is never called inside the user's transaction")
        trigger = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", self.env.ref("m365_sync.ir_cron_m365_outbox").id)]
        )
        self.assertTrue(trigger, "the drain runs right after the commit")

        run = self.drain()
        self.assertRecordValues(run, [{"state": "done", "created": 1, "skipped": 0}])
        self.assertFalse(self.queued(), "sent rows leave the outbox")
        [remote] = self.outlook()
        self.assertEqual(remote["subject"], "Customer call")
        self.assertEqual(remote["location"]["displayName"], "Room 4")
        self.assertIn("<b>offer</b>", remote["body"]["content"])
        self.assertEqual(remote["attendees"], [], "no invitation by default")
        # Sent in the user's zone (Windows name), at the same instant.
        self.assertEqual(remote["originalStartTimeZone"], "Romance Standard Time")
        self.assertEqual(remote["transactionId"], transaction_id)
        link = self.link(event)
        self.assertRecordValues(
            link,
            [
                {
                    "graph_event_id": remote["id"],
                    "change_key": remote["changeKey"],
                    "origin": "odoo",
                    "event_type": "singleInstance",
                }
            ],
        )
        self.assertTrue(link.pushed_hash and link.pulled_hash and link.synced_at)
        self.assertTrue(event.m365_link_ids)

    def test_a_rolled_back_transaction_sends_nothing(self):
        with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():
            self.appointment("Never saved")
            self.assertTrue(self.queued())
            _ = 1 / 0
        self.assertFalse(self.queued())
        self.drain()
        self.assertFalse(self.outlook())
        self.assertFalse(self.writes())

    def test_several_edits_before_a_drain_are_one_request(self):
        event = self.appointment("v1")
        event.write({"name": "v2"})
        event.write({"location": "Room 7"})
        event.write({"name": "v3"})
        self.assertEqual(len(self.queued(event)), 1)
        self.assertEqual(self.queued(event).operation, "create")
        self.drain()
        self.assertEqual(len(self.writes("POST")), 1)
        [remote] = self.outlook()
        self.assertEqual((remote["subject"], remote["location"]["displayName"]), ("v3", "Room 7"))

        self.sandbox.log.clear()
        event.write({"name": "v4"})
        event.write({"start": day(3, 10), "stop": day(3, 11)})
        event.write({"name": "v5"})
        [item] = self.queued(event)
        self.assertEqual(item.operation, "update")
        self.drain()
        [patch] = self.writes()
        self.assertEqual(patch.method, "PATCH")
        self.assertTrue(patch.headers.get("if-match") or patch.headers.get("If-Match"))
        [remote] = self.outlook()
        self.assertEqual(remote["subject"], "v5")
        self.assertTrue(remote["start"]["dateTime"].startswith(day(3, 10).strftime("%Y-%m-%dT")))

    def test_created_and_deleted_before_a_drain_sends_nothing(self):
        event = self.appointment("Short-lived")
        event.unlink()
        self.assertFalse(self.queued())
        self.drain()
        self.assertFalse(self.writes())

    def test_nothing_to_send_writes_nothing(self):
        event = self.appointment("Stable")
        self.drain()
        link = self.link(event)
        runs = self.env["m365.sync.run"].search_count([("kind", "=", "outbox")])
        self.sandbox.log.clear()
        # A save of the same values, and a change Outlook does not show.
        event.write({"name": "Stable"})
        event.write({"res_model_id": False})
        self.assertFalse(self.queued())
        with self.assert_no_writes(link, event):
            self.drain()
        self.assertFalse(self.writes())
        self.assertEqual(
            self.env["m365.sync.run"].search_count([("kind", "=", "outbox")]),
            runs,
            "an empty outbox opens no run",
        )

    def test_deleting_and_archiving_delete_the_outlook_event(self):
        one = self.appointment("Deleted", start=day(2))
        two = self.appointment("Archived", start=day(3))
        self.drain()
        self.assertEqual(len(self.outlook()), 2)
        one.unlink()
        two.action_archive()
        self.assertEqual(sorted(self.queued().mapped("operation")), ["delete", "delete"])
        run = self.drain()
        self.assertEqual(run.deleted, 2)
        self.assertFalse(self.outlook())
        self.assertFalse(self.link(two))
        # Restoring an archived appointment sends it again.
        two.action_unarchive()
        self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Archived"])

    def test_a_pull_right_after_a_push_changes_nothing(self):
        event = self.appointment("Pushed")
        self.drain()
        links = self.link(event)
        with self.assert_no_writes(event, links):
            outcome, run = self.sync(self.account)
        self.assertTrue(outcome, self.account.last_error)
        self.assertRecordValues(run, [{"created": 0, "updated": 0, "deleted": 0}])
        self.assertEqual(self.events(self.account), event)

    def test_changes_pulled_from_outlook_are_not_sent_back(self):
        remote = self.sandbox.state.add_event(
            ADELE, "From Outlook", day(4).replace(tzinfo=None), day(4, 10)
        )
        self.sync(self.account)
        [event] = self.events(self.account)
        self.assertFalse(self.queued(), "the pull's own writes are not queued")
        self.sandbox.state.update_event(ADELE, remote["id"], subject="Renamed in Outlook")
        self.sync(self.account)
        self.assertEqual(event.name, "Renamed in Outlook")
        self.assertFalse(self.queued())
        # Edited in Odoo: goes back to the same Outlook event, no copy.
        event.with_user(self.user).write({"name": "Renamed in Odoo"})
        self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Renamed in Odoo"])
        self.assertEqual(self.link(event).origin, "outlook")
        _outcome, run = self.sync(self.account)
        self.assertRecordValues(run, [{"created": 0, "updated": 0, "deleted": 0}])

    def test_appointments_of_another_account_are_not_copied_to_the_main_one(self):
        second = self.connect(MEGAN, direction="down")
        self.assertFalse(second.is_main)
        self.sandbox.state.add_event(MEGAN, "Megan's mailbox", day(5), day(5, 10))
        self.sync(second)
        [event] = self.events(second)
        event.with_user(self.user).write({"name": "Edited"})
        self.assertFalse(self.queued())

    def test_only_up_and_both_main_accounts_upload(self):
        self.account.sudo().direction = "down"
        self.appointment("Down only")
        self.assertFalse(self.queued())
        self.account.sudo().direction = "up"
        self.appointment("Up")
        self.assertEqual(len(self.queued()), 1)
        self.tenant.personal_sync = False
        self.appointment("Switched off")
        self.assertEqual(len(self.queued()), 1)
        self.tenant.personal_sync = True
        # Someone else's appointment goes to their own account (none here), not Adele's.
        self.appointment("Megan's", user=self.other_user)
        self.assertEqual(len(self.queued()), 1)

    def test_invitations_only_when_the_user_asks(self):
        guests = self.env["res.partner"].create(
            [
                {"name": "Megan", "email": MEGAN},
                {"name": "No e-mail"},
            ]
        )
        event = self.appointment(
            "Meeting", partner_ids=[(6, 0, (guests | self.user.partner_id).ids)]
        )
        self.drain()
        [remote] = self.outlook()
        self.assertEqual(remote["attendees"], [])
        self.assertEqual(self.sandbox.state.sent_meeting_mail, [], "nobody was e-mailed")
        event.write({"name": "Meeting (renamed)"})
        self.drain()
        self.assertEqual(self.sandbox.state.sent_meeting_mail, [], "not on updates either")
        self.account.with_user(self.user).write({"send_invitations": True})
        event.write({"name": "Meeting (invitations)"})
        run = self.drain()
        [remote] = self.outlook()
        self.assertEqual([a["emailAddress"]["address"] for a in remote["attendees"]], [MEGAN])
        self.assertIn("No e-mail", run.skipped_details, "the attendee left out is reported")
        [mail] = self.sandbox.state.sent_meeting_mail
        self.assertEqual(mail["to"], [MEGAN])
        self.assertEqual(run.updated, 1)

    def test_bad_input_is_pushed_adapted(self):
        zero = self.appointment("Zero length", start=day(6, 9), hours=0)
        long_text = "<p>" + "word " * 40000 + "</p>"
        html = self.appointment("HTML", start=day(6, 11), description=long_text)
        strange = self.appointment("Unknown zone", start=day(6, 13), event_tz=False)
        strange.user_id.sudo().tz = False
        strange.write({"name": "Unknown zone (UTC)"})
        run = self.drain()
        self.assertEqual(run.created, 3)
        remote = {e["subject"]: e for e in self.outlook()}
        z = remote["Zero length"]
        self.assertEqual(z["start"]["dateTime"], z["end"]["dateTime"])
        self.assertIn("shortened", remote["HTML"]["body"]["content"])
        self.assertIn("shortened", run.skipped_details)
        self.assertEqual(remote["Unknown zone (UTC)"]["originalStartTimeZone"], "UTC")
        self.assertTrue(zero.m365_link_ids and html.m365_link_ids)

    def test_security_users_see_their_own_changes(self):
        mine = self.appointment("Mine")
        other_account = self.connect(MEGAN, user=self.other_user, direction="up")
        theirs = self.appointment("Theirs", user=self.other_user)
        self.assertEqual(self.queued(theirs).account_id, other_account)
        Outbox = self.env["m365.outbox"]
        self.assertEqual(Outbox.with_user(self.user).search([]), self.queued(mine))
        self.assertEqual(Outbox.with_user(self.other_user).search([]), self.queued(theirs))
        self.assertEqual(self.account.with_user(self.user).outbox_pending_count, 1)

    def test_only_the_owner_or_a_manager_retries(self):
        event = self.appointment("Failed")
        item = self.queued(event)
        item.write({"state": "failed", "last_error": "refused"})
        with self.assertRaises(AccessError):
            item.with_user(self.other_user).action_retry()
        item.with_user(self.user).action_retry()
        self.assertEqual(item.state, "pending")

    def test_removing_the_account_keeps_the_appointments_made_in_odoo(self):
        event = self.appointment("Made in Odoo")
        self.drain()
        self.sandbox.state.add_event(ADELE, "From Outlook", day(8), day(8, 10))
        self.sync(self.account)
        self.assertEqual(len(self.events(self.account)), 2)
        self.appointment("Still waiting")
        self.account.unlink()
        self.assertTrue(event.exists(), "an appointment made in Odoo stays")
        self.assertFalse(self.env["calendar.event"].search([("name", "=", "From Outlook")]))
        self.assertFalse(self.queued(), "its waiting changes go with the account")
        self.assertEqual(len(self.outlook()), 2, "nothing changes in Outlook")

    def test_a_row_can_be_written_with_the_application_permission_to_another_calendar(self):
        """What activity export needs: any record, any mailbox, the app's token."""
        event = self.appointment("Written by the app", user=self.other_user)
        built = build_payload(event._m365_appointment(self.account))
        entry = event._m365_outbox_entry("create", self.account, built)
        entry.update(writer="application", account_id=False, mailbox=MEGAN)
        self.env["m365.outbox"]._m365_enqueue([entry])
        run = self.drain()
        self.assertEqual(run.created, 1)
        [remote] = self.outlook(MEGAN)
        self.assertEqual(remote["subject"], "Written by the app")
        link = self.env["m365.event.link"].search([("graph_event_id", "=", remote["id"])])
        self.assertRecordValues(link, [{"mailbox": MEGAN, "account_id": False, "origin": "odoo"}])
        self.assertFalse(self.outlook(ADELE))

    def test_views_open_for_a_user(self):
        self.appointment("Visible")
        Outbox = self.env["m365.outbox"].with_user(self.user)
        views = Outbox.get_views([(False, "list"), (False, "form"), (False, "search")])
        self.assertIn("action_retry", views["views"]["form"]["arch"])
        form = self.account.with_user(self.user).get_views([(False, "form")])
        self.assertIn("send_invitations", form["views"]["form"]["arch"])
        event_form = self.env["calendar.event"].with_user(self.user).get_views([(False, "form")])
        self.assertIn("m365_push_error", event_form["views"]["form"]["arch"])
        action = self.account.with_user(self.user).action_open_outbox()
        self.assertEqual(Outbox.search(action["domain"]), self.queued())

    def test_changes_wait_while_the_account_is_paused(self):
        self.appointment("Made before the pause")
        self.account.with_user(self.user).action_pause()
        self.appointment("Made during the pause")
        self.drain()
        self.assertFalse(self.outlook())
        self.assertEqual(len(self.queued()), 1, "queued before the pause, kept")
        self.account.with_user(self.user).action_resume()
        self.drain()
        self.assertEqual([e["subject"] for e in self.outlook()], ["Made before the pause"])
