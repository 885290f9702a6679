"""The ``Sandbox``: one emulated tenant served over HTTPS from a background thread.

It ties the pieces together — tenant state, token service, identity and Graph
endpoints, faults, request log — and serves both hosts (identity platform and
Graph) on one ``https://127.0.0.1:PORT``. Tests start it in-process (Odoo's
test classes refuse child processes and non-local HTTP, so it must be a thread
in the same process); the CLI (``python -m m365_sandbox``) wraps the same class.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import requests
from werkzeug.wrappers import Request, Response

from ..graph.router import GraphService
from ..graph.wire_types import DropConnection, new_request
from ..identity.endpoints import IdentityPlatform
from ..identity.token_service import TokenService
from ..tenant.fault_injection import FaultInjector
from ..tenant.handler_context import HandlerContext
from ..tenant.notification_delivery import NotificationHub
from ..tenant.request_log import HeaderDict, LogRecord, RequestLog
from ..tenant.tenant_state import TenantState
from . import tls_material, webhook_sender

logger = logging.getLogger("m365_sandbox")


class Sandbox:
    """An emulated Microsoft 365 tenant (identity platform + Graph v1.0).

    ``seed``: None (a small default tenant), a dict or a path to a JSON seed
    (see :mod:`m365_sandbox.tenant.seed`). ``latency``: seconds added to every HTTP
    request (settable later). ``rng_seed`` makes ids, batch order and
    probabilistic faults reproducible. ``tls_dir`` keeps the CA and server
    certificate in a directory (reused across runs) instead of a temp dir.
    """

    def __init__(  # noqa: PLR0917 - the documented signature
        self,
        seed=None,
        latency: float = 0.0,
        port: int = 0,
        host: str = "127.0.0.1",
        rng_seed: int = 0,
        tls_dir: str | None = None,
    ):
        from ..tenant.seed import apply_seed, default_seed

        self.state = TenantState(rng_seed)
        apply_seed(self.state, default_seed() if seed is None else seed)
        self.faults = FaultInjector(rng_seed)
        self.log = RequestLog()
        self.latency = latency
        self.batch_rng = random.Random(rng_seed)
        # All that the Graph and identity handlers see of this sandbox.
        # Change notifications: subscriptions, and the thread that POSTs them.
        self.notifications = NotificationHub(self.state, webhook_sender.post)
        self.context = HandlerContext(
            state=self.state,
            faults=self.faults,
            log=self.log,
            batch_rng=self.batch_rng,
            notifications=self.notifications,
        )
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self._tls = tls_material.material(tls_dir)
        self._server = None
        self._thread: threading.Thread | None = None
        self.graph = GraphService(self.context)
        self.identity = IdentityPlatform(self.context)

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        from .https_server import TLSServer

        server = TLSServer((self.host, self._requested_port), self, self._tls.server_context())
        self.port = server.server_address[1]
        self.context.base_url = self.url
        self.context.tokens = TokenService(self.url)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"m365-sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()
        self.notifications.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.notifications.stop()
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Block until KeyboardInterrupt (the CLI)."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def browse_authorize(self, auth_url: str) -> dict[str, str]:
        """What the user's browser brings back from ``/authorize``: the callback's query.

        With ``authorize_interactive`` off, the sandbox answers the authorize URL with a
        redirect to the app's redirect URI carrying ``code`` and ``state`` (or
        ``error``), as the identity platform does once the user has approved. Tests and
        benchmarks use this to sign in without a browser.
        """
        answer = requests.get(auth_url, allow_redirects=False, verify=self.ca_path, timeout=30)
        location = answer.headers.get("Location")
        if answer.status_code not in (302, 303) or not location:
            raise RuntimeError(
                f"/authorize answered {answer.status_code} without a redirect: {answer.text[:300]}"
            )
        return dict(parse_qsl(urlsplit(location).query))

    @property
    def authorize_interactive(self) -> bool:
        """Whether ``/authorize`` shows a consent page (the CLI) or answers at once (tests)."""
        return self.context.authorize_interactive

    @authorize_interactive.setter
    def authorize_interactive(self, value: bool) -> None:
        self.context.authorize_interactive = bool(value)

    @property
    def tokens(self) -> TokenService | None:
        """The token service (None until the sandbox is started: the issuer has the port)."""
        return self.context.tokens

    # -- addresses and credentials ------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the sandbox is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.url}/{self.tenant_id}"

    @property
    def graph_url(self) -> str:
        return f"{self.url}/v1.0"

    @property
    def ca_path(self) -> str:
        return self._tls.ca_path

    @property
    def tenant_id(self) -> str:
        return self.state.tenant_id

    @property
    def tenant_domain(self) -> str:
        return self.state.tenant_domain

    @property
    def client_id(self) -> str:
        return self.state.default_client_id

    @property
    def client_secret(self) -> str:
        return self.state.app.secret

    # -- helpers for tests ---------------------------------------------------------

    def issue_app_token(
        self, roles=None, client_id: str | None = None, lifetime: int | None = None
    ) -> str:
        """An app token like client credentials gives (roles default to the granted ones)."""
        app = self.state.apps[client_id or self.client_id]
        return self.tokens.access_token(
            tenant_id=self.tenant_id,
            client_id=app.client_id,
            app_name=app.display_name,
            now=self.state.now(),
            lifetime=lifetime or self.state.access_token_lifetime,
            roles=sorted(app.roles if roles is None else roles),
        )

    def issue_user_token(
        self, user: str, scopes, client_id: str | None = None, lifetime: int | None = None
    ) -> str:
        """A delegated token for ``user`` with ``scopes`` (no consent checks)."""
        app = self.state.apps[client_id or self.client_id]
        return self.tokens.access_token(
            tenant_id=self.tenant_id,
            client_id=app.client_id,
            app_name=app.display_name,
            now=self.state.now(),
            lifetime=lifetime or self.state.access_token_lifetime,
            scopes=sorted(scopes),
            user=self.state.get_user(user),
        )

    # -- WSGI ------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        try:
            if path == "/v1.0" or path.startswith("/v1.0/"):
                response = self._graph(request, path[len("/v1.0") :] or "/")
            else:
                response = self._identity(request, path)
        except DropConnection:
            environ["sandbox.drop"] = True
            return [b""]
        return response(environ, start_response)

    def _graph(self, request: Request, path: str) -> Response:
        headers = HeaderDict(request.headers.items())
        prefer = request.headers.getlist("Prefer")
        if len(prefer) > 1:
            headers["Prefer"] = ", ".join(prefer)
        query = dict(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
        req = new_request(request.method, path, query, headers, request.get_data())
        result = self.graph.execute(req, latency=self.latency)
        body = b"" if result.body is None else json.dumps(result.body).encode()
        return Response(body, result.status, list(result.headers.items()))

    def _identity(self, request: Request, path: str) -> Response:
        started = time.monotonic()
        record = LogRecord(
            method=request.method,
            path=path,
            query=dict(request.args.items()),
            headers=HeaderDict(request.headers.items()),
            started=time.time(),
        )
        delay, fault = self.faults.fire(request.method, path, False)
        time.sleep(self.latency + delay)
        if fault is not None and fault.kind == "drop":
            record.fault = "drop"
            self.log.append(record)
            raise DropConnection(after=False)
        if fault is not None and fault.kind == "status":
            code, message = fault.error()
            response = Response(
                json.dumps({"error": code, "error_description": message}),
                fault.status,
                fault.headers(),
                content_type="application/json; charset=utf-8",
            )
            record.fault = "status"
        else:
            segments = path.strip("/").split("/", 1)
            if path in ("", "/"):
                response = self._index()
            elif len(segments) == 2:
                response = self.identity.handle(request, segments[0], segments[1])
            else:
                response = Response("Not found", 404, content_type="text/plain")
        record.status = response.status_code
        record.duration = time.monotonic() - started
        self.log.append(record)
        if fault is not None and fault.kind == "drop_after":
            record.fault = "drop_after"
            raise DropConnection(after=True)
        return response

    def _index(self) -> Response:
        text = {
            "service": "m365_sandbox",
            "tenant_id": self.tenant_id,
            "tenant_domain": self.tenant_domain,
            "authority": self.authority,
            "graph": self.graph_url,
            "openid_configuration": f"{self.authority}/v2.0/.well-known/openid-configuration",
            "users": len(self.state.user_records()),
        }
        return Response(json.dumps(text, indent=2), 200, content_type="application/json")
