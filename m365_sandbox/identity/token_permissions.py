"""Who is calling and what they may do, from the bearer token's claims.

Graph authorises every call from the access token alone: application tokens
carry ``roles`` (application permissions granted by admin consent) and reach
any mailbox; delegated tokens carry ``scp`` (scopes the user consented to) and
reach the signed-in user's own data, plus calendars other users shared with
them when the token has a ``*.Shared`` scope. Directory endpoints and Outlook
endpoints deny with different error codes, reproduced here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tenant.service_errors import GraphError, directory_denied, mailbox_denied

DIRECTORY_READ = frozenset(
    {
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "User.ReadBasic.All",
    }
)
DIRECTORY_DELEGATED = DIRECTORY_READ | {"Directory.AccessAsUser.All"}
USERS_DELTA_APP = DIRECTORY_READ - {"User.ReadBasic.All"}
SELF_READ = frozenset(
    {
        "User.Read",
        "User.ReadWrite",
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
PLACES = frozenset({"Place.Read.All", "Place.ReadWrite.All"})

CAL_APP_BASIC = frozenset({"Calendars.ReadBasic.All", "Calendars.ReadBasic"})
CAL_APP_READ = frozenset({"Calendars.Read", "Calendars.ReadWrite"})
CAL_APP_WRITE = frozenset({"Calendars.ReadWrite"})
CAL_OWN_BASIC = frozenset({"Calendars.ReadBasic"})
CAL_OWN_READ = frozenset(
    {"Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "Calendars.ReadWrite.Shared"}
)
CAL_OWN_WRITE = frozenset({"Calendars.ReadWrite", "Calendars.ReadWrite.Shared"})
CAL_SHARED_READ = frozenset({"Calendars.Read.Shared", "Calendars.ReadWrite.Shared"})
CAL_SHARED_WRITE = frozenset({"Calendars.ReadWrite.Shared"})


@dataclass(frozen=True)
class Principal:
    kind: str  # "app" or "user"
    client_id: str
    roles: frozenset[str]
    scopes: frozenset[str]
    user_id: str | None
    claims: dict

    @classmethod
    def from_claims(cls, claims: dict) -> Principal:
        if claims.get("idtyp") == "user" or "scp" in claims:
            return cls(
                "user",
                claims.get("appid", ""),
                frozenset(),
                frozenset((claims.get("scp") or "").split()),
                claims.get("oid"),
                claims,
            )
        return cls(
            "app",
            claims.get("appid", ""),
            frozenset(claims.get("roles") or ()),
            frozenset(),
            None,
            claims,
        )

    @property
    def is_app(self) -> bool:
        return self.kind == "app"

    def granted(self) -> frozenset[str]:
        return self.roles if self.is_app else self.scopes

    def has_any(self, permissions) -> bool:
        return bool(self.granted() & frozenset(permissions))


def require_directory_read(principal: Principal) -> None:
    allowed = DIRECTORY_READ if principal.is_app else DIRECTORY_DELEGATED
    if not principal.has_any(allowed):
        raise directory_denied()


def require_user_read(principal: Principal, target_id: str) -> None:
    """Reading one user: anyone with directory read, or a user reading themself."""
    if not principal.is_app and principal.user_id == target_id and principal.has_any(SELF_READ):
        return
    require_directory_read(principal)


def require_users_delta(principal: Principal) -> None:
    allowed = USERS_DELTA_APP if principal.is_app else DIRECTORY_DELEGATED - {"User.ReadBasic.All"}
    if not principal.has_any(allowed):
        raise directory_denied()


def require_places(principal: Principal) -> None:
    if not principal.has_any(PLACES):
        raise GraphError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )


def calendar_precheck(principal: Principal, write: bool) -> None:
    """Deny before looking anything up when no calendar permission could apply."""
    if principal.is_app:
        needed = CAL_APP_WRITE if write else CAL_APP_BASIC | CAL_APP_READ
    else:
        needed = CAL_OWN_WRITE if write else CAL_OWN_BASIC | CAL_OWN_READ
    if not principal.has_any(needed):
        raise mailbox_denied()


def calendar_access(principal: Principal, owner_id: str, shared: bool | None, write: bool) -> bool:
    """Check access to ``owner_id``'s calendar; returns True if only basic fields may be read.

    ``shared`` is None when the owner did not share with the caller, else
    whether the share allows writing.
    """
    if principal.is_app:
        if write:
            if not principal.has_any(CAL_APP_WRITE):
                raise mailbox_denied()
            return False
        if principal.has_any(CAL_APP_READ):
            return False
        if principal.has_any(CAL_APP_BASIC):
            return True
        raise mailbox_denied()
    if principal.user_id == owner_id:
        if write:
            if not principal.has_any(CAL_OWN_WRITE):
                raise mailbox_denied()
            return False
        if principal.has_any(CAL_OWN_READ):
            return False
        if principal.has_any(CAL_OWN_BASIC):
            return True
        raise mailbox_denied()
    # Someone else's calendar: only through a share and a *.Shared scope.
    if shared is None:
        raise mailbox_denied()
    if write:
        if not (shared and principal.has_any(CAL_SHARED_WRITE)):
            raise mailbox_denied()
        return False
    if not principal.has_any(CAL_SHARED_READ):
        raise mailbox_denied()
    return False
