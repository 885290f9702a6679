"""Contact sync decisions: which directory users become Odoo contacts, and with what.

Why this file exists: organisation-wide contact sync turns every Microsoft 365 user
into an Odoo contact (``res.partner``), and the rules that decide what happens are
easy to get subtly wrong — so they live here, as pure functions tested with
hypothesis, and the Odoo model only applies their answers:

* **cleaning** (:func:`clean_text`, :func:`clean_phone`, :func:`clean_email`):
  directory data is typed by people; control characters, NUL bytes (which
  PostgreSQL refuses), lone surrogates, odd phone strings and very long values
  must never crash a run or land in Odoo as garbage;
* **state** (:func:`merge_state`, :func:`needs_full_read`): after the baseline,
  ``/users/delta`` sends only the properties that changed (``GraphUser.present``),
  so each contact keeps the last known Graph properties and a change is merged
  into them; a partial change for a user we never stored needs one full read;
* **planning** (:func:`plan_user`): upsert, retire (archive: disabled account,
  excluded guest, removed user) or skip (no usable e-mail address), with the
  fallback name when the display name is empty;
* **duplicates** (:func:`resolve_duplicates`): two users with the same e-mail
  address get one contact, chosen deterministically, the other is named;
* **matching** (:func:`pick_partner`): Graph id, then e-mail, then create —
  preferring the partner of an Odoo user so that it is never duplicated;
* **ownership** (:func:`partner_changes`): a three-way merge between what Microsoft
  365 says now, what Odoo holds now and what the sync last wrote, so that the sync
  writes only what it owns, never overwrites what someone typed in Odoo without a
  change in Microsoft 365, and clears a value only if the sync had set it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..core.errors import BadResponse
from ..core.types import USER_SELECT, GraphUser

__all__ = [
    "CONTACT_SELECT",
    "DELTA_TOKEN_LIFETIME",
    "DIRECTORY_FIELDS",
    "OWNED_FIELDS",
    "Candidate",
    "ContactPlan",
    "ContactSettings",
    "Holder",
    "absent_after_baseline",
    "clean_email",
    "clean_phone",
    "clean_text",
    "delta_key",
    "delta_link_expired",
    "email_key",
    "graph_state",
    "merge_state",
    "needs_full_read",
    "partner_changes",
    "pick_partner",
    "plan_removed",
    "plan_user",
    "resolve_duplicates",
    "user_from_state",
]

#: The user properties contact sync reads (``/users/delta?$select=…``): the
#: directory properties of :data:`~m365_graph.core.types.USER_SELECT` but the company name.
CONTACT_SELECT: tuple[str, ...] = tuple(name for name in USER_SELECT if name != "companyName")

#: Graph docs ("delta query", directory objects): a users-delta token lives about
#: 7 days. An older stored link starts a new baseline without asking Graph first.
DELTA_TOKEN_LIFETIME = timedelta(days=7)

#: Partner fields merged three ways (see :func:`partner_changes`): users may edit them.
OWNED_FIELDS: tuple[str, ...] = ("name", "email", "phone", "m365_mobile", "function", "active")
#: Partner fields that mirror Graph (read-only in Odoo): Microsoft 365 always wins.
DIRECTORY_FIELDS: tuple[str, ...] = (
    "m365_upn",
    "m365_department",
    "m365_office_location",
    "m365_user_type",
    "m365_account_enabled",
)

# Limits of Odoo-side values. Graph's own limits are lower (displayName 256,
# jobTitle 128, department 64, mobilePhone 64): longer means garbage, cut or dropped.
NAME_MAX = 256
TEXT_MAX = 128
PHONE_MAX = 64
EMAIL_MAX = 254  # RFC 5321 path limit
MIN_PHONE_DIGITS = 3

UPSERT = "upsert"
RETIRE = "retire"
SKIP = "skip"

# Graph property -> GraphUser attribute, for the properties contact sync keeps.
_ATTRS: dict[str, str] = {
    "id": "id",
    "displayName": "display_name",
    "givenName": "given_name",
    "surname": "surname",
    "mail": "mail",
    "userPrincipalName": "user_principal_name",
    "jobTitle": "job_title",
    "department": "department",
    "officeLocation": "office_location",
    "businessPhones": "business_phones",
    "mobilePhone": "mobile_phone",
    "accountEnabled": "account_enabled",
    "userType": "user_type",
}

_REMOVED_CHARS = dict.fromkeys(map(ord, "\u200b\ufeff\u2060"))  # zero-width space, BOM, joiner
_LOCAL_RE = re.compile(r"^[^\s@<>()\[\],;:\"\\]+$")
_DOMAIN_RE = re.compile(r"^(?=.{3,253}$)[^\s@<>()\[\],;:\"\\.]+(\.[^\s@<>()\[\],;:\"\\.]+)+$")


# --------------------------------------------------------------------------- cleaning


def _storable(text: str) -> str:
    """Text PostgreSQL accepts: no NUL byte, no lone surrogate (JSON can carry both)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        text = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def clean_text(value: Any, limit: int = TEXT_MAX) -> str | None:
    """One line of readable text, at most ``limit`` characters, or ``None`` if empty.

    Control characters and line breaks become spaces, runs of white space collapse,
    invisible zero-width characters go; a longer value is cut and ends with "…".
    """
    if not isinstance(value, str):
        return None
    text = _storable(value).translate(_REMOVED_CHARS)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text


