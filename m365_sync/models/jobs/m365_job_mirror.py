"""Busy-only mirror (``m365.job``): each of a user's mirrored accounts shows the others'
busy time as "Busy" blocks without details.

The unit of work is one user (their id): every account of theirs with *Mirror busy
time* on (and Up or Up and Down, which holds ``Calendars.ReadWrite``) is read over
the window (yesterday to :data:`DAYS_AHEAD` days ahead, busy-time fields only:
``m365_graph.resources.calendar.BUSY_SELECT_WITH_RESPONSE``: declined invitations
never count), the plan is
``m365_graph.sync.mirror.plan_mirror`` (loop prevention: a block is never a
source), and the writes go through ``$batch`` per target account
(``m365_graph.push_operations``, creations with a ``transactionId`` stable per
source event and target, so a lost answer never doubles a block). Each block is
remembered in ``m365.mirror.block``. A user whose accounts were all switched off
still has a unit until their blocks are cleaned up. An account that cannot be read
keeps its blocks as they are this time; one that cannot be written counts as a
skipped item on the run.
"""

import uuid
from collections import defaultdict
from datetime import datetime, time, timedelta, timezone

from odoo import api, fields, models

from m365_graph import (
    Counters,
    GraphError,
    PushOperation,
    calendar_view,
    push_operations,
)
from m365_graph.resources.calendar import BUSY_SELECT_WITH_RESPONSE
from m365_graph.sync.mirror import MirrorBlock, mirror_payload, plan_mirror
from m365_graph.sync.personal import PUSH_DIRECTIONS

from ..m365_account import TokenKeeper

DAYS_AHEAD = 30
_TX = uuid.UUID("6d1b2f7e-93f4-4f0e-8a51-4d4952524f52")


