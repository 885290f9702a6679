"""Which mailbox belongs to an Odoo user: directory users matched by e-mail address.

Why this file exists: busy-time import covers every Odoo user whose e-mail address
is a tenant user's. An Odoo address may be the user's ``mail`` (primary SMTP
address) or their ``userPrincipalName`` — they often differ (``a.vance@contoso.com``
vs ``adele.vance@contoso.onmicrosoft.com``) — so the directory is read once per run
(``/users?$select=id,mail,userPrincipalName``, 999 per page: a 10,000-user tenant
costs 11 requests) and every address is matched case-insensitively. Reading the
directory needs ``User.ReadBasic.All`` (or a stronger ``User.Read.All``, which
contact sync asks for anyway). Without it, Graph can still address a mailbox by its
UPN: :func:`match_mailboxes` then uses the Odoo address as it is.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from ..core.client import GraphClient
from ..core.errors import BadResponse
from ..core.types import GraphUser, SkippedItem

__all__ = ["DIRECTORY_SELECT", "Directory", "match_mailboxes", "read_directory"]

DIRECTORY_SELECT = ("id", "mail", "userPrincipalName")
DIRECTORY_PERMISSION = "User.ReadBasic.All"


@dataclass
class Directory:
    """Lower-cased ``mail`` and ``userPrincipalName`` → Graph user id."""

    by_address: dict[str, str]
    users: int = 0
    skipped: tuple[SkippedItem, ...] = ()

    def lookup(self, address: str | None) -> str | None:
        return self.by_address.get(address.strip().lower()) if address else None


def read_directory(client: GraphClient, *, page_size: int = 999) -> Directory:
    """Every directory user's addresses (all pages). Malformed users are skipped."""
    by_address: dict[str, str] = {}
    skipped: list[SkippedItem] = []
    count = 0
    for item in client.iter_items(
        "/users",
        params={"$select": ",".join(DIRECTORY_SELECT), "$top": str(page_size)},
        what="Reading the directory (users and their e-mail addresses)",
        permission=DIRECTORY_PERMISSION,
    ):
        try:
            user = GraphUser.from_graph(item)
        except BadResponse as exc:
            ident = item.get("id") if isinstance(item, dict) else None
            skipped.append(SkippedItem(ident if isinstance(ident, str) else None, exc.message))
            continue
        count += 1
        # The UPN first, so that a mail address shared by mistake never hides a UPN.
        for address in (user.user_principal_name, user.mail):
            if address:
                by_address.setdefault(address.strip().lower(), user.id)
    return Directory(by_address, count, tuple(skipped))


def match_mailboxes(
    addresses: Mapping[Hashable, Iterable[str | None]], directory: Directory | None
) -> dict[Hashable, str | None]:
    """The mailbox to read for each key (an Odoo user), or ``None`` when none matches.

    ``addresses`` gives each key's e-mail addresses in order of preference. With a
    ``directory`` the result is a Graph user id; without one (no permission to read
    the directory) it is the first address, lower-cased, for Graph to resolve as a UPN.
    """
    out: dict[Hashable, str | None] = {}
    for key, candidates in addresses.items():
        clean = [a.strip().lower() for a in candidates if a and "@" in a]
        if directory is None:
            out[key] = clean[0] if clean else None
        else:
            out[key] = next((directory.lookup(a) for a in clean if directory.lookup(a)), None)
    return out
