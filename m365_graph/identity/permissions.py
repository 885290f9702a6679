"""Which Graph permission each feature needs, and whether the app has it.

Why this file exists: Settings shows the administrator, per enabled feature, the
permissions to grant, and "Test connection" ticks those the app token actually holds
(``roles`` claim). The table is the one of docs/architecture.md, "Graph permissions per feature".
Stronger permissions satisfy weaker ones (``Calendars.ReadWrite`` ⇒
``Calendars.Read`` ⇒ ``Calendars.ReadBasic.All``; ``Directory.Read.All`` ⇒
``User.Read.All``), so an app granted more than needed is not reported as missing.
Delegated permissions are consented by each user at sign-in: an app token cannot
tell, so their rows say ``granted=None`` unless the caller passes a user's scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from ..core.config import AUTHORITY_PUBLIC, normalize_base_url

__all__ = [
    "FEATURES",
    "FEATURE_LABELS",
    "REQUIREMENTS",
    "PermissionCheck",
    "Requirement",
    "admin_consent_url",
    "check_permissions",
    "effective_permissions",
]

APPLICATION = "application"
DELEGATED = "delegated"

FEATURE_LABELS: dict[str, str] = {
    "contacts": "Contact sync",
    "busy_time": "Busy time for workload",
    "activity_export": "Activity export to any user's calendar",
    "personal_sync": "Personal calendar sync",
    "shared_calendars": "Shared and delegated calendars",
    "rooms": "Rooms",
    "change_notifications": "Change notifications",
    "hr_absences": "Time off and work location to Outlook (HR)",
    "hr_absences_down": "Outlook absences to time off requests (HR)",
    "hr_auto_replies": "Automatic replies for time off (HR)",
}
FEATURES: tuple[str, ...] = tuple(FEATURE_LABELS)


@dataclass(frozen=True)
class Requirement:
    feature: str
    permission: str
    type: str  # "application" or "delegated"
    admin_consent: bool


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("contacts", "User.Read.All", APPLICATION, True),
    # Calendars.Read also satisfies it (implication below), should categories turn out
    # not to be returned with ReadBasic.
    Requirement("busy_time", "Calendars.ReadBasic.All", APPLICATION, True),
    Requirement("activity_export", "Calendars.ReadWrite", APPLICATION, True),
    Requirement("personal_sync", "User.Read", DELEGATED, False),
    Requirement("personal_sync", "Calendars.ReadWrite", DELEGATED, False),
    Requirement("personal_sync", "offline_access", DELEGATED, False),
    Requirement("personal_sync", "openid", DELEGATED, False),
    Requirement("personal_sync", "profile", DELEGATED, False),
    Requirement("personal_sync", "email", DELEGATED, False),
    Requirement("shared_calendars", "Calendars.ReadWrite.Shared", DELEGATED, False),
    Requirement("rooms", "Place.Read.All", APPLICATION, True),
    Requirement("rooms", "Calendars.ReadWrite", APPLICATION, True),
    # Subscriptions to users' and room mailboxes' events (busy time, room calendars):
    # Microsoft's "Create subscription" permissions table gives Calendars.Read as the
    # least privileged permission for event resources, delegated and application —
    # Calendars.ReadBasic.All is not enough
    # (https://learn.microsoft.com/graph/api/subscription-post-subscriptions#permissions).
    # Personal calendars subscribe with the account's delegated Calendars.ReadWrite.
    Requirement("change_notifications", "Calendars.Read", APPLICATION, True),
    # m365_sync_hr: events in employees' calendars (when they have no uploading
    # account); absences down read the busy time already imported.
    Requirement("hr_absences", "Calendars.ReadWrite", APPLICATION, True),
    Requirement("hr_absences_down", "Calendars.ReadBasic.All", APPLICATION, True),
    Requirement("hr_absences_down", "MailboxSettings.Read", APPLICATION, True),
    Requirement("hr_auto_replies", "MailboxSettings.ReadWrite", APPLICATION, True),
)

# permission → weaker permissions it includes (applied transitively).
IMPLIES: dict[str, frozenset[str]] = {
    "Calendars.ReadWrite": frozenset({"Calendars.Read"}),
    "Calendars.Read": frozenset({"Calendars.ReadBasic.All", "Calendars.ReadBasic"}),
    "Calendars.ReadWrite.Shared": frozenset({"Calendars.Read.Shared"}),
    "Directory.ReadWrite.All": frozenset({"Directory.Read.All", "User.ReadWrite.All"}),
    "Directory.Read.All": frozenset({"User.Read.All"}),
    "User.ReadWrite.All": frozenset({"User.Read.All"}),
    "User.Read.All": frozenset({"User.ReadBasic.All"}),
    "Place.ReadWrite.All": frozenset({"Place.Read.All"}),
    "MailboxSettings.ReadWrite": frozenset({"MailboxSettings.Read"}),
}


@dataclass(frozen=True)
class PermissionCheck:
    """One row of the permission table for Settings.

    ``granted``: True/False for application permissions (from the token's ``roles``);
    for delegated ones ``None`` ("each user consents at sign-in") unless scopes of a
    user token were given.
    """

    feature: str
    feature_label: str
    permission: str
    type: str
    admin_consent: bool
    granted: bool | None


def effective_permissions(granted: Iterable[str]) -> frozenset[str]:
    """``granted`` plus every weaker permission they imply."""
    out: set[str] = set()
    todo = [g for g in granted if g]
    while todo:
        perm = todo.pop()
        if perm in out:
            continue
        out.add(perm)
        todo.extend(IMPLIES.get(perm, ()))
    return frozenset(out)


def check_permissions(
    features: Iterable[str],
    granted_roles: Iterable[str],
    granted_scopes: Iterable[str] | None = None,
) -> list[PermissionCheck]:
    """Rows for the enabled ``features`` (in table order), ticked against the grants."""
    wanted = set(features)
    unknown = wanted - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown features: {sorted(unknown)}")
    roles = effective_permissions(granted_roles)
    scopes = effective_permissions(granted_scopes) if granted_scopes is not None else None
    rows = []
    for req in REQUIREMENTS:
        if req.feature not in wanted:
            continue
        if req.type == APPLICATION:
            granted: bool | None = req.permission in roles
        elif scopes is not None:
            # OpenID scopes never appear in an access token's scp claim.
            granted = req.permission in scopes or req.permission in {
                "openid",
                "profile",
                "email",
                "offline_access",
            }
        else:
            granted = None
        rows.append(
            PermissionCheck(
                feature=req.feature,
                feature_label=FEATURE_LABELS[req.feature],
                permission=req.permission,
                type=req.type,
                admin_consent=req.admin_consent,
                granted=granted,
            )
        )
    return rows


def admin_consent_url(
    authority_host: str | None,
    tenant: str,
    client_id: str,
    redirect_uri: str | None = None,
    state: str | None = None,
) -> str:
    """The page where a tenant administrator grants the app's application permissions.

    Uses the tenant-wide admin-consent endpoint, which grants every permission
    configured on the app registration.
    """
    host = normalize_base_url(authority_host or AUTHORITY_PUBLIC)
    query = {"client_id": client_id}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    if state:
        query["state"] = state
    return f"{host}/{tenant}/adminconsent?{urlencode(query)}"