class M365JobMirror(models.AbstractModel):
    _name = "m365.job.mirror"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: busy-only mirror between a user's accounts"

    _m365_job_kind = "mirror"
    _m365_lock_class = 3655

    @api.model
    def _m365_mirrored(self, user):
        return (
            self.env["m365.account"]
            .sudo()
            .search(
                [
                    ("user_id", "=", user.id),
                    ("busy_mirror", "=", True),
                    ("state", "=", "connected"),
                    ("direction", "in", tuple(PUSH_DIRECTIONS)),
                    ("tenant_id.personal_sync", "=", True),
                ]
            )
        )

    @api.model
    def _m365_units(self, due_only=True):
        Account = self.env["m365.account"].sudo()
        users = set(Account.search([("busy_mirror", "=", True)]).user_id.ids)
        # Users whose blocks are still to clean up (mirror switched off everywhere).
        groups = self.env["m365.mirror.block"].sudo()._read_group([], ["user_id"])
        users |= {user.id for (user,) in groups}
        return sorted(users)

    @api.model
    def _m365_unit_scope(self, unit):
        user = self.env["res.users"].sudo().browse(unit)
        return {"tenant": user.company_id.m365_tenant_id, "user": user}

    @api.model
    def _m365_unit_active(self, unit):
        return bool(self.env["res.users"].sudo().browse(unit).exists())

    @api.model
    def _m365_window(self):
        today = fields.Date.context_today(self)
        start = datetime.combine(today - timedelta(days=1), time(0), tzinfo=timezone.utc)
        return start, start + timedelta(days=DAYS_AHEAD + 1)

    @api.model
    def _m365_do_unit(self, unit, run):
        user = self.env["res.users"].sudo().browse(unit)
        Block = self.env["m365.mirror.block"].sudo()
        mirrored = self._m365_mirrored(user)
        blocks = Block.search([("user_id", "=", user.id)])
        start, end = self._m365_window()
        counters = Counters()
        clients, keepers, busy = {}, {}, {}
        try:
            # Accounts to read (mirrored) and to clean up (targets of old blocks).
            writable = mirrored | blocks.target_account_id.filtered(
                lambda a: a.state == "connected" and a.direction in PUSH_DIRECTIONS
            )
            for account in writable:
                keepers[account.id] = TokenKeeper(account)
                clients[account.id] = account._m365_client(counters, keepers[account.id].changed)
            for account in mirrored:
                try:
                    slots = calendar_view(
                        clients[account.id], "me", start, end, select=BUSY_SELECT_WITH_RESPONSE
                    )
                except GraphError as exc:
                    run._m365_count(skipped_reason=f"{account.display_name}: {exc}")
                    continue
                busy[account.id] = [s for s in slots if s.start < end and s.end > start]
            existing = [
                MirrorBlock(
                    b.source_account_id.id or None,
                    b.source_event_id,
                    b.target_account_id.id or None,
                    b.start.replace(tzinfo=timezone.utc),
                    b.stop.replace(tzinfo=timezone.utc),
                    b.all_day,
                    b.target_event_id,
                )
                for b in blocks
            ]
            rows = {(b.target_account_id.id or None, b.target_event_id): b for b in blocks}
            plan = plan_mirror(
                mirrored.ids, busy, existing, tentative_busy=user._m365_tentative_busy()
            )
            stats = self._m365_apply(user, plan, clients, rows, run)
            run._m365_add_stats(counters.snapshot())
            run._m365_done(
                self.env._(
                    "%(created)s created, %(moved)s moved, %(deleted)s deleted",
                    **stats,
                )
            )
        finally:
            for client in clients.values():
                client.close()
            for keeper in keepers.values():
                keeper.persist()

    @api.model
    def _m365_apply(self, user, plan, clients, rows, run):
        Block = self.env["m365.mirror.block"].sudo()
        stats = {"created": 0, "moved": 0, "deleted": 0}
        by_target = defaultdict(list)
        for block in plan.delete:
            row = rows[(block.target_account, block.target_event_id)]
            if block.target_account not in clients:
                row.unlink()  # the account is gone or cannot write: nothing to delete there
                stats["deleted"] += 1
                continue
            op = PushOperation(f"d{row.id}", "delete", event_id=block.target_event_id)
            by_target[block.target_account].append((op, row, None))
        for block, new_start, new_end, all_day in plan.move:
            row = rows[(block.target_account, block.target_event_id)]
            op = PushOperation(
                f"m{row.id}",
                "update",
                mirror_payload(new_start, new_end, all_day),
                event_id=block.target_event_id,
            )
            by_target[block.target_account].append((op, row, (new_start, new_end, all_day)))
        for index, block in enumerate(plan.create):
            key = "/".join(
                map(
                    str,
                    (
                        self.env.cr.dbname,
                        block.source_account,
                        block.source_event_id,
                        block.target_account,
                    ),
                )
            )
            op = PushOperation(
                f"c{index}",
                "create",
                mirror_payload(block.start, block.end, block.is_all_day),
                transaction_id=str(uuid.uuid5(_TX, key)),
            )
            by_target[block.target_account].append((op, None, block))
        for target, items in by_target.items():
            results = push_operations(clients[target], "me", [op for op, _row, _x in items])
            for (op, row, extra), result in zip(items, results, strict=True):
                if not result.ok:
                    run._m365_count(
                        skipped_reason=f"{op.operation} of a Busy block: {result.error}"
                    )
                    continue
                if op.operation == "delete":
                    row.unlink()
                    stats["deleted"] += 1
                elif op.operation == "update":
                    new_start, new_end, all_day = extra
                    row.write(
                        {
                            "start": new_start.replace(tzinfo=None),
                            "stop": new_end.replace(tzinfo=None),
                            "all_day": all_day,
                        }
                    )
                    stats["moved"] += 1
                else:
                    Block.create(
                        {
                            "user_id": user.id,
                            "source_account_id": extra.source_account,
                            "source_event_id": extra.source_event_id,
                            "target_account_id": target,
                            "target_event_id": result.event.id,
                            "start": extra.start.replace(tzinfo=None),
                            "stop": extra.end.replace(tzinfo=None),
                            "all_day": extra.is_all_day,
                        }
                    )
                    stats["created"] += 1
        return stats
