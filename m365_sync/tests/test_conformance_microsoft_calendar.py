"""Conformance: Odoo's own ``microsoft_calendar``, a Graph client written against real
Graph and not by us, syncs a mailbox of the sandbox.

``microsoft_calendar`` reads ``me/calendarView/delta``, drops the occurrences (it
expects them as stubs), and reads the ``/instances`` of every series master the delta
lists (``MicrosoftCalendarService.get_events``). Against a sandbox that sent full
occurrences and no master it would import no recurring event at all; against real
Graph it imports them all. This test proves the sandbox answers the way real Graph
does for that client. Only its endpoints and token are patched, and only inside the
test: the Graph host (``DEFAULT_MICROSOFT_GRAPH_ENDPOINT``, also the ``preuri`` of
``_do_request``), and ``REQUESTS_CA_BUNDLE`` so that ``requests`` trusts the
sandbox's CA.
"""

import os
import unittest
from contextlib import ExitStack
from datetime import datetime, time, timedelta, timezone
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from m365_sandbox import weekly_recurrence

from .common import ADELE, M365SandboxCase

UTC = timezone.utc
REAL_GRAPH = "https://graph.microsoft.com"


def at(days, hour=9):
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), UTC)


@tagged("post_install", "-at_install")
class TestMicrosoftCalendarConformance(M365SandboxCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "microsoft_calendar_sync_token" not in cls.env["res.users"]._fields:
            raise unittest.SkipTest("Odoo's microsoft_calendar is not installed")
        cls.ms_user = new_test_user(
            cls.env, login="ms.conformance", name="Adele (microsoft_calendar)", email=ADELE
        )

    def setUp(self):
        super().setUp()
        state = self.sandbox.state
        for event in state.events(ADELE):  # one sandbox per class: start each test empty
            state.delete_event(ADELE, event["id"])

    def _point_microsoft_calendar_at_the_sandbox(self, token):
        """Patch microsoft_calendar's endpoints and token for this test only."""
        from odoo.addons.microsoft_account.models import microsoft_service

        sb = self.sandbox
        stack = ExitStack()
        stack.enter_context(
            patch.object(microsoft_service, "DEFAULT_MICROSOFT_GRAPH_ENDPOINT", sb.url)
        )
        stack.enter_context(
            patch.object(
                microsoft_service,
                "DEFAULT_MICROSOFT_TOKEN_ENDPOINT",
                f"{sb.url}/common/oauth2/v2.0/token",
            )
        )
        original = type(self.env["microsoft.service"])._do_request

        def do_request(  # noqa: PLR0917 - the signature of the method it stands in for
            service,
            uri,
            params=None,
            headers=None,
            method="POST",
            preuri=REAL_GRAPH,
            timeout=microsoft_service.TIMEOUT,
        ):
            # The default preuri was bound to graph.microsoft.com when the module loaded.
            if preuri == REAL_GRAPH:
                preuri = sb.url
            return original(service, uri, params, headers, method, preuri, timeout)

        stack.enter_context(
            patch.object(type(self.env["microsoft.service"]), "_do_request", do_request)
        )
        stack.enter_context(patch.dict(os.environ, {"REQUESTS_CA_BUNDLE": sb.ca_path}))
        self.addCleanup(stack.close)
        user = self.ms_user.sudo()
        user.write(
            {
                "microsoft_calendar_rtoken": "not used: the access token below is valid",
                "microsoft_calendar_token": token,
                "microsoft_calendar_token_validity": fields.Datetime.now() + timedelta(hours=1),
            }
        )
        user.res_users_settings_id.microsoft_synchronization_stopped = False

    def test_microsoft_calendar_imports_single_events_and_every_occurrence(self):
        state = self.sandbox.state
        singles = [
            state.add_event(ADELE, f"Single {i}", at(i + 1, 9), at(i + 1, 10)) for i in range(5)
        ]
        series = []
        for i in range(3):
            first = at(2 + i, 14)
            series.append(
                state.add_event(
                    ADELE,
                    f"Weekly {i}",
                    first,
                    first + timedelta(hours=1),
                    recurrence=weekly_recurrence(first, 4),
                )
            )
        token = self.sandbox.issue_user_token(ADELE, ["Calendars.ReadWrite", "User.Read"])
        self._point_microsoft_calendar_at_the_sandbox(token)

        self.ms_user.with_user(self.ms_user).sudo()._sync_microsoft_calendar()

        Event = self.env["calendar.event"].with_context(active_test=False)
        imported = Event.search([("microsoft_id", "!=", False)])
        names = sorted(imported.mapped("name"))
        self.assertEqual(
            names,
            sorted(
                [s["subject"] for s in singles]
                + [f"Weekly {i}" for i in range(3) for _ in range(4)]
            ),
            "every single event and every occurrence arrived",
        )
        delta = self.sandbox.log.filter(r"/me/calendarView/delta")
        self.assertTrue(delta, "microsoft_calendar read the delta of the sandbox")
        instances = self.sandbox.log.filter(r"/instances")
        self.assertEqual(len(instances), 3, "one /instances read per series master")
        for master in series:
            recurrence = self.env["calendar.recurrence"].search(
                [("microsoft_id", "=", master["id"])]
            )
            self.assertEqual(len(recurrence), 1, master["subject"])
            self.assertEqual(len(recurrence.calendar_event_ids), 4, master["subject"])
            self.assertEqual(set(recurrence.calendar_event_ids.mapped("name")), {master["subject"]})
        # The single events keep their time.
        first = imported.filtered(lambda e: e.name == "Single 0")
        self.assertEqual(first.start, at(1, 9).replace(tzinfo=None))

    def test_microsoft_calendar_follows_changes_and_restarts_after_expiry(self):
        state = self.sandbox.state
        state.add_event(ADELE, "Kick-off", at(1, 9), at(1, 10))
        first = at(2, 14)
        master = state.add_event(
            ADELE,
            "Weekly",
            first,
            first + timedelta(hours=1),
            recurrence=weekly_recurrence(first, 3),
        )
        token = self.sandbox.issue_user_token(ADELE, ["Calendars.ReadWrite", "User.Read"])
        self._point_microsoft_calendar_at_the_sandbox(token)
        user = self.ms_user.with_user(self.ms_user).sudo()
        user._sync_microsoft_calendar()
        Event = self.env["calendar.event"].with_context(active_test=False)
        self.assertEqual(len(Event.search([("microsoft_id", "!=", False)])), 4)
        self.assertTrue(user.res_users_settings_id.microsoft_calendar_sync_token)

        # An incremental round: a new event, and the series renamed.
        state.add_event(ADELE, "Follow-up", at(5, 11), at(5, 12))
        state.update_event(ADELE, master["id"], subject="Weekly (renamed)")
        self.sandbox.log.clear()
        user._sync_microsoft_calendar()
        delta = self.sandbox.log.filter(r"/me/calendarView/delta")
        self.assertTrue(delta and all("$deltatoken" in r.query for r in delta[:1]))
        names = sorted(Event.search([("microsoft_id", "!=", False)]).mapped("name"))
        self.assertEqual(
            names, ["Follow-up", "Kick-off"] + ["Weekly (renamed)"] * 3, "changes arrived"
        )

        # An expired delta token: Graph's 410 SyncStateNotFound makes it read again.
        state.expire_delta_tokens()
        self.sandbox.log.clear()
        # microsoft_service logs the 410 as an error before microsoft_calendar handles it.
        with mute_logger("odoo.addons.microsoft_account.models.microsoft_service"):
            user._sync_microsoft_calendar()
        statuses = [r.status for r in self.sandbox.log.filter(r"/me/calendarView/delta")]
        self.assertEqual(statuses[0], 410)
        self.assertIn(200, statuses[1:])
        self.assertEqual(
            len(Event.search([("microsoft_id", "!=", False)])), 5, "no duplicate after a restart"
        )
