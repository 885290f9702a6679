"""Busy time in shards: one tenant's import as several jobs, on several servers.

``m365_sync``'s busy-time unit is a whole tenant: from the cron, one worker reads
every covered calendar, chunk after chunk. Through the queue that would be a
single job, however many servers there are. Here the tenant's unit is split into
``shards`` units (Settings → Microsoft 365 → Job queue, default 8): shard *k* of
*n* holds the covered users whose id is *k* modulo *n*. Each shard is a unit of
the same base — its own lock, sync run (``unit_key`` ``busy:<tenant>:<k>/<n>``),
resume state, chunks and commits — and runs the same code: the directory is
read, the shard's users are matched and read in chunks of 100 mailboxes
(``$batch``), their slots reconciled and their workload days recomputed. Shards
cover disjoint users, so they never write the same slot or workload day and
never read the same mailbox: Graph's four concurrent requests per mailbox hold
as they do for one worker.

Without the queue (``m365_queue_inline``, or without this addon) the unit stays
the tenant, as in ``m365_sync``.
"""

import zlib

from odoo import api, fields, models
from odoo.tools import SQL

#: ir.config_parameter: the number of shards of a tenant's busy-time import.
SHARDS_PARAM = "m365_sync_queue.busy_shards"
DEFAULT_SHARDS = 8
MAX_SHARDS = 64
#: First key of a shard's advisory lock (the tenant's own unit keeps m365_sync's).
SHARD_LOCK_NAMESPACE = 365_014
#: An interrupted shard run older than this is not resumed (as m365_sync's RESUME_FOR).
RESUME_HOURS = 12


class M365JobBusy(models.AbstractModel):
    _inherit = "m365.job.busy"

    # ------------------------------------------------------------------
    # Units: shards of a tenant
    # ------------------------------------------------------------------
    @api.model
    def _m365_units(self, due_only=True):
        tenants = super()._m365_units(due_only=due_only)
        if self.env.context.get("m365_queue_inline"):
            return tenants
        count = self._m365_busy_shards()
        units = []
        for tenant_id in tenants:
            self._m365_close_tenant_runs(tenant_id)
            units += [{"tenant": tenant_id, "shard": k, "of": count} for k in range(count)]
        return units

    @api.model
    def _m365_busy_shards(self):
        value = self.env["ir.config_parameter"].sudo().get_param(SHARDS_PARAM)
        try:
            count = int(value) if value else DEFAULT_SHARDS
        except ValueError:
            count = DEFAULT_SHARDS
        return min(max(count, 1), MAX_SHARDS)

    @api.model
    def _m365_close_tenant_runs(self, tenant_id):
        """A whole-tenant run left running (before the shards, or a button's that
        died) would never be resumed by a shard: close it."""
        runs = (
            self.env["m365.sync.run"]
            .sudo()
            .search(
                [
                    ("unit_key", "=", self._m365_unit_identity(tenant_id)),
                    ("state", "=", "running"),
                ]
            )
        )
        for run in runs:
            if self._m365_try_lock(self._m365_lock_key(tenant_id)):
                run._m365_interrupt(
                    self.env._("Interrupted; the import goes on in shards (job queue).")
                )
        return True

    @api.model
    def _m365_shard_of(self, unit):
        """(tenant id, (k, n) or None) of a unit: a shard, or m365_sync's tenant id."""
        if isinstance(unit, dict):
            return unit["tenant"], (unit["shard"], unit["of"])
        return unit, None

    @api.model
    def _m365_unit_identity(self, unit):
        tenant_id, shard = self._m365_shard_of(unit)
        if shard is None:
            return super()._m365_unit_identity(unit)
        return f"busy:{tenant_id}:{shard[0]}/{shard[1]}"

    @api.model
    def _m365_lock_key(self, unit):
        shard = self._m365_shard_of(unit)[1]
        if shard is None:
            return super()._m365_lock_key(unit)
        identity = self._m365_unit_identity(unit)
        return SHARD_LOCK_NAMESPACE, zlib.crc32(identity.encode()) - 2**31

    @api.model
    def _m365_unit_scope(self, unit):
        return super()._m365_unit_scope(self._m365_shard_of(unit)[0])

    @api.model
    def _m365_unit_active(self, unit):
        return super()._m365_unit_active(self._m365_shard_of(unit)[0])

    @api.model
    def _m365_unit_due(self, unit):
        return super()._m365_unit_due(self._m365_shard_of(unit)[0])

    @api.model
    def _m365_start_run(self, unit):
        tenant_id, shard = self._m365_shard_of(unit)
        if shard is None:
            return super()._m365_start_run(unit)
        identity = self._m365_unit_identity(unit)
        run = super(M365JobBusy, self.with_context(m365_busy_unit_key=identity))._m365_start_run(
            tenant_id
        )
        run.unit_key = identity
        return run

    @api.model
    def _m365_do_unit(self, unit, run):
        tenant_id, shard = self._m365_shard_of(unit)
        return super(M365JobBusy, self.with_context(m365_busy_shard=shard))._m365_do_unit(
            tenant_id, run
        )

    @api.model
    def _m365_after_unit(self, unit, run):
        return super()._m365_after_unit(self._m365_shard_of(unit)[0], run)

    @api.model
    def _m365_failure_message(self, unit, run, exc):
        return super()._m365_failure_message(self._m365_shard_of(unit)[0], run, exc)

    # ------------------------------------------------------------------
    # The shard's users
    # ------------------------------------------------------------------
    def _m365_in_shard(self, user_id):
        shard = self.env.context.get("m365_busy_shard")
        return not shard or user_id % shard[1] == shard[0]

    @api.model
    def _m365_covered_users(self, tenant, client):
        users, mailbox_of, note = super()._m365_covered_users(tenant, client)
        if not self.env.context.get("m365_busy_shard"):
            return users, mailbox_of, note
        users = users.filtered(lambda u: self._m365_in_shard(u.id))
        return users, {uid: mb for uid, mb in mailbox_of.items() if uid in users.ids}, note

    @api.model
    def _m365_forget_uncovered(self, tenant, users, run, window):
        shard = self.env.context.get("m365_busy_shard")
        if not shard:
            return super()._m365_forget_uncovered(tenant, users, run, window)
        # Only the shard's users are this unit's: "uncovered" means in the shard and
        # no longer covered, never "in another shard".
        self.env.cr.execute(
            SQL("SELECT id FROM res_users WHERE id %% %s != %s", shard[1], shard[0])
        )
        others = self.env["res.users"].browse(row[0] for row in self.env.cr.fetchall())
        return super()._m365_forget_uncovered(tenant, users | others, run, window)

    @api.model
    def _m365_unavailable_to_resume(self, tenant):
        """After Graph's outage stopped this shard's last run: that run's state."""
        key = self.env.context.get("m365_busy_unit_key")
        if not key:
            return super()._m365_unavailable_to_resume(tenant)
        last = (
            self.env["m365.sync.run"]
            .sudo()
            .search([("unit_key", "=", key)], order="start desc, id desc", limit=1)
        )
        state = last.resume_state if last and last.state == "failed" else None
        if not (isinstance(state, dict) and state.get("unavailable")):
            return None
        last.resume_state = False
        if last.start < fields.Datetime.subtract(fields.Datetime.now(), hours=RESUME_HOURS):
            return None
        return {name: value for name, value in state.items() if name != "unavailable"}
