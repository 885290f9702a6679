"""The mutable tenant behind the sandbox: directory, mailboxes, app and grants.

Everything the emulated services know lives here, behind one re-entrant lock,
so tests can change the tenant while clients talk to it from other threads:
add or change users, put events in calendars, narrow the app's permissions,
decide what the sign-in page answers, share calendars, revoke sessions, expire
delta tokens. Every change takes a number from one sequence counter; delta
queries compare those numbers with the one in their token.

The sandbox has its own clock (``now()``), which tests can move forward with
``advance_clock`` to expire access tokens, codes and delta tokens.
``sent_meeting_mail`` lists the meeting requests, updates and cancellations
Outlook would have sent to the attendees of an organiser's events.
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import random
import threading
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from . import online_meetings
from .mailbox_store import (
    ExceptionRecord,
    Mailbox,
    StoredEvent,
    build_event,
    parse_occurrence_id,
    patch_event,
    patch_occurrence,
)
from .zone_lookup import UTC

DEFAULT_CLIENT_ID = "5f0c7a52-3e1b-4c8d-9a6f-2b7e4d1c8a90"
DEFAULT_CLIENT_SECRET = "sbx~Q8f2K.m365-sandbox-secret_7Yv3nR"  # noqa: S105 - a fake, public test secret
DEFAULT_TENANT_ID = "8d3f2c1a-6b4e-4f7a-9c2d-1e5a7b9c0d3e"
DEFAULT_DOMAIN = "contoso.onmicrosoft.com"
DEFAULT_ROLES = ("User.Read.All", "Calendars.ReadWrite")
DEFAULT_REQUESTED_ROLES = ("User.Read.All", "Calendars.ReadWrite", "Place.Read.All")
DEFAULT_REQUESTED_SCOPES = (
    "User.Read",
    "Calendars.ReadWrite",
    "Calendars.ReadWrite.Shared",
    "offline_access",
    "openid",
    "profile",
    "email",
)
DEFAULT_REDIRECT_URIS = (
    "http://localhost*",
    "http://127.0.0.1*",
    "https://localhost*",
    "https://127.0.0.1*",
)

# The properties Graph returns for a user when no $select is given (v1.0).
USER_DEFAULT_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
USER_PROPERTIES = frozenset(
    {
        *USER_DEFAULT_PROPERTIES,
        "accountEnabled",
        "department",
        "userType",
        "companyName",
        "employeeId",
        "city",
        "country",
        "state",
        "streetAddress",
        "postalCode",
        "usageLocation",
        "createdDateTime",
        "mailNickname",
        "otherMails",
        "proxyAddresses",
        "faxNumber",
        "onPremisesImmutableId",
        "externalUserState",
        "employeeType",
        "imAddresses",
        "showInAddressList",
    }
)

_MISSING = object()


@dataclass
class App:
    """An app registration plus what the tenant granted it."""

    client_id: str
    secret: str
    display_name: str = "Odoo M365 Sync"
    redirect_uris: list[str] = field(default_factory=lambda: list(DEFAULT_REDIRECT_URIS))
    requested_roles: set[str] = field(default_factory=lambda: set(DEFAULT_REQUESTED_ROLES))
    roles: set[str] = field(default_factory=lambda: set(DEFAULT_ROLES))
    requested_scopes: set[str] = field(default_factory=lambda: set(DEFAULT_REQUESTED_SCOPES))
    admin_scopes: set[str] = field(
        default_factory=set
    )  # delegated scopes an admin consented for all

    def redirect_allowed(self, uri: str | None) -> bool:
        if not uri:
            return False
        return any(uri == p or fnmatch.fnmatchcase(uri, p) for p in self.redirect_uris)


class UserRecord:
    """A user: Graph properties plus what the identity platform knows of them.

    ``home_tenant``: the tenant the account belongs to. For a member it is this
    tenant (``None``); for a *guest* (B2B: ``userType`` ``Guest``, a
    ``…#EXT#@<tenant domain>`` UPN) it is the guest's own organisation, which the
    identity platform reports as the ``utid`` of ``client_info`` (msal's home
    account id ``<oid>.<utid>``) while the id token's ``tid`` is the tenant signed
    into (Microsoft identity platform docs, "ID token claims reference": ``tid``
    is the tenant the user is signing in to; MSAL docs, "Accounts and tenant
    profiles": the home account is that of the home tenant). ``foreign``: a user of
    *another* tenant who is not in this directory at all (see
    :meth:`TenantState.add_foreign_user`).
    """

    __slots__ = (
        "changed",
        "created_seq",
        "foreign",
        "has_mailbox",
        "home_tenant",
        "props",
        "room",
        "ver",
    )

    def __init__(self, props: dict, has_mailbox: bool, room: dict | None, seq: int):
        self.props = props
        self.has_mailbox = has_mailbox
        self.room = room
        self.ver = seq
        self.created_seq = seq
        self.changed: dict[str, int] = {}
        self.home_tenant: str | None = None
        self.foreign = False


def _home_tenant_of_guest(upn: str) -> str:
    """A stable tenant id for a guest's own organisation, from its ``#EXT#`` UPN.

    ``jordan.miller_fabrikam.com#EXT#@contoso.onmicrosoft.com`` → the tenant of
    ``fabrikam.com`` (the part after the last ``_`` before ``#EXT#``).
    """
    local = upn.split("#EXT#", 1)[0]
    domain = local.rsplit("_", 1)[-1] if "_" in local else local
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, domain.lower()))


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def to_graph_time(value) -> dict:
    """datetime/date/dict → Graph ``dateTimeTimeZone`` (naive datetimes are UTC)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return {"dateTime": value.isoformat(), "timeZone": "UTC"}
        key = getattr(value.tzinfo, "key", None)
        if key:
            return {"dateTime": value.replace(tzinfo=None).isoformat(), "timeZone": key}
        return {
            "dateTime": value.astimezone(UTC).replace(tzinfo=None).isoformat(),
            "timeZone": "UTC",
        }
    if isinstance(value, date):
        return {
            "dateTime": datetime.combine(value, datetime.min.time()).isoformat(),
            "timeZone": "UTC",
        }
    raise TypeError(f"expected datetime, date or dict, got {type(value).__name__}")


class TenantState:
    """One tenant: users, mailboxes, the app registration(s), consents, grants."""

    def __init__(self, rng_seed: int = 0):
        self.lock = threading.RLock()
        self._rng = random.Random(rng_seed)
        self._seq = 0
        self._clock_offset = timedelta(0)
        self.tenant_id = DEFAULT_TENANT_ID
        self.tenant_domain = DEFAULT_DOMAIN
        self.domains: list[str] = [DEFAULT_DOMAIN]
        self.display_name = "Contoso"
        self.apps: dict[str, App] = {}
        self.default_client_id = DEFAULT_CLIENT_ID
        self.add_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        self._users: dict[str, UserRecord] = {}
        self._upn: dict[str, str] = {}
        # Accounts of other tenants: they can sign in (common/organizations), no more.
        self._foreign: dict[str, UserRecord] = {}
        self._user_tombstones: list[tuple[int, str, str, int]] = []  # seq, id, reason, created_seq
        self.mailboxes: dict[str, Mailbox] = {}
        # Sign-in page behaviour.
        self.signed_in_user: str | None = None
        self.consent = "accept"  # "accept" | "deny" | "admin_required"
        self.user_consent_allowed = True
        self.user_consents: dict[tuple[str, str], set[str]] = {}
        # Grants issued by the identity endpoints.
        self.codes: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.shares: dict[tuple[str, str], bool] = {}
        # Mailboxes an application access policy keeps the app out of (403
        # ErrorAccessDenied on every app-only calendar request; see calendar_handlers).
        self.app_blocked: set[str] = set()
        # /users/{id}/mailboxSettings, created with its defaults on first use.
        self.mailbox_settings: dict[str, dict] = {}
        # Meeting requests, updates and cancellations Outlook sent to attendees.
        self.sent_meeting_mail: list[dict] = []
        # Teams: off for the whole tenant, or for users without a licence (online_meetings).
        self.teams_enabled = True
        self.teams_unlicensed: set[str] = set()
        # Lifetimes (seconds) on the sandbox clock.
        self.access_token_lifetime = 3600
        self.code_lifetime = 600
        self.refresh_token_lifetime = 90 * 86400
        self.delta_token_lifetime = 7 * 86400
        self.delta_generation = 0
        # Called as observer(user_id, event_id, change_type, change_key) after every
        # event created, updated or deleted (change notifications, notification_delivery).
        self.event_observers: list = []

    # -- clock and numbering -------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock forward (expires tokens, codes, delta links)."""
        with self.lock:
            self._clock_offset += timedelta(seconds=seconds)

    def next_seq(self) -> int:
        with self.lock:
            self._seq += 1
            return self._seq

    @property
    def seq(self) -> int:
        return self._seq

    def new_guid(self) -> str:
        with self.lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _token(self, nbytes: int, alphabet: str = "url") -> str:
        raw = self._rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
        if alphabet == "url":
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return base64.b64encode(raw).decode()

    def new_event_id(self) -> str:
        # Outlook ids are long base64 strings that start alike ("AAMkA…").
        with self.lock:
            return "AAMkAG" + self._token(33)

    def new_change_key(self) -> str:
        with self.lock:
            return "DwAAABYAAA" + self._token(21, "std")

    def new_ical_uid(self) -> str:
        with self.lock:
            return (
                "040000008200E00074C5B7101A82E00800000000"
                + self._token(16, "std").encode().hex()[:48].upper()
            )

    def random_token(self, nbytes: int = 32) -> str:
        with self.lock:
            return self._token(nbytes)

    # -- tenant and apps -----------------------------------------------------

    def resolve_tenant(self, segment: str) -> str | None:
        """ "guid" for this tenant (by id or verified domain), "common"/"organizations", or None."""
        lowered = segment.lower()
        if lowered in ("common", "organizations"):
            return lowered
        if lowered == self.tenant_id.lower() or lowered in (d.lower() for d in self.domains):
            return "tenant"
        return None

    def add_app(self, client_id: str, secret: str, **fields) -> App:
        with self.lock:
            app = App(client_id=client_id, secret=secret, **fields)
            self.apps[client_id] = app
            return app

    @property
    def app(self) -> App:
        return self.apps[self.default_client_id]

    def set_app_roles(self, roles, client_id: str | None = None) -> None:
        """Set the application permissions admin consent granted (new tokens only)."""
        with self.lock:
            self.apps[client_id or self.default_client_id].roles = set(roles)

    def grant_admin_consent(self, client_id: str | None = None) -> App:
        """What /adminconsent does: grant every requested permission of the app."""
        with self.lock:
            app = self.apps[client_id or self.default_client_id]
            app.roles |= app.requested_roles
            app.admin_scopes |= app.requested_scopes
            return app

    # -- users ---------------------------------------------------------------

    def _record(self, ref: str) -> UserRecord | None:
        if ref in self._users:
            return self._users[ref]
        lowered = str(ref).lower()
        if lowered in self._users:  # Graph ids are GUIDs, matched case-insensitively
            return self._users[lowered]
        user_id = self._upn.get(lowered)
        return self._users.get(user_id) if user_id else None

    def user_record(self, ref: str) -> UserRecord | None:
        with self.lock:
            return self._record(ref)

    def sign_in_record(self, ref: str) -> UserRecord | None:
        """The account ``ref`` names for a sign-in: a user here, or of another tenant."""
        with self.lock:
            record = self._record(ref)
            if record is not None:
                return record
            lowered = str(ref).lower()
            for foreign in self._foreign.values():
                if lowered in (foreign.props["id"], foreign.props["userPrincipalName"].lower()):
                    return foreign
            return None

    def add_foreign_user(self, display_name: str, upn: str, tenant_id: str | None = None) -> dict:
        """An account of *another* tenant (``tenant_id``, a new GUID by default).

        It is not in this directory (``/users`` does not list it, it has no mailbox
        here). Through the multi-tenant endpoints (``common``, ``organizations``) it
        signs in with its own tenant: the id token's ``tid`` and ``client_info``'s
        ``utid`` are ``tenant_id``, so a client configured for this tenant must refuse
        it. Through this tenant's own endpoint the identity platform refuses it with
        ``AADSTS50020`` (Microsoft Entra docs, "Error AADSTS50020 - User account from
        identity provider does not exist in tenant").
        """
        with self.lock:
            user_id = self.new_guid()
            props = {
                "id": user_id,
                "displayName": display_name,
                "userPrincipalName": upn,
                "mail": upn,
                "accountEnabled": True,
                "userType": "Member",
            }
            record = UserRecord(props, False, None, self.next_seq())
            record.home_tenant = tenant_id or self.new_guid()
            record.foreign = True
            self._foreign[user_id] = record
            return dict(props)

    def _require(self, ref: str) -> UserRecord:
        record = self._record(ref)
        if record is None:
            raise KeyError(f"no such user: {ref}")
        return record

    def add_user(
        self,
        display_name: str,
        *,
        upn: str | None = None,
        mail=_MISSING,
        given_name: str | None = None,
        surname: str | None = None,
        job_title: str | None = None,
        department: str | None = None,
        office_location: str | None = None,
        business_phones: list[str] | None = None,
        mobile_phone: str | None = None,
        account_enabled: bool | None = None,
        user_type: str = "Member",
        has_mailbox: bool = True,
        id: str | None = None,
        preferred_language: str | None = "en-US",
        room: dict | None = None,
        **extra,
    ) -> dict:
        """Add a directory user (with a mailbox unless ``has_mailbox=False``).

        ``account_enabled`` defaults to true, except for a room: Exchange Online
        creates resource mailboxes with a disabled (sign-in blocked) account.
        """
        if account_enabled is None:
            account_enabled = room is None
        with self.lock:
            parts = display_name.split()
            if given_name is None and len(parts) > 1:
                given_name = parts[0]
            if surname is None and len(parts) > 1:
                surname = " ".join(parts[1:])
            if upn is None:
                local = ".".join(_ascii(p).lower() for p in parts if p) or "user"
                local = "".join(c for c in local if c.isalnum() or c in "._-")
                upn = f"{local}@{self.tenant_domain}"
                suffix = 2
                while upn.lower() in self._upn:
                    upn = f"{local}{suffix}@{self.tenant_domain}"
                    suffix += 1
            if upn.lower() in self._upn:
                raise ValueError(f"userPrincipalName already exists: {upn}")
            user_id = id or self.new_guid()
            if user_id in self._users:
                raise ValueError(f"user id already exists: {user_id}")
            props = {
                "id": user_id,
                "businessPhones": list(business_phones or []),
                "displayName": display_name,
                "givenName": given_name,
                "jobTitle": job_title,
                "mail": upn if mail is _MISSING else mail,
                "mobilePhone": mobile_phone,
                "officeLocation": office_location,
                "preferredLanguage": preferred_language,
                "surname": surname,
                "userPrincipalName": upn,
                "accountEnabled": account_enabled,
                "department": department,
                "userType": user_type,
                "createdDateTime": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            unknown = set(extra) - USER_PROPERTIES
            if unknown:
                raise TypeError(f"unknown user properties: {sorted(unknown)}")
            props.update(copy.deepcopy(extra))
            record = UserRecord(props, has_mailbox, copy.deepcopy(room), self.next_seq())
            if user_type == "Guest":
                record.home_tenant = _home_tenant_of_guest(upn)
            self._users[user_id] = record
            self._upn[upn.lower()] = user_id
            if has_mailbox:
                self.mailboxes[user_id] = Mailbox(user_id)
            return self._public(record)

    def add_room(
        self,
        display_name: str,
        email: str | None = None,
        *,
        capacity: int = 8,
        building: str | None = None,
        floor_number: int | None = None,
        **extra,
    ) -> dict:
        """A room mailbox: a user with a mailbox, listed by /places/microsoft.graph.room."""
        room = {
            "capacity": capacity,
            "building": building,
            "floorNumber": floor_number,
            **{k: extra.pop(k) for k in list(extra) if k not in USER_PROPERTIES},
        }
        return self.add_user(
            display_name,
            upn=email,
            given_name=extra.pop("given_name", None),
            surname=extra.pop("surname", None),
            room=room,
            **extra,
        )

    def update_room(self, room: str, **values) -> dict:
        """Change a room's Places data (``capacity``, ``building``, ``placesHidden``…)."""
        with self.lock:
            record = self._require(room)
            if record.room is None:
                raise ValueError(f"not a room: {room}")
            record.room.update(copy.deepcopy(values))
            return dict(record.room)

    def _public(self, record: UserRecord) -> dict:
        result = copy.deepcopy(record.props)
        if record.room is not None:
            result["isRoom"] = True
        return result

    def update_user(self, user: str, **props) -> dict:
        """Change Graph properties of a user (each change is seen by /users/delta)."""
        with self.lock:
            record = self._require(user)
            has_mailbox = props.pop("has_mailbox", None)
            unknown = set(props) - USER_PROPERTIES - {"id"}
            if unknown:
                raise TypeError(f"unknown user properties: {sorted(unknown)}")
            seq = self.next_seq()
            for name, value in props.items():
                if name == "id" or record.props.get(name) == value:
                    continue
                if name == "userPrincipalName":
                    self._upn.pop(str(record.props["userPrincipalName"]).lower(), None)
                    self._upn[value.lower()] = record.props["id"]
                record.props[name] = copy.deepcopy(value)
                record.changed[name] = seq
                record.ver = seq
            if has_mailbox is not None and has_mailbox != record.has_mailbox:
                record.has_mailbox = has_mailbox
                if has_mailbox:
                    self.mailboxes.setdefault(record.props["id"], Mailbox(record.props["id"]))
            return self._public(record)

    def remove_user(self, user: str, reason: str = "deleted") -> None:
        """Delete a user; /users/delta reports ``@removed`` with ``reason``
        ("changed" = soft-deleted, restorable; "deleted" = permanently gone)."""
        if reason not in ("changed", "deleted"):
            raise ValueError("reason must be 'changed' or 'deleted'")
        with self.lock:
            record = self._require(user)
            user_id = record.props["id"]
            del self._users[user_id]
            self._upn.pop(str(record.props["userPrincipalName"]).lower(), None)
            self.mailboxes.pop(user_id, None)
            self._user_tombstones.append((self.next_seq(), user_id, reason, record.created_seq))
            for grant in self.refresh_tokens.values():
                if grant["user_id"] == user_id:
                    grant["revoked"] = True

    def get_user(self, user: str) -> dict:
        with self.lock:
            return self._public(self._require(user))

    @property
    def users(self) -> list[dict]:
        with self.lock:
            return [self._public(r) for r in self._users.values()]

    def user_records(self) -> list[UserRecord]:
        with self.lock:
            return list(self._users.values())

    def user_tombstones(self) -> list[tuple[int, str, str, int]]:
        with self.lock:
            return list(self._user_tombstones)

    @property
    def rooms(self) -> list[dict]:
        with self.lock:
            return [self._public(r) for r in self._users.values() if r.room is not None]

    def default_signed_in_user(self) -> UserRecord | None:
        with self.lock:
            if self.signed_in_user:
                return self.sign_in_record(self.signed_in_user)
            for record in self._users.values():
                p = record.props
                if (
                    p.get("accountEnabled")
                    and p.get("userType") == "Member"
                    and record.has_mailbox
                    and record.room is None
                ):
                    return record
            return None

    # -- calendars -----------------------------------------------------------

    def mailbox(self, user: str) -> Mailbox:
        """The mailbox of a user (KeyError if the user or the mailbox does not exist)."""
        with self.lock:
            record = self._require(user)
            box = self.mailboxes.get(record.props["id"]) if record.has_mailbox else None
            if box is None:
                raise KeyError(f"user has no mailbox: {user}")
            return box

    def _organizer(self, record: UserRecord) -> dict:
        return {
            "emailAddress": {
                "name": record.props.get("displayName"),
                "address": record.props.get("mail"),
            }
        }

    def create_event(
        self, user: str, payload: dict, *, event_id: str | None = None
    ) -> tuple[StoredEvent, bool]:
        """Create from a Graph payload. Returns (event, created); a known
        ``transactionId`` returns the existing event and creates nothing."""
        with self.lock:
            box = self.mailbox(user)
            tx = payload.get("transactionId") if isinstance(payload, dict) else None
            if tx is not None and str(tx) in box.tx_index:
                existing = box.events.get(box.tx_index[str(tx)])
                if existing is not None:
                    return existing, False
            seq = self.next_seq()
            event = StoredEvent(
                event_id or self.new_event_id(),
                self.new_ical_uid(),
                self.new_change_key(),
                self.now(),
                seq,
            )
            record = self._require(user)
            build_event(event, payload, self._organizer(record))
            online_meetings.settle(event.props, event.id, self.teams_allowed(record.props["id"]))
            box.add(event)
            self._notify_attendees("request", user, event, event.props)
            self._event_changed(user, event.id, "created", event.change_key)
            return event, True

    def _event_changed(self, user: str, event_id: str, change_type: str, change_key: str) -> None:
        """Tell the observers (change notifications) that an event changed."""
        if not self.event_observers:
            return
        user_id = self._require(user).props["id"]
        for observer in list(self.event_observers):
            observer(user_id, event_id, change_type, change_key)

    def _notify_attendees(self, kind: str, user: str, event, props: dict) -> None:
        """Outlook mails the attendees of an organiser's event when it is created
        (meeting request), changed (update) or deleted (cancellation)."""
        addresses = [
            (a.get("emailAddress") or {}).get("address")
            for a in props.get("attendees") or []
            if isinstance(a, dict)
        ]
        addresses = [a for a in addresses if a]
        if addresses:
            self.sent_meeting_mail.append(
                {
                    "kind": kind,
                    "organizer": user,
                    "event_id": event.id,
                    "subject": props.get("subject"),
                    "to": addresses,
                }
            )

    def find_event(self, user: str, event_id: str) -> tuple[StoredEvent, datetime | None]:
        """(master or single, occurrence key or None); KeyError if unknown."""
        with self.lock:
            box = self.mailbox(user)
            event = box.events.get(event_id)
            if event is not None:
                return event, None
            parsed = parse_occurrence_id(event_id)
            if parsed:
                master = box.events.get(parsed[0])
                if master is not None and master.recurrence:
                    key = master.key_for(parsed[1])
                    if master.has_occurrence(key):
                        return master, key
            raise KeyError(event_id)

    def patch_event(
        self, user: str, event_id: str, payload: dict
    ) -> tuple[StoredEvent, datetime | None]:
        with self.lock:
            event, key = self.find_event(user, event_id)
            seq = self.next_seq()
            now = self.now()
            event.remember(seq)
            if key is None:
                had = (
                    event.props.get("onlineMeeting") if event.props.get("isOnlineMeeting") else None
                )
                patch_event(event, payload)
                online_meetings.settle(
                    event.props,
                    event.id,
                    self.teams_allowed(self._require(user).props["id"]),
                    before=had or None,
                )
                event.change_key = self.new_change_key()
                event.modified = now
                event.master_ver = seq
                self._notify_attendees("update", user, event, event.props)
            else:
                old = event.exceptions.get(key)
                start, end = event.occurrence_times(key)
                exc = ExceptionRecord(start, end, self.new_change_key(), now, seq)
                if old is not None:
                    exc.props = dict(old.props)
                patch_occurrence(event, key, payload, exc)
                # A new record (never mutate in place: history snapshots share them).
                event.exceptions[key] = exc
            event.ver = seq
            self._event_changed(
                user, event_id, "updated", exc.change_key if key is not None else event.change_key
            )
            return event, key

    def teams_allowed(self, user_id: str) -> bool:
        """May this user's calendar hold Teams meetings (tenant has Teams, user licensed)?"""
        return self.teams_enabled and user_id not in self.teams_unlicensed

    def set_teams(self, enabled: bool, user: str | None = None) -> None:
        """Switch Teams off (or on) for the tenant, or take a user's licence away."""
        with self.lock:
            if user is None:
                self.teams_enabled = enabled
                return
            user_id = self._require(user).props["id"]
            if enabled:
                self.teams_unlicensed.discard(user_id)
            else:
                self.teams_unlicensed.add(user_id)

    def remove_event(self, user: str, event_id: str) -> None:
        with self.lock:
            event, key = self.find_event(user, event_id)
            seq = self.next_seq()
            if key is None:
                self.mailbox(user).remove(event, seq)
                self._notify_attendees("cancellation", user, event, event.props)
            else:
                event.remember(seq)
                event.exceptions.pop(key, None)
                event.cancelled[key] = seq
                event.ver = seq
            self._event_changed(user, event_id, "deleted", event.change_key)

    def add_event(
        self, user: str, subject: str, start, end, *, id: str | None = None, **graph_props
    ) -> dict:
        """Put an event in a calendar (start/end: aware datetimes, naive = UTC,
        dates for all-day events, or Graph dateTimeTimeZone dicts)."""
        payload = {
            "subject": subject,
            "start": to_graph_time(start),
            "end": to_graph_time(end),
            **graph_props,
        }
        with self.lock:
            event, _created = self.create_event(user, payload, event_id=id)
            return event.render()

    def update_event(self, user: str, event_id: str, **graph_props) -> dict:
        for name in ("start", "end"):
            if name in graph_props:
                graph_props[name] = to_graph_time(graph_props[name])
        with self.lock:
            event, key = self.patch_event(user, event_id, graph_props)
            return event.render(key)

    def delete_event(self, user: str, event_id: str) -> None:
        self.remove_event(user, event_id)

    def override_event_json(self, user: str, event_id: str, **raw) -> dict:
        """Force raw JSON values into every rendering of an event (``None`` drops a property).

        For the odd data real mailboxes hand out and a well-formed request can never
        create: a custom time zone name Graph cannot convert, an end before the
        start imported from another system, a missing property. The change counts as
        an update of the event (new change key, seen by delta rounds); for a series it
        applies to every occurrence.
        """
        with self.lock:
            event, key = self.find_event(user, event_id)
            if key is not None:
                raise ValueError("override the series master, not one occurrence")
            seq = self.next_seq()
            event.remember(seq)
            event.overrides = {**event.overrides, **raw}
            event.change_key = self.new_change_key()
            event.modified = self.now()
            event.master_ver = seq
            event.ver = seq
            self._event_changed(user, event_id, "updated", event.change_key)
            return event.render()

    def events(self, user: str) -> list[dict]:
        """Stored events (single instances and series masters) in Graph shape."""
        with self.lock:
            return [e.render() for e in self.mailbox(user).events.values()]

    def block_app(self, user: str, blocked: bool = True) -> None:
        """Keep the app out of a mailbox (an Exchange application access policy)."""
        with self.lock:
            user_id = self._require(user).props["id"]
            (self.app_blocked.add if blocked else self.app_blocked.discard)(user_id)

    def set_calendar_processing(self, room: str, **rules) -> dict:
        """Change a room's booking assistant (``room_booking.DEFAULT_PROCESSING`` keys)."""
        with self.lock:
            record = self._require(room)
            if record.room is None:
                raise ValueError(f"not a room: {room}")
            current = dict(record.room.get("calendarProcessing") or {})
            current.update(rules)
            record.room["calendarProcessing"] = current
            return current

    def share_calendar(self, owner: str, delegate: str, write: bool = True) -> None:
        """Share ``owner``'s calendar with ``delegate`` (delegated *.Shared scopes)."""
        with self.lock:
            self.shares[(self._require(owner).props["id"], self._require(delegate).props["id"])] = (
                write
            )

    def shared_with(self, owner_id: str, delegate_id: str) -> bool | None:
        """None if not shared, else whether the delegate may write."""
        with self.lock:
            return self.shares.get((owner_id, delegate_id))

    # -- delta and sessions --------------------------------------------------

    def expire_delta_tokens(self) -> None:
        """Every delta/skip token issued so far answers 410 syncStateNotFound."""
        with self.lock:
            self.delta_generation += 1

    def revoke_refresh_tokens(self, user: str | None = None) -> int:
        """Revoke refresh tokens (of one user, or all); returns how many."""
        with self.lock:
            user_id = self._require(user).props["id"] if user else None
            count = 0
            for grant in self.refresh_tokens.values():
                if user_id is None or grant["user_id"] == user_id:
                    grant["revoked"] = True
                    count += 1
            return count

    def consented_scopes(self, user_id: str, client_id: str) -> set[str]:
        with self.lock:
            app = self.apps.get(client_id)
            granted = set(self.user_consents.get((user_id, client_id), set()))
            return granted | (app.admin_scopes if app else set())
