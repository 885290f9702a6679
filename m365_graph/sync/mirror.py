"""Busy-only mirror between one user's accounts: which "Busy" blocks to create, move, delete.

Why this file exists: calendar-sync services let a person with several calendars
(two tenants, a customer's tenant) show their busy time in each of them without
details. In m365_sync a user with several connected accounts switches the mirror on
per account; each mirrored account's busy time is copied into every other
mirrored account as "Busy" blocks — subject "Busy", ``showAs: busy``,
``sensitivity: private``, no body, location or attendees, reminder off, category
:data:`MIRROR_CATEGORY`. The decisions are pure and live here; the job
(``m365.job.mirror``) reads the calendars and writes the blocks.

Loop prevention — a mirror never mirrors a mirror:

* every block Odoo wrote is remembered (``m365.mirror.block``: source account
  and event, target account and event), and an event whose id is one of them is
  never a source;
* every block carries :data:`MIRROR_CATEGORY`, so a block is recognised even when
  Odoo's record of it is gone (restored database, a second Odoo).

So with three accounts A, B, C, A's meeting becomes one block in B and one in C,
and those blocks are never copied back into A or across into each other: the
cycle A → B → C → A stops after one step, and a second run with no change
writes nothing (:func:`plan_mirror` is idempotent).

Cleanup: blocks whose source or target account is no longer mirrored (switched
off, disconnected) are deleted; so are blocks whose source event is gone or no
longer busy. A block whose source moved is moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..core.timezones import as_utc, to_graph_datetime
from ..core.types import BusySlot
from .rules import counts_as_busy

__all__ = [
    "MIRROR_CATEGORY",
    "MIRROR_SUBJECT",
    "MirrorBlock",
    "MirrorPlan",
    "is_mirror",
    "mirror_payload",
    "plan_mirror",
]

MIRROR_CATEGORY = "Busy (mirrored by Odoo)"
MIRROR_SUBJECT = "Busy"


@dataclass(frozen=True)
class MirrorBlock:
    """A block Odoo wrote (``target_event_id`` set) or is about to write (``None``)."""

    source_account: Any
    source_event_id: str
    target_account: Any
    start: datetime
    end: datetime
    is_all_day: bool = False
    target_event_id: str | None = None

    @property
    def key(self) -> tuple[Any, str, Any]:
        return (self.source_account, self.source_event_id, self.target_account)


@dataclass
class MirrorPlan:
    """``create``: new blocks; ``move``: (block, new start, new end); ``delete``: blocks."""

    create: list[MirrorBlock] = field(default_factory=list)
    move: list[tuple[MirrorBlock, datetime, datetime, bool]] = field(default_factory=list)
    delete: list[MirrorBlock] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.create) + len(self.move) + len(self.delete)


def is_mirror(slot: BusySlot, mirror_ids: Iterable[str] = ()) -> bool:
    """A block written by the mirror (by its marker category or its known id)."""
    return MIRROR_CATEGORY in slot.categories or slot.event_id in set(mirror_ids)


def _sources(
    busy: Mapping[Any, Iterable[BusySlot]], mirror_ids: set[str], tentative_busy: bool
) -> dict[Any, dict[str, BusySlot]]:
    out: dict[Any, dict[str, BusySlot]] = {}
    for account, slots in busy.items():
        mine: dict[str, BusySlot] = {}
        for slot in slots:
            if slot.event_type == "seriesMaster" or is_mirror(slot, mirror_ids):
                continue
            if not counts_as_busy(slot.show_as, slot.response, tentative_busy=tentative_busy):
                continue
            mine[slot.event_id] = slot
        out[account] = mine
    return out


def plan_mirror(
    accounts: Sequence[Any],
    busy: Mapping[Any, Iterable[BusySlot]],
    existing: Iterable[MirrorBlock],
    *,
    tentative_busy: bool = True,
) -> MirrorPlan:
    """What to write so that each of ``accounts`` shows the others' busy time.

    ``accounts``: the mirrored accounts; ``busy``: what was read of each (an
    account missing from ``busy`` could not be read: its blocks stay as they are,
    neither source nor target changes); ``existing``: the blocks Odoo wrote.
    """
    existing = list(existing)
    mirror_ids = {b.target_event_id for b in existing if b.target_event_id}
    sources = _sources(busy, mirror_ids, tentative_busy)
    mirrored = set(accounts)
    plan = MirrorPlan()
    have = {b.key: b for b in existing}
    for block in existing:
        if block.source_account not in mirrored or block.target_account not in mirrored:
            plan.delete.append(block)  # switched off or disconnected: clean up
            continue
        if block.source_account not in sources or block.target_account not in busy:
            continue  # not read this time: leave it
        slot = sources[block.source_account].get(block.source_event_id)
        if slot is None:
            plan.delete.append(block)
            continue
        start, end = as_utc(slot.start), as_utc(slot.end)
        if (start, end, slot.is_all_day) != (
            as_utc(block.start),
            as_utc(block.end),
            block.is_all_day,
        ):
            plan.move.append((block, start, end, slot.is_all_day))
    for source in accounts:
        for event_id, slot in sources.get(source, {}).items():
            for target in accounts:
                if target == source or target not in busy:
                    continue
                if (source, event_id, target) in have:
                    continue
                plan.create.append(
                    MirrorBlock(
                        source,
                        event_id,
                        target,
                        as_utc(slot.start),
                        as_utc(slot.end),
                        slot.is_all_day,
                    )
                )
    return plan


def mirror_payload(start: datetime, end: datetime, is_all_day: bool = False) -> dict[str, Any]:
    """The Graph body of a "Busy" block: times and availability, nothing else."""
    return {
        "subject": MIRROR_SUBJECT,
        "body": {"contentType": "text", "content": ""},
        "start": to_graph_datetime(start),
        "end": to_graph_datetime(end),
        "isAllDay": bool(is_all_day),
        "showAs": "busy",
        "sensitivity": "private",
        "categories": [MIRROR_CATEGORY],
        "isReminderOn": False,
    }
