"""m365_sandbox — a pure-Python emulator of Microsoft Graph v1.0 and the
Microsoft identity platform (v2.0 endpoints), served over real HTTPS on
127.0.0.1.

It exists so that the Graph client and the Odoo addon can be tested — and
demonstrated — without a Microsoft 365 tenant: it follows Graph's documented
shapes, paging, delta rounds, error bodies and throttling, enforces
permissions from the token, works with the real ``msal`` library, and can
inject faults. Use it in-process::

    from m365_sandbox import Sandbox
    with Sandbox() as sb:
        ...  # sb.authority, sb.graph_url, sb.ca_path, sb.client_id, sb.client_secret

or from a shell: ``python -m m365_sandbox --seed FILE --port N``.
"""

from .server.sandbox_server import Sandbox
from .tenant.seed import bulk_seed, demo_seed, load_seed, weekly_recurrence

__all__ = ["Sandbox", "bulk_seed", "demo_seed", "load_seed", "weekly_recurrence"]
