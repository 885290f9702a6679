"""Test helpers: an m365_sandbox tenant served over HTTPS on 127.0.0.1.

Odoo's test classes let HTTP through to localhost only and end child
processes, so the sandbox runs as a thread of the test process. One sandbox
is started per test class; each test gets the default permissions back.
"""

from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import new_test_user
from odoo.tests.common import HttpCase, TransactionCase

from m365_graph import (
    check_signed_in_identity,
    finish_auth_code_flow,
    scopes_for_direction,
    start_auth_code_flow,
)
from m365_graph.identity.auth import forget_apps
from m365_sandbox import Sandbox

DEFAULT_ROLES = ("User.Read.All", "Calendars.ReadWrite")
ADELE = "adele.vance@contoso.onmicrosoft.com"
MEGAN = "megan.bowen@contoso.onmicrosoft.com"
ALEX = "alex.wilber@contoso.onmicrosoft.com"
# Allowed by the sandbox app's redirect URIs (http://localhost*).
REDIRECT_URI = "http://localhost:8069/m365_sync/oauth/callback"


class SandboxMixin:
    """Starts a sandbox for the class and points the company tenant at it."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's guard against outbound HTTP compares the time-out with a number;
        # m365_graph passes requests' (connect, read) pair. Hand the guard the
        # longer of the two: tests only talk to the sandbox on 127.0.0.1.
        timeout = kw.get("timeout")
        if isinstance(timeout, tuple):
            kw["timeout"] = max(value for value in timeout if value is not None)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = Sandbox().start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.tenant = cls.env.company.m365_tenant_id
        cls.tenant.write(cls.sandbox_tenant_values())

    @classmethod
    def sandbox_tenant_values(cls, **overrides):
        sb = cls.sandbox
        values = {
            "azure_tenant": sb.tenant_id,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
            "authority_host": sb.url,
            "graph_url": sb.graph_url,
            "ca_bundle": sb.ca_path,
            "http_timeout": 10,
        }
        values.update(overrides)
        return values

    def setUp(self):
        super().setUp()
        # App-only msal apps (and their tokens) are kept per process: a test that
        # changes the app's roles must get a token with the new ones.
        forget_apps()
        self.sandbox.state.set_app_roles(list(DEFAULT_ROLES))
        self.sandbox.faults.clear()
        self.sandbox.log.clear()


class M365SandboxCase(SandboxMixin, TransactionCase):
    """A TransactionCase whose company tenant points at a running sandbox."""


class M365SandboxHttpCase(SandboxMixin, HttpCase):
    """An HttpCase (the Odoo server runs in a thread) next to a running sandbox."""


class PersonalSyncMixin:
    """Users with connected accounts and a way to run the personal pull."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tenant.personal_sync = True
        cls.user = new_test_user(
            cls.env, login="m365_adele", groups="base.group_user", email="adele@odoo.example"
        )
        cls.other_user = new_test_user(
            cls.env, login="m365_megan", groups="base.group_user", email="megan@odoo.example"
        )

    def setUp(self):
        super().setUp()
        state = self.sandbox.state
        state.consent = "accept"
        state.signed_in_user = None
        state.user_consents.clear()
        for upn in (ADELE, MEGAN, ALEX):
            for event in state.events(upn):
                state.delete_event(upn, event["id"])
        # Committing inside a test is forbidden: the cron's progress commits are no-ops.
        patcher = patch.object(
            type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: float("inf")
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    # -- connecting ----------------------------------------------------------------

    def sign_in(self, account, upn, direction=None, scopes=None):
        """What the OAuth controller does, without a browser: returns the msal result.

        ``scopes`` default to those of the direction (or of the account's consent).
        """
        self.sandbox.state.signed_in_user = upn
        config = account.tenant_id._m365_config()
        if scopes is None:
            scopes = scopes_for_direction(direction or account._m365_consent_direction())
        begun = start_auth_code_flow(config, REDIRECT_URI, scopes=scopes)
        params = self.sandbox.browse_authorize(begun.auth_url)
        result = finish_auth_code_flow(config, begun.flow, params)
        oid = check_signed_in_identity(
            result.claims, result.home_account_id, expected_tenant=config.tenant
        )
        return result, oid

    def connect(self, upn=ADELE, user=None, direction="down"):
        user = user or self.user
        account = self.env["m365.account"].with_user(user).create({"direction": direction})
        result, oid = self.sign_in(account, upn)
        account.sudo()._m365_store_connection(result, oid)
        return account.sudo()

    # -- syncing ---------------------------------------------------------------------

    def sync(self, account):
        outcome = account._m365_sync()
        account.invalidate_recordset()
        return outcome, self.last_run(account)

    def last_run(self, account):
        return self.env["m365.sync.run"].search(
            [("kind", "=", "personal"), ("user_id", "=", account.user_id.id)],
            order="id desc",
            limit=1,
        )

    def events(self, account):
        return self.env["calendar.event"].search(
            [("m365_link_ids.account_id", "=", account.id)], order="start, id"
        )

    @contextmanager
    def assert_no_writes(self, *records):
        stamps = {(r._name, r.id): r.write_date for r in records}
        yield
        for record in records:
            record.invalidate_recordset(["write_date"])
            self.assertEqual(
                record.write_date, stamps[(record._name, record.id)], f"{record} was written"
            )
