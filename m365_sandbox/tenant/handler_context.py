"""What a Graph or identity handler may touch of a running sandbox, and nothing more.

Handlers used to receive the whole ``Sandbox`` and reach through it (its HTTP
server, TLS material, test helpers, lifecycle). They get this small context
instead: the tenant's data, its fault plan, the request log, the seeded random
source of ``$batch`` ordering, the addresses answers must link to, the token
service and whether ``/authorize`` shows a consent page. The server
(``server/``) builds one per sandbox and fills in the addresses and the token
service when it starts listening (the port, hence the issuer, is known only
then).

It lives in ``tenant/`` so that both ``graph/`` and ``identity/`` can import it
without importing each other or the server; the token service is described by
the :class:`TokenIssuer` protocol for the same reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .fault_injection import FaultInjector
from .notification_delivery import NotificationHub
from .request_log import RequestLog
from .tenant_state import TenantState


class TokenIssuer(Protocol):
    """The part of ``identity.token_service.TokenService`` handlers use."""

    def access_token(self, **claims) -> str: ...

    def id_token(self, **claims) -> str: ...

    def verify(self, token: str | None, tenant_id: str, now: datetime) -> dict: ...

    def jwks(self) -> dict: ...


@dataclass
class HandlerContext:
    """The narrow context handed to the Graph and identity handlers of one sandbox."""

    state: TenantState
    faults: FaultInjector
    log: RequestLog
    batch_rng: random.Random
    base_url: str = ""  # https://127.0.0.1:PORT, set when the server starts
    tokens: TokenIssuer | None = None  # set when the server starts (the issuer has the port)
    authorize_interactive: bool = False  # /authorize shows a consent page instead of answering
    notifications: NotificationHub | None = None  # change-notification subscriptions

    @property
    def graph_url(self) -> str:
        """The Graph v1.0 root that ``@odata.nextLink``/``deltaLink`` and ``@odata.context`` use."""
        return f"{self.base_url}/v1.0"
