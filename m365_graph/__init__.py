"""m365_graph — the pure-Python Microsoft Graph client of the m365_sync Odoo addon.

Why this package exists: all Graph and identity-platform logic (tokens, retries,
throttling, paging, delta, ``$batch``, parsing, permissions) lives here, importable
and testable without Odoo. The addon calls these functions and receives typed
results (dataclasses of :mod:`m365_graph.models`) or errors of
:mod:`m365_graph.errors`.
"""

from .auth import PERSONAL_SCOPES, SHARED_SCOPES, AppTokenProvider, DelegatedTokenProvider
from .authflow import AuthCodeResult, AuthCodeStart, finish_auth_code_flow, start_auth_code_flow
from .batch import execute_batch
from .busytime import MailboxCalendar, read_busy_times
from .calendar import BUSY_SELECT, calendar_view, calendar_view_delta
from .claims import decode_claims, granted_roles, granted_scopes
from .client import GraphClient, GraphResponse
from .config import AUTHORITY_PUBLIC, GRAPH_PUBLIC, TenantConfig
from .connection import ConnectionReport, check_connection
from .counters import Counters, CounterSnapshot
from .errors import (
    AuthError,
    BadResponse,
    ConsentRequired,
    GraphError,
    NotFound,
    PermissionMissing,
    PreconditionFailed,
    ReconnectNeeded,
    SyncStateExpired,
    Throttled,
    Transient,
)
from .events import create_event, delete_event, event_payload, get_event, update_event
from .models import (
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
from .permissions import FEATURES, PermissionCheck, admin_consent_url, check_permissions
from .retry import RetryPolicy
from .users import USER_SELECT, get_me, get_user, get_users, users_delta

__all__ = [
    "AUTHORITY_PUBLIC",
    "BUSY_SELECT",
    "FEATURES",
    "GRAPH_PUBLIC",
    "PERSONAL_SCOPES",
    "SHARED_SCOPES",
    "USER_SELECT",
    "AppTokenProvider",
    "AuthCodeResult",
    "AuthCodeStart",
    "AuthError",
    "BadResponse",
    "BatchRequest",
    "BatchResponse",
    "BusySlot",
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
    "GraphUser",
    "MailboxCalendar",
    "NotFound",
    "Page",
    "PermissionCheck",
    "PermissionMissing",
    "PreconditionFailed",
    "ReconnectNeeded",
    "Removed",
    "RetryPolicy",
    "SkippedItem",
    "SyncStateExpired",
    "TenantConfig",
    "Throttled",
    "Transient",
    "admin_consent_url",
    "calendar_view",
    "calendar_view_delta",
    "check_connection",
    "check_permissions",
    "create_event",
    "decode_claims",
    "delete_event",
    "event_payload",
    "execute_batch",
    "finish_auth_code_flow",
    "get_event",
    "get_me",
    "get_user",
    "get_users",
    "granted_roles",
    "granted_scopes",
    "read_busy_times",
    "start_auth_code_flow",
    "update_event",
    "users_delta",
]
