"""m365_graph — the pure-Python Microsoft Graph client of the m365_sync Odoo addon.

Why this package exists: all Graph and identity-platform logic (tokens, retries,
throttling, paging, delta, ``$batch``, parsing, permissions) lives here, importable
and testable without Odoo. The addon calls these functions and receives typed
results (dataclasses of :mod:`m365_graph.models`) or errors of
:mod:`m365_graph.errors`.
"""

from .core.client import GraphResponse
from .core.config import AUTHORITY_PUBLIC, GRAPH_PUBLIC, TenantConfig
from .core.counters import Counters, CounterSnapshot
from .core.errors import (
    AuthError,
    BadResponse,
    ConsentRequired,
    GraphError,
    GraphUnavailable,
    NotFound,
    PermissionMissing,
    PreconditionFailed,
    ReconnectNeeded,
    SyncStateExpired,
    Throttled,
    Transient,
)
from .core.retry import Budget, RetryPolicy
from .core.types import (
    BatchRequest,
    BatchResponse,
    BusySlot,
    DeltaResult,
    GraphEvent,
    GraphUser,
    Page,
    Removed,
    SkippedItem,
)
from .identity.auth import PERSONAL_SCOPES, SHARED_SCOPES, AppTokenProvider, DelegatedTokenProvider
from .identity.authflow import (
    AuthCodeResult,
    AuthCodeStart,
    finish_auth_code_flow,
    start_auth_code_flow,
)
from .identity.claims import decode_claims, granted_roles, granted_scopes
from .identity.clients import GraphClient
from .identity.connection import ConnectionReport, check_connection
from .identity.permissions import FEATURES, PermissionCheck, admin_consent_url, check_permissions
from .resources.busytime import MailboxCalendar, read_busy_times
from .resources.calendar import BUSY_SELECT, calendar_view, calendar_view_delta
from .resources.events import (
    create_event,
    delete_event,
    event_payload,
    get_event,
    list_instances,
    read_events,
    update_event,
)
from .resources.series import SeriesCompletion, complete_series, read_instances
from .resources.users import USER_SELECT, get_me, get_user, get_users, users_delta
from .sync.activities import (
    ActivityEvent,
    PlannedWindow,
    WriterChoice,
    WriterFacts,
    activity_payload,
    choose_writer,
    planned_window,
    working_day_start,
)
from .sync.outbox import (
    ConflictDecision,
    PushOperation,
    PushResult,
    RetrySchedule,
    classify,
    clock_offset,
    coalesce,
    push_operations,
    resolve_conflict,
)
from .sync.personal import (
    DIRECTIONS,
    WrongAccount,
    check_signed_in_identity,
    needs_consent,
    pull_window,
    refresh_scopes,
    scopes_for_direction,
    window_is_stale,
)
from .sync.pull import LinkState, PulledEvent, PullPlan, decide_removals, map_event, plan_pull
from .sync.push import Appointment, Attendee, BuiltPayload, build_payload, payload_hash
from .sync.recurrence import Recurrence, UnsupportedRecurrence

__all__ = [
    "AUTHORITY_PUBLIC",
    "BUSY_SELECT",
    "DIRECTIONS",
    "FEATURES",
    "GRAPH_PUBLIC",
    "PERSONAL_SCOPES",
    "SHARED_SCOPES",
    "USER_SELECT",
    "ActivityEvent",
    "AppTokenProvider",
    "Appointment",
    "Attendee",
    "AuthCodeResult",
    "AuthCodeStart",
    "AuthError",
    "BadResponse",
    "BatchRequest",
    "BatchResponse",
    "Budget",
    "BuiltPayload",
    "BusySlot",
    "ConflictDecision",
    "ConnectionReport",
    "ConsentRequired",
    "CounterSnapshot",
    "Counters",
    "DelegatedTokenProvider",
    "DeltaResult",
    "GraphClient",
    "GraphError",
    "GraphEvent",
    "GraphResponse",
    "GraphUnavailable",
    "GraphUser",
    "LinkState",
    "MailboxCalendar",
    "NotFound",
    "Page",
    "PermissionCheck",
    "PermissionMissing",
    "PlannedWindow",
    "PreconditionFailed",
    "PullPlan",
    "PulledEvent",
    "PushOperation",
    "PushResult",
    "ReconnectNeeded",
    "Recurrence",
    "Removed",
    "RetryPolicy",
    "RetrySchedule",
    "SeriesCompletion",
    "SkippedItem",
    "SyncStateExpired",
    "TenantConfig",
    "Throttled",
    "Transient",
    "UnsupportedRecurrence",
    "WriterChoice",
    "WriterFacts",
    "WrongAccount",
    "activity_payload",
    "admin_consent_url",
    "build_payload",
    "calendar_view",
    "calendar_view_delta",
    "check_connection",
    "check_permissions",
    "check_signed_in_identity",
    "choose_writer",
    "classify",
    "clock_offset",
    "coalesce",
    "complete_series",
    "create_event",
    "decide_removals",
    "decode_claims",
    "delete_event",
    "event_payload",
    "finish_auth_code_flow",
    "get_event",
    "get_me",
    "get_user",
    "get_users",
    "granted_roles",
    "granted_scopes",
    "list_instances",
    "map_event",
    "needs_consent",
    "payload_hash",
    "plan_pull",
    "planned_window",
    "pull_window",
    "push_operations",
    "read_busy_times",
    "read_events",
    "read_instances",
    "refresh_scopes",
    "resolve_conflict",
    "scopes_for_direction",
    "start_auth_code_flow",
    "update_event",
    "users_delta",
    "window_is_stale",
    "working_day_start",
]