def clean_phone(value: Any) -> str | None:
    """A phone number as the directory spells it, or ``None`` when it is not one.

    Kept: up to 64 characters with at least three digits ("+49 30 1234-56",
    "(425) 555-0109 ext. 12"). Dropped: "n/a", "-", "call reception", 200 digits.
    """
    text = clean_text(value, limit=10_000)
    if text is None or len(text) > PHONE_MAX:
        return None
    digits = sum(1 for c in text if unicodedata.decimal(c, None) is not None)
    return text if digits >= MIN_PHONE_DIGITS else None


def clean_email(value: Any, *, upn: bool = False) -> str | None:
    """A usable e-mail address (original spelling, trimmed), or ``None``.

    ``upn``: the value is a userPrincipalName — a guest's UPN
    (``jane_fabrikam.com#EXT#@contoso.onmicrosoft.com``) is no address anyone reads.
    """
    if not isinstance(value, str):
        return None
    text = _storable(value).translate(_REMOVED_CHARS).strip()
    if not text or len(text) > EMAIL_MAX or text.count("@") != 1:
        return None
    if upn and "#ext#" in text.lower():
        return None
    local, domain = text.split("@")
    if not _LOCAL_RE.match(local) or not _DOMAIN_RE.match(domain):
        return None
    return text


def email_key(value: Any) -> str | None:
    """The matching key of an address: trimmed, case-insensitive (``None`` if unusable)."""
    text = clean_email(value)
    return text.lower() if text else None


# --------------------------------------------------------------------------- state


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, str):
        return _storable(value)
    return value


def graph_state(user: GraphUser) -> dict[str, Any]:
    """The Graph properties of ``user`` that contact sync keeps, as storable JSON."""
    return {prop: _json_value(getattr(user, attr)) for prop, attr in _ATTRS.items()}


def user_from_state(state: Mapping[str, Any] | None) -> GraphUser | None:
    """A stored state back as a :class:`GraphUser` (``None`` when absent or unusable)."""
    if not isinstance(state, Mapping) or not isinstance(state.get("id"), str):
        return None
    try:
        return GraphUser.from_graph({k: v for k, v in state.items() if k in _ATTRS})
    except BadResponse:
        return None


def merge_state(stored: Mapping[str, Any] | None, update: GraphUser) -> dict[str, Any]:
    """The stored Graph properties with the ones ``update`` carries (``present``) applied.

    A baseline item carries every selected property; a later delta item only the
    ones that changed — those replace the stored values, the others stay.
    """
    merged = {prop: stored.get(prop) for prop in _ATTRS} if isinstance(stored, Mapping) else {}
    for prop in update.present:
        if prop in _ATTRS:
            merged[prop] = _json_value(getattr(update, _ATTRS[prop]))
    merged["id"] = update.id
    for prop in _ATTRS:
        merged.setdefault(prop, [] if prop == "businessPhones" else None)
    return merged


def needs_full_read(
    update: GraphUser, stored: Mapping[str, Any] | None, select: Collection[str] = CONTACT_SELECT
) -> bool:
    """True for a partial delta item of a user whose properties were never stored.

    That happens for a user skipped before (a guest, a disabled account, a duplicate
    address) who then changes: the item has only the changed properties, not enough
    to create a contact, so the user is read in full first.
    """
    if isinstance(stored, Mapping) and stored.get("id") == update.id:
        return False
    return not set(select) <= set(update.present)


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class ContactSettings:
    """Tenant settings that change what becomes a contact."""

    include_guests: bool = False


