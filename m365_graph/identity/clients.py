"""``GraphClient`` built from a tenant's settings: app-only or as one connected user.

Why this file exists: :class:`m365_graph.core.client.GraphClient` takes any token
provider and knows nothing of MSAL; the providers live in this layer
(:mod:`.auth`). The two constructors the addon uses — :meth:`GraphClient.for_app`
and :meth:`GraphClient.for_account` — pair a :class:`~m365_graph.core.config.TenantConfig`
with its provider, so they live here too, on a subclass of the same name that adds
nothing else. ``m365_graph.GraphClient`` is this class; code that builds a client
from its own provider may use either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..core.client import GraphClient as _CoreClient
from ..core.config import TenantConfig
from ..core.http import PinnedSession
from .auth import PERSONAL_SCOPES, AppTokenProvider, DelegatedTokenProvider

__all__ = ["GraphClient"]


class GraphClient(_CoreClient):
    """:class:`m365_graph.core.client.GraphClient` plus its constructors from settings."""

    @classmethod
    def for_app(cls, config: TenantConfig, **kwargs: Any) -> GraphClient:
        """Client with application permissions (client credentials) for ``config``."""
        session = kwargs.pop("session", None) or PinnedSession(config.ca_bundle, config.timeout)
        provider = AppTokenProvider(config, session=session)
        return cls(provider, config.graph_url, session=session, timeout=config.timeout, **kwargs)

    @classmethod
    def for_account(
        cls,
        config: TenantConfig,
        cache_blob: str | None,
        *,
        home_account_id: str | None = None,
        username: str | None = None,
        on_cache_change: Callable[[str], None] | None = None,
        scopes: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> GraphClient:
        """Client acting as one connected user (delegated permissions)."""
        session = kwargs.pop("session", None) or PinnedSession(config.ca_bundle, config.timeout)
        provider = DelegatedTokenProvider(
            config,
            cache_blob,
            home_account_id=home_account_id,
            username=username,
            scopes=scopes or PERSONAL_SCOPES,
            on_cache_change=on_cache_change,
            session=session,
        )
        return cls(provider, config.graph_url, session=session, timeout=config.timeout, **kwargs)
