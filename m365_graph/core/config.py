"""Where a tenant lives: tenant id, app credentials, authority and Graph URLs, TLS settings.

Why this file exists: token providers, the auth-code flow, the Graph client and the
connection check all need the same handful of settings, and national clouds (or the
sandbox) change the authority host and the Graph URL together with the Graph
*resource* that scopes are issued for. :class:`TenantConfig` derives those once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .http import DEFAULT_TIMEOUT, normalize_timeout

__all__ = ["AUTHORITY_PUBLIC", "GRAPH_PUBLIC", "TenantConfig", "is_guid", "normalize_base_url"]

AUTHORITY_PUBLIC = "https://login.microsoftonline.com"
GRAPH_PUBLIC = "https://graph.microsoft.com/v1.0"
GRAPH_RESOURCE = "https://graph.microsoft.com"
# Graph endpoints of Microsoft's clouds (Graph docs, "National cloud deployments").
NATIONAL_GRAPH_HOSTS = frozenset(
    {
        "graph.microsoft.com",
        "graph.microsoft.us",
        "dod-graph.microsoft.us",
        "microsoftgraph.chinacloudapi.cn",
        "graph.microsoft.de",
    }
)


def is_guid(value: str) -> bool:
    """True for a GUID in its usual 36-character form (tenant, client and object ids)."""
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return len(value) == 36


def normalize_base_url(url: str) -> str:
    """``login.microsoftonline.us`` → ``https://login.microsoftonline.us``; no trailing slash."""
    text = (url or "").strip()
    if not text:
        raise ValueError("a URL is required")
    if "://" not in text:
        text = "https://" + text
    return text.rstrip("/")


@dataclass(frozen=True)
class TenantConfig:
    """One Entra ID tenant and the app registration used in it.

    ``ca_bundle`` (path of a PEM file) pins the CA used for both the identity
    platform and Graph, whatever ``REQUESTS_CA_BUNDLE`` says. ``timeout`` is
    ``(connect, read)`` seconds. ``resource`` overrides the token audience derived
    from ``graph_url`` (see :attr:`graph_resource`).
    """

    tenant: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    authority_host: str = AUTHORITY_PUBLIC
    graph_url: str = GRAPH_PUBLIC
    ca_bundle: str | None = None
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    resource: str | None = None

    def __post_init__(self) -> None:
        if not (self.tenant or "").strip():
            raise ValueError("the tenant id is required")
        if not (self.client_id or "").strip():
            raise ValueError("the client id is required")
        object.__setattr__(self, "tenant", self.tenant.strip())
        object.__setattr__(self, "client_id", self.client_id.strip())
        object.__setattr__(self, "authority_host", normalize_base_url(self.authority_host))
        object.__setattr__(self, "graph_url", normalize_base_url(self.graph_url))
        object.__setattr__(self, "timeout", normalize_timeout(self.timeout))

    @property
    def authority(self) -> str:
        """``https://login.microsoftonline.com/<tenant>`` — what msal calls the authority."""
        return f"{self.authority_host}/{self.tenant}"

    @property
    def graph_resource(self) -> str:
        """The resource (audience) Graph tokens are issued for.

        Each national cloud's Graph host is its own resource (``graph.microsoft.us``,
        ``dod-graph.microsoft.us``, ``microsoftgraph.chinacloudapi.cn``…). Any other
        host — a proxy or the sandbox standing in for Graph worldwide — takes tokens
        for ``https://graph.microsoft.com`` unless ``resource`` says otherwise.
        """
        if self.resource:
            return self.resource.rstrip("/")
        parts = urlsplit(self.graph_url)
        if (parts.hostname or "").lower() in NATIONAL_GRAPH_HOSTS:
            return f"https://{parts.netloc}"
        return GRAPH_RESOURCE

    @property
    def app_scopes(self) -> list[str]:
        """Client-credentials scope: all application permissions granted to the app."""
        return [f"{self.graph_resource}/.default"]

    def delegated_scopes(self, names: list[str] | tuple[str, ...]) -> list[str]:
        """Delegated scopes for this cloud (``User.Read`` → ``<resource>/User.Read``).

        The short form means "Microsoft Graph worldwide" and is kept for it: the
        identity platform answers with short names, and msal finds a cached access
        token only when the requested names match the answered ones. National clouds
        need the qualified form. OpenID scopes (``openid``, ``profile``, ``email``,
        ``offline_access``) are not resource scopes and stay as they are.
        """
        out = []
        short = self.graph_resource == GRAPH_RESOURCE
        for name in names:
            if short or name in OIDC_SCOPES or "://" in name:
                out.append(name)
            else:
                out.append(f"{self.graph_resource}/{name}")
        return out


OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
