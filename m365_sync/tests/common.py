"""Test helpers: an m365_sandbox tenant served over HTTPS on 127.0.0.1.

Odoo's test classes let HTTP through to localhost only and end child
processes, so the sandbox runs as a thread of the test process. One sandbox
is started per test class; each test gets the default permissions back.
"""

from odoo.tests.common import TransactionCase

from m365_sandbox import Sandbox

DEFAULT_ROLES = ("User.Read.All", "Calendars.ReadWrite")


class M365SandboxCase(TransactionCase):
    """A TransactionCase whose company tenant points at a running sandbox."""

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
        self.sandbox.state.set_app_roles(list(DEFAULT_ROLES))
        self.sandbox.faults.clear()
        self.sandbox.log.clear()
