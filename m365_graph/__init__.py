"""m365_graph — the pure-Python Microsoft Graph client of the m365_sync Odoo addon.

Why this package exists: all Graph and identity-platform logic (tokens, retries,
throttling, paging, delta, ``$batch``, parsing, permissions) and the sync
decisions built on it live here, importable and testable without Odoo. The addon
calls these functions and receives typed results (dataclasses of
:mod:`m365_graph.core.types`) or errors of :mod:`m365_graph.core.errors`. The
architecture is described in ``docs/architecture.md``.

Four layers; a module imports only its own layer or a lower one
(``tests/graph/unit/test_layers.py`` reads every import, local and
``TYPE_CHECKING`` ones included, and fails otherwise)::

    resources/  Graph resources, the I/O: users, directory, calendars, events,
                series completion, busy time, sending the outbox     (rank 3)
    sync/       decisions, no I/O: contacts, workload, pull (the Odoo-facing
                mapping), push payloads, outbox rules, activities,
                recurrence, personal sync                            (rank 2)
    identity/   MSAL token providers, the auth-code flow, claims, the
                feature → permission table, the connection check,
                GraphClient's constructors from settings              (rank 1)
    core/       GraphClient (HTTP, retries, throttling, paging, delta,
                $batch), errors, types, time zones, text, config,
                counters, the mailbox limiter, secretbox              (rank 0)

``sync/`` sits below ``resources/`` so that the I/O can apply the decisions (the
series reader resolves stubs with :mod:`m365_graph.sync.pull`, the outbox sender
sends :class:`~m365_graph.sync.outbox.PushOperation`); ``sync/`` itself may not
import the client, HTTP, the paging/delta/``$batch`` bases or the MSAL modules
of ``identity/``, nor an HTTP library. Nothing here imports ``odoo`` or
``m365_sandbox``.

This top level exports what the addon, the benchmarks and the tools use; every
other name is imported from its subpackage module.
"""

from .core.config import AUTHORITY_PUBLIC, GRAPH_PUBLIC, TenantConfig
from .core.counters import Counters
from .core.errors import (
    AuthError,
    ConsentRequired,
    GraphError,
    GraphUnavailable,
    NotFound,
    PermissionMissing,
    ReconnectNeeded,
)
from .core.retry import Budget, RetryPolicy
from .core.timezones import naive_utc
from .core.types import Removed
from .identity.auth import AppTokenProvider
from .identity.authflow import finish_auth_code_flow, start_auth_code_flow
from .identity.clients import GraphClient
from .identity.connection import check_connection
from .resources.busytime import read_busy_times
from .resources.calendar import BUSY_SELECT, calendar_view, calendar_view_delta
from .resources.events import create_event, get_event, list_instances, read_events, update_event
from .resources.outbox import push_operations
from .resources.series import complete_series
from .resources.users import get_me, get_users, users_delta
from .sync.activities import (
    ActivityEvent,
    WriterFacts,
    activity_payload,
    choose_writer,
    planned_window,
    working_day_start,
)
from .sync.outbox import (
    PushOperation,
    RetrySchedule,
    classify,
    clock_offset,
    coalesce,
    resolve_conflict,
)
from .sync.personal import (
    WrongAccount,
    check_signed_in_identity,
    needs_consent,
    pull_window,
    refresh_scopes,
    scopes_for_direction,
    window_is_stale,
)
from .sync.pull import LinkState, decide_removals, map_event, plan_pull
from .sync.push import Appointment, Attendee, build_payload
from .sync.recurrence import Recurrence

__all__ = [
    "AUTHORITY_PUBLIC",
    "BUSY_SELECT",
    "GRAPH_PUBLIC",
    "ActivityEvent",
    "AppTokenProvider",
    "Appointment",
    "Attendee",
    "AuthError",
    "Budget",
    "ConsentRequired",
    "Counters",
    "GraphClient",
    "GraphError",
    "GraphUnavailable",
    "LinkState",
    "NotFound",
    "PermissionMissing",
    "PushOperation",
    "ReconnectNeeded",
    "Recurrence",
    "Removed",
    "RetryPolicy",
    "RetrySchedule",
    "TenantConfig",
    "WriterFacts",
    "WrongAccount",
    "activity_payload",
    "build_payload",
    "calendar_view",
    "calendar_view_delta",
    "check_connection",
    "check_signed_in_identity",
    "choose_writer",
    "classify",
    "clock_offset",
    "coalesce",
    "complete_series",
    "create_event",
    "decide_removals",
    "finish_auth_code_flow",
    "get_event",
    "get_me",
    "get_users",
    "list_instances",
    "map_event",
    "naive_utc",
    "needs_consent",
    "plan_pull",
    "planned_window",
    "pull_window",
    "push_operations",
    "read_busy_times",
    "read_events",
    "refresh_scopes",
    "resolve_conflict",
    "scopes_for_direction",
    "start_auth_code_flow",
    "update_event",
    "users_delta",
    "window_is_stale",
    "working_day_start",
]
