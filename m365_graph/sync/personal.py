"""Personal sync ("My User Options"): directions, the scopes each one needs, the window.

Why this file exists: a user's connected account has a *direction* — Down (Outlook →
Odoo), Up (Odoo → Outlook), Both, or None (paused) — and the delegated permissions
asked at sign-in follow it, least privilege first: Down only reads the calendar,
Up and Both read and write it. Moving an account to a broader direction needs the
user's consent again (incremental consent); a narrower one never does, because the
permissions already granted include the smaller ones. The pull reads a fixed window
(``calendarView/delta`` keeps the window of its first call for the whole life of the
delta link), so this file also says which window to read and when a stored round's
window has drifted far enough from "now" to start a new one. Finally the identity
that signed in is checked against the tenant the company is configured for.

Everything here is pure: no HTTP, no Odoo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta, timezone
from typing import Any

from ..core.config import OIDC_SCOPES, is_guid
from ..core.errors import AuthError
from ..core.timezones import as_utc
from ..identity.permissions import effective_permissions

__all__ = [
    "DIRECTIONS",
    "PULL_DIRECTIONS",
    "PUSH_DIRECTIONS",
    "WrongAccount",
    "check_signed_in_identity",
    "consent_direction",
    "has_shared_write",
    "missing_scopes",
    "needs_consent",
    "pull_window",
    "refresh_scopes",
    "scopes_for_direction",
    "window_is_stale",
]

#: Quick3's directions: Down = Outlook → Odoo, Up = Odoo → Outlook.
DIRECTIONS: tuple[str, ...] = ("down", "up", "both", "none")
PULL_DIRECTIONS = frozenset({"down", "both"})
PUSH_DIRECTIONS = frozenset({"up", "both"})

_SIGN_IN = ("User.Read", "offline_access", "openid", "profile", "email")
_READ = ("Calendars.Read",)
_WRITE = ("Calendars.ReadWrite",)
_SHARED_WRITE = ("Calendars.ReadWrite.Shared",)

# Default number of days the window may drift before a new delta round starts.
WINDOW_DRIFT = timedelta(days=7)


def consent_direction(direction: str, granted_direction: str | None = None) -> str:
    """The direction whose permissions a sign-in asks for.

    ``none`` (paused) keeps what was granted: re-connecting a paused account asks for
    the permissions of the direction it had (``granted_direction``), Down if unknown.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    if direction == "none":
        return granted_direction if granted_direction in {"down", "up", "both"} else "down"
    return direction


def scopes_for_direction(direction: str, *, shared: bool = False) -> tuple[str, ...]:
    """Delegated scopes to ask at sign-in for ``direction`` (least privilege first).

    ``shared``: the user also writes the activities they assign into colleagues'
    calendars shared with them (``Calendars.ReadWrite.Shared``, no admin consent).
    """
    direction = consent_direction(direction)
    calendar = _READ if direction == "down" else _WRITE
    extra = _SHARED_WRITE if shared else ()
    return (*_SIGN_IN[:1], *calendar, *extra, *_SIGN_IN[1:])


def missing_scopes(
    direction: str, granted: Iterable[str], *, shared: bool = False
) -> frozenset[str]:
    """Resource scopes ``direction`` needs that ``granted`` (and what it implies) lacks."""
    have = effective_permissions(_short(s) for s in granted)
    want = {s for s in scopes_for_direction(direction, shared=shared) if s not in OIDC_SCOPES}
    return frozenset(want - have)


def needs_consent(direction: str, granted: Iterable[str], *, shared: bool = False) -> bool:
    """True when ``direction`` needs a permission the user has not consented to yet.

    A paused account (``none``) never needs consent: nothing is read or written.
    """
    if direction == "none":
        return False
    return bool(missing_scopes(direction, granted, shared=shared))


def has_shared_write(granted: Iterable[str]) -> bool:
    """True when ``granted`` lets the user write calendars shared with them."""
    return _SHARED_WRITE[0] in {_short(s) for s in granted}


def refresh_scopes(granted: Iterable[str]) -> list[str]:
    """Scopes to ask when refreshing a stored sign-in: exactly the resource scopes granted.

    Asking for less is allowed but makes msal miss the cached access token; asking for
    more than was consented fails with ``invalid_grant``.
    """
    scopes = sorted({_short(s) for s in granted if _short(s) not in OIDC_SCOPES and s})
    return scopes or ["User.Read"]


def _short(scope: str) -> str:
    # "https://graph.microsoft.com/Calendars.Read" -> "Calendars.Read"
    return scope.rsplit("/", 1)[-1] if "://" in scope else scope


# --------------------------------------------------------------------------- window


def pull_window(now: datetime, days_back: int, days_ahead: int) -> tuple[datetime, datetime]:
    """The calendar window to read: whole UTC days around ``now`` (aware datetimes).

    Starting on a midnight makes two rounds started on the same day use the same
    window, so their results compare cleanly.
    """
    if days_back < 0 or days_ahead < 1:
        raise ValueError("the window needs days_back >= 0 and days_ahead >= 1")
    midnight = datetime.combine(as_utc(now).date(), time(0), tzinfo=timezone.utc)
    return midnight - timedelta(days=days_back), midnight + timedelta(days=days_ahead + 1)


def window_is_stale(
    window_start: datetime | None,
    now: datetime,
    days_back: int,
    drift: timedelta = WINDOW_DRIFT,
) -> bool:
    """True when a stored round's window has drifted more than ``drift`` behind ``now``.

    The window of a delta link never moves; a new round (a full read, replaying what
    is known) is started once a week so that the far end keeps up with time.
    """
    if window_start is None:
        return True
    expected, _end = pull_window(now, days_back, 1)
    return expected - as_utc(window_start) > drift


# --------------------------------------------------------------------------- identity


class WrongAccount(AuthError):
    """The identity that signed in cannot be connected (other tenant, guest account)."""


def check_signed_in_identity(
    claims: Mapping[str, Any],
    home_account_id: str | None,
    *,
    expected_tenant: str,
) -> str:
    """Check the id token's identity; return the user's object id (Graph user id).

    ``expected_tenant`` is the configured tenant (GUID or verified domain). When it
    is a GUID the token's ``tid`` must match it. A *guest* (the home tenant in msal's
    ``home_account_id`` — ``<oid>.<home tid>`` — differs from ``tid``) has no
    mailbox in this tenant, so it is refused too.
    """
    oid = str(claims.get("oid") or "")
    tid = str(claims.get("tid") or "")
    if not oid or not tid:
        raise WrongAccount("The sign-in returned no user or tenant id; try connecting again.")
    if is_guid(expected_tenant) and tid.lower() != expected_tenant.lower():
        raise WrongAccount(
            "You signed in with an account of another organisation (tenant "
            f"{tid}); this Odoo database is connected to tenant {expected_tenant}. "
            "Sign in with your work account of that organisation."
        )
    home_tid = (home_account_id or "").partition(".")[2]
    if home_tid and home_tid.lower() != tid.lower():
        raise WrongAccount(
            "You signed in as a guest of this organisation; a guest account has no "
            "calendar here. Sign in with an account of the organisation itself."
        )
    return oid
