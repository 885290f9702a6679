"""The "Test connection" button: one call that checks credentials, consent and Graph.

Why this file exists: the administrator presses one button and must learn, in plain
words, what is wrong — wrong secret, unknown tenant, unknown app, unreachable host —
or, when sign-in works, which permissions of the enabled features are granted and
where to grant the missing ones. :func:`check_connection` raises the taxonomy errors
for the first kind and returns a :class:`ConnectionReport` for the second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import requests

from ..core.client import GraphClient
from ..core.config import AUTHORITY_PUBLIC, GRAPH_PUBLIC, TenantConfig, is_guid
from ..core.counters import CounterSnapshot
from ..core.errors import AuthError, GraphError
from ..core.http import DEFAULT_TIMEOUT, PinnedSession
from ..core.retry import RetryPolicy
from .auth import AppTokenProvider, forget_app
from .claims import decode_claims
from .permissions import (
    FEATURES,
    PermissionCheck,
    admin_consent_url,
    check_permissions,
    effective_permissions,
)

__all__ = ["ConnectionReport", "check_connection", "check_token_tenant"]


@dataclass(frozen=True)
class ConnectionReport:
    """Outcome of a successful sign-in with the app's credentials.

    ``rows``: the permission table for the checked features. ``graph_ok``: a test
    read of Graph succeeded (``graph_detail`` says what was tried or why it failed).
    """

    tenant_id: str | None
    client_id: str
    app_name: str | None
    granted_roles: frozenset[str]
    rows: list[PermissionCheck] = field(default_factory=list)
    consent_url: str = ""
    graph_ok: bool = False
    graph_detail: str = ""
    #: HTTP counters of the Graph part of the check (for the ``m365.sync.run`` row).
    counters: CounterSnapshot = field(default_factory=CounterSnapshot)

    @property
    def missing(self) -> list[PermissionCheck]:
        """Application permissions that are needed and not granted."""
        return [r for r in self.rows if r.granted is False]

    @property
    def ok(self) -> bool:
        return self.graph_ok and not self.missing

    def summary(self) -> str:
        if self.ok:
            return "Connection OK: every application permission of the enabled features is granted."
        lines = []
        if self.missing:
            names = ", ".join(sorted({r.permission for r in self.missing}))
            lines.append(
                f"Missing application permissions: {names}. An administrator must add them "
                f"to the app registration and grant admin consent: {self.consent_url}"
            )
        if not self.graph_ok:
            lines.append(self.graph_detail)
        return "\n".join(lines)


def check_token_tenant(claims: dict, config: TenantConfig) -> None:
    """:class:`AuthError` unless the token was issued by the configured tenant.

    The identity platform URL may point elsewhere (a proxy, a wrong cloud, a
    multi-tenant authority such as ``organizations``): a token of another tenant
    would read another organisation's directory. The ``tid`` claim must be the
    configured tenant id; a tenant configured by domain name is checked against
    the tenant id the sign-in returned only when that id is there at all.
    """
    tid = claims.get("tid")
    if tid is not None and not isinstance(tid, str):
        raise AuthError("The access token's tenant ('tid' claim) is not readable.", code="tid")
    configured = config.tenant.strip().lower()
    if is_guid(configured):
        if not tid:
            raise AuthError(
                "The access token names no tenant ('tid' claim); it cannot be checked against "
                f"the configured tenant {config.tenant}. Check the identity platform URL.",
                code="tid",
            )
        if tid.strip().lower() != configured:
            raise AuthError(
                f"The identity platform issued a token of tenant {tid[:40]}, not of the "
                f"configured tenant {config.tenant}. Check the Directory (tenant) ID and the "
                "identity platform URL in the Microsoft 365 settings.",
                code="tid",
            )
    elif configured in {"common", "organizations", "consumers"}:
        raise AuthError(
            f"'{config.tenant}' is not a tenant: enter the Directory (tenant) ID or the "
            "tenant's domain (e.g. contoso.onmicrosoft.com).",
            code="tid",
        )


def check_connection(
    tenant: str,
    client_id: str,
    client_secret: str,
    authority_host: str = AUTHORITY_PUBLIC,
    graph_url: str = GRAPH_PUBLIC,
    *,
    ca_bundle: str | None = None,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    features: Iterable[str] | None = None,
    redirect_uri: str | None = None,
    retry: RetryPolicy | None = None,
    session: requests.Session | None = None,
) -> ConnectionReport:
    """Sign in with the client credentials and report what the app may do.

    Raises :class:`~m365_graph.core.errors.AuthError` (wrong secret, unknown tenant or app,
    no consent) or :class:`~m365_graph.core.errors.Transient` (host unreachable, with the
    time-out) — each with a message for the administrator.
    """
    config = TenantConfig(
        tenant=tenant,
        client_id=client_id,
        client_secret=client_secret,
        authority_host=authority_host,
        graph_url=graph_url,
        ca_bundle=ca_bundle,
        timeout=timeout,  # type: ignore[arg-type]  # normalised by TenantConfig
    )
    session = session or PinnedSession(config.ca_bundle, config.timeout)
    provider = AppTokenProvider(config, session=session, keep=False)
    claims = decode_claims(provider.get_token())
    check_token_tenant(claims, config)
    # Typically pressed after granting consent: the jobs' kept token is replaced too.
    forget_app(config)
    roles = claims.get("roles") or []
    granted = frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset()
    rows = check_permissions(FEATURES if features is None else features, granted)
    consent = admin_consent_url(
        config.authority_host, config.tenant, config.client_id, redirect_uri
    )

    # Prove Graph answers with this token: the cheapest read the granted roles allow.
    client = GraphClient(
        provider,
        config.graph_url,
        session=session,
        timeout=config.timeout,
        retry=retry or RetryPolicy(max_attempts=2, max_retry_after=10),
    )
    if "User.Read.All" in effective_permissions(granted) or "User.ReadBasic.All" in granted:
        try:
            client.get_json(
                "/users",
                params={"$top": "1", "$select": "id"},
                what="Test read of the user list",
                permission="User.Read.All",
            )
            graph_ok, detail = True, f"Microsoft Graph answered at {config.graph_url}."
        except GraphError as exc:
            graph_ok, detail = False, str(exc)
    else:
        graph_ok = bool(granted)
        detail = (
            "Signed in; no user-read permission is granted, so no test read was made."
            if granted
            else "Signed in, but the application has no permission granted at all."
        )
    session.close()
    return ConnectionReport(
        counters=client.counters.snapshot(),
        tenant_id=claims.get("tid"),
        client_id=config.client_id,
        app_name=claims.get("app_displayname"),
        granted_roles=granted,
        rows=rows,
        consent_url=consent,
        graph_ok=graph_ok,
        graph_detail=detail,
    )
