"""Shared set-up of the benchmarks: a sandbox tenant and a Graph client for it.

Why this file exists: every benchmark starts a sandbox with a bulk seed and a
latency, builds an app-only client that trusts the sandbox's CA, and prints figures
the same way.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from m365_graph import GraphClient, TenantConfig
from m365_sandbox import Sandbox, bulk_seed

# A fixed Monday so that runs are comparable.
WINDOW_START = datetime(2026, 3, 2, tzinfo=timezone.utc)


@contextmanager
def sandbox(
    users: int, events_per_user: int, *, mailboxes: int | None, latency: float, days: int = 28
):
    """A started sandbox with a bulk tenant; latency applies once seeding is done."""
    began = time.perf_counter()
    seed = bulk_seed(
        users, events_per_user, WINDOW_START, days, mailboxes=mailboxes if mailboxes else None
    )
    with Sandbox(seed=seed, latency=0.0) as sb:
        print(f"  sandbox ready in {time.perf_counter() - began:.1f} s ({users} users)")
        sb.latency = latency
        yield sb


def app_client(sb: Sandbox, **kwargs) -> GraphClient:
    """An app-only client for the sandbox, with its token fetched before timing starts."""
    config = TenantConfig(
        sb.tenant_id,
        sb.client_id,
        sb.client_secret,
        authority_host=sb.url,
        graph_url=sb.graph_url,
        ca_bundle=sb.ca_path,
        timeout=(10.0, 120.0),
    )
    client = GraphClient.for_app(config, **kwargs)
    client.token_provider.get_token()
    return client


def window(days: int) -> tuple[datetime, datetime]:
    return WINDOW_START, WINDOW_START + timedelta(days=days)


def rate(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "inf"