@dataclass(frozen=True)
class ContactPlan:
    """What the sync wants for one directory user.

    ``action``: ``"upsert"`` (create or update the contact), ``"retire"`` (archive
    the contact if there is one: disabled, removed or excluded guest) or ``"skip"``
    (bad input: leave Odoo alone and say why). ``owned`` holds the desired values of
    :data:`OWNED_FIELDS` (for a retirement only ``active``), ``directory`` those of
    :data:`DIRECTORY_FIELDS`. ``label`` names the user in run messages. ``removed``:
    the user is gone from the directory (nothing to report if it had no contact).
    """

    user_id: str
    action: str
    label: str
    reason: str | None = None
    email_key: str | None = None
    is_guest: bool = False
    owned: Mapping[str, Any] = field(default_factory=dict)
    directory: Mapping[str, Any] = field(default_factory=dict)
    removed: bool = False


def contact_name(user: GraphUser, email: str | None) -> str:
    """The contact's name: display name, else given name + surname, else the address."""
    given = " ".join(p for p in (user.given_name, user.surname) if isinstance(p, str))
    return (
        clean_text(user.display_name, NAME_MAX)
        or clean_text(given, NAME_MAX)
        or email
        or clean_text(user.user_principal_name, NAME_MAX)
        or user.id
    )


def _label(name: str, email: str | None, user_id: str) -> str:
    return f"{name} <{email}>" if email and email != name else f"{name} [{user_id}]"


def plan_user(user: GraphUser, settings: ContactSettings | None = None) -> ContactPlan:
    """Decide what ``user`` (full, or merged with its stored state) means for Odoo."""
    settings = settings or ContactSettings()
    email = clean_email(user.mail) or clean_email(user.user_principal_name, upn=True)
    name = contact_name(user, email)
    label = _label(name, email, user.id)
    kind = (user.user_type or "").strip().lower()
    user_type = kind if kind in ("member", "guest") else None
    is_guest = kind == "guest"
    enabled = user.account_enabled is not False  # absent means enabled
    directory = {
        "m365_upn": clean_text(user.user_principal_name, EMAIL_MAX),
        "m365_department": clean_text(user.department),
        "m365_office_location": clean_text(user.office_location),
        "m365_user_type": user_type,
        "m365_account_enabled": enabled,
    }
    common = {"user_id": user.id, "label": label, "is_guest": is_guest}
    if not enabled:
        return ContactPlan(
            action=RETIRE,
            reason="account disabled",
            owned={"active": False},
            directory=directory,
            **common,
        )
    if is_guest and not settings.include_guests:
        return ContactPlan(
            action=RETIRE,
            reason="guest user (guests are not included)",
            owned={"active": False},
            directory=directory,
            **common,
        )
    if email is None:
        return ContactPlan(
            action=SKIP,
            reason="no usable e-mail address (mail and userPrincipalName are empty or invalid)",
            **common,
        )
    phone = next((p for p in map(clean_phone, user.business_phones) if p), None)
    owned = {
        "name": name,
        "email": email,
        "phone": phone,
        "m365_mobile": clean_phone(user.mobile_phone),
        "function": clean_text(user.job_title),
        "active": True,
    }
    return ContactPlan(
        action=UPSERT,
        email_key=email.lower(),
        owned=owned,
        directory=directory,
        **common,
    )


def plan_removed(user_id: str, reason: str, label: str | None = None) -> ContactPlan:
    """A user that ``@removed`` reported (``"changed"``: soft-deleted; ``"deleted"``: gone)."""
    why = (
        "deleted in Microsoft 365 (restorable for 30 days)"
        if reason == "changed"
        else "deleted in Microsoft 365"
    )
    return ContactPlan(
        user_id=user_id,
        action=RETIRE,
        label=label or f"[{user_id}]",
        reason=why,
        owned={"active": False},
        directory={"m365_account_enabled": False},
        removed=True,
    )


# --------------------------------------------------------------------------- duplicates


@dataclass(frozen=True)
class Holder:
    """A directory user whose contact already carries an address (not in this round)."""

    user_id: str
    label: str


def resolve_duplicates(
    plans: Iterable[ContactPlan],
    linked: Collection[str] = (),
    holders: Mapping[str, Holder] | None = None,
) -> dict[str, str]:
    """Users that must not get a contact because another user has the same address.

    Returns ``{user_id: reason}``. The choice does not depend on the order Graph sent
    the users in: a user whose contact already has the address (``holders``, outside
    this round) keeps it, so contacts never change hands; otherwise members come
    before guests, users that already have a contact (``linked``) before new ones,
    then the smallest Graph id wins.
    """
    holders = holders or {}
    groups: dict[str, list[ContactPlan]] = defaultdict(list)
    for plan in plans:
        if plan.action == UPSERT and plan.email_key:
            groups[plan.email_key].append(plan)
    losers: dict[str, str] = {}
    for key, group in groups.items():
        members = {p.user_id for p in group}
        holder = holders.get(key)
        if holder is not None and holder.user_id not in members:
            for plan in group:
                losers[plan.user_id] = (
                    f"{plan.label}: duplicate e-mail address {key}, already the contact "
                    f"of {holder.label}"
                )
            continue
        if len(group) < 2:
            continue
        ranked = sorted(group, key=lambda p: (p.is_guest, p.user_id not in linked, p.user_id))
        winner = ranked[0]
        for plan in ranked[1:]:
            losers[plan.user_id] = (
                f"{plan.label}: duplicate e-mail address {key}, kept for {winner.label}"
            )
    return losers


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Candidate:
    """An Odoo partner not yet linked to Microsoft 365 that has the user's address."""

    partner_id: int
    internal_user: bool = False
    user: bool = False
    active: bool = True
    is_company: bool = False


def pick_partner(candidates: Iterable[Candidate], exclude: Collection[int] = ()) -> int | None:
    """The partner an e-mail match links to, or ``None`` (then a contact is created).

    Companies are never turned into people; archived partners only count when they
    belong to an Odoo user. The partner of an internal user comes first (it must be
    updated, never duplicated), then of any user, then active ones, then the oldest.
    """
    eligible = [
        c
        for c in candidates
        if c.partner_id not in exclude and not c.is_company and (c.active or c.user)
    ]
    if not eligible:
        return None
    best = min(
        eligible, key=lambda c: (not c.internal_user, not c.user, not c.active, c.partner_id)
    )
    return best.partner_id


# --------------------------------------------------------------------------- ownership


def _blank(value: Any) -> bool:
    return value is None or value is False or value == ""


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return bool(left) == bool(right)
    if _blank(left) and _blank(right):
        return True
    return left == right


def partner_changes(
    plan: ContactPlan, current: Mapping[str, Any], written: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The values to write on a partner, and what the sync has written afterwards.

    ``current``: the partner's values now; ``written``: what the sync wrote (or found
    equal) last time, per field — ``None`` for a partner it never touched. For each
    owned field:

    * Microsoft 365 has a value: written when Odoo differs — unless Microsoft 365 did
      not change since the sync last wrote it, which means someone changed it in Odoo
      afterwards; that edit stays until the value changes in Microsoft 365;
    * Microsoft 365 has none: cleared only if Odoo still holds what the sync wrote.

    Directory fields (read-only in Odoo) always follow Microsoft 365. Values to clear
    are ``False``, as the ORM expects. Returns ``(values, written_after)``.
    """
    previous = dict(written or {})
    after = dict(previous)
    values: dict[str, Any] = {}
    for name, want in plan.owned.items():
        have = current.get(name)
        last = previous.get(name)
        if _blank(want) and not isinstance(want, bool):
            if not _blank(last) and not _blank(have) and _same(have, last):
                values[name] = False
            after[name] = None
            continue
        if not _same(have, want) and not (name in previous and _same(last, want)):
            values[name] = want
        after[name] = want
    for name, want in plan.directory.items():
        if not _same(current.get(name), want):
            values[name] = False if want is None else want
    return values, after


# --------------------------------------------------------------------------- rounds


def delta_key(
    settings: ContactSettings, select: Iterable[str] = CONTACT_SELECT, directory: str = ""
) -> str:
    """What a stored delta link was made for: directory, selected properties, settings.

    A delta round reports only changes, so a link made with other settings (guests
    now included) or other properties would never bring the users it left out, and
    a link of another directory (tenant or Graph URL changed) means nothing here: a
    different key means a new baseline.
    """
    text = "\n".join([",".join(sorted(select)), directory.strip().lower()])
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"contacts-v1;guests={int(settings.include_guests)};{digest}"


def delta_link_expired(
    saved_at: datetime | None, now: datetime, lifetime: timedelta = DELTA_TOKEN_LIFETIME
) -> bool:
    """True when a delta link saved at ``saved_at`` is older than Graph keeps tokens."""
    return saved_at is None or now - saved_at > lifetime


def absent_after_baseline(linked: Iterable[str], seen: Collection[str]) -> set[str]:
    """Users with a contact that a complete baseline did not list: gone from the tenant.

    A new baseline (after an expired token) lists the users that exist, but not the
    ones deleted in the meantime — no ``@removed`` comes for them.
    """
    return {user_id for user_id in linked if user_id not in seen}
