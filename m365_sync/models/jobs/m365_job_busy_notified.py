"""Busy time of the notified users only (``m365.job``): a change notification → their slots.

Why this file exists: the busy-time import (``m365.job.busy``) reads every covered
mailbox of a shard on a schedule; with change notifications a change in one
calendar should cost one calendar read, not a shard's. This job's unit is the
notified users of one shard, ``{"tenant": id, "shard": k, "of": n, "users": [ids]}``:
it reads the calendar window of just those mailboxes (the mailbox ids the
subscriptions keep — no directory read) and reconciles their slots and workload
days with the busy import's own code (``_m365_store_chunk``), so both write the
same way.

It takes the *shard's* lock, so it never runs next to the shard's full import
(they would write the same slots); while the shard is being imported the
notified rows stay pending and the next notification cron runs them. The rows'
``pending`` flag is cleared, and committed, before the calendars are read: a
notification that arrives meanwhile marks the row pending again (a later run
reads it), and if the unit fails the flags are set back. Its runs are their own
kind (``busy_notified``) so that the import's stale-run cleanup never touches
them, and they keep no failure streak: the scheduled import (the safety net)
reports failures.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from m365_graph import read_busy_times

from .m365_job import M365Job
from .m365_job_busy import _BusyJob


class M365JobBusyNotified(models.AbstractModel):
    _name = "m365.job.busy.notified"
    _inherit = "m365.job.busy"
    _description = "Microsoft 365 job: busy time of notified users"

    _m365_job_kind = "busy_notified"
    _m365_unit_savepoint = False

    @api.model
    def _m365_pending_rows(self, tenant_id=None):
        domain = [("pending", "=", True), ("kind", "=", "busy"), ("state", "=", "active")]
        if tenant_id:
            domain.append(("tenant_id", "=", tenant_id))
        return self.env["m365.subscription"].sudo().search(domain, order="user_id")

    @api.model
    def _m365_units(self, due_only=True):
        """One unit per shard with notified users: their ids (the shard is the busy
        import's, so that the unit takes that shard's lock)."""
        units = []
        rows = self._m365_pending_rows()
        for tenant in rows.tenant_id.filtered("busy_sync").sorted("id"):
            count = self._m365_busy_shards(tenant)
            by_shard = {}
            for row in rows.filtered(lambda r, t=tenant: r.tenant_id == t):
                by_shard.setdefault(row.user_id.id % count, []).append(row.user_id.id)
            units += [
                {"tenant": tenant.id, "shard": k, "of": count, "users": sorted(set(users))}
                for k, users in sorted(by_shard.items())
            ]
        return units

    @api.model
    def _m365_unit_identity(self, unit):
        return f"busy_notified:{unit['tenant']}:{unit['shard']}/{unit['of']}"

    @api.model
    def _m365_lock_key(self, unit):
        shard = {key: unit[key] for key in ("tenant", "shard", "of")}
        return self.env["m365.job.busy"]._m365_lock_key(shard)

    @api.model
    def _m365_unit_due(self, unit):
        return bool(self._m365_unit_rows(unit))

    @api.model
    def _m365_unit_rows(self, unit):
        """The shard's rows still pending (read after the lock: another run may have
        done some)."""
        rows = self._m365_pending_rows(unit["tenant"])
        return rows.filtered(lambda r: r.user_id.id % unit["of"] == unit["shard"])

    @api.model
    def _m365_after_unit(self, unit, run):
        return None

    @api.model
    def _m365_adopt(self, unit, running):
        return M365Job._m365_adopt(self, unit, running)

    @api.model
    def _m365_start_run(self, unit):
        return M365Job._m365_start_run(self, unit)

    @api.model
    def _m365_do_unit(self, unit, run):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"])
        rows = self._m365_unit_rows(unit)
        Users = self.env["res.users"].sudo()
        covered = Users.search(
            [("id", "in", rows.user_id.ids), *self._m365_candidate_domain(tenant)], order="id"
        )
        rows = rows.filtered(lambda r: r.user_id in covered and r.mailbox)
        if not rows:
            run._m365_done(self.env._("Nothing to read: the notified users are read already."))
            return
        self.env.cr.execute(
            SQL(
                "UPDATE m365_subscription SET pending = FALSE WHERE id = ANY(%s) AND pending",
                rows.ids,
            )
        )
        self._m365_commit_progress(0)
        try:
            self._m365_read_users(tenant, run, rows)
        except Exception:
            self.env.cr.rollback()
            self.env.cr.execute(
                SQL("UPDATE m365_subscription SET pending = TRUE WHERE id = ANY(%s)", rows.ids)
            )
            self.env.invalidate_all()
            raise

    @api.model
    def _m365_read_users(self, tenant, run, rows):
        users = rows.user_id.sorted("id")
        mailbox_of = {row.user_id.id: row.mailbox for row in rows}
        window = self._m365_window(tenant, self._m365_busy_today())
        state = {"details": 0, "mailboxes": 0, "failed": 0, "days": 0, "fallback": 0}
        client = tenant._m365_graph_client()
        client.budget = self._m365_new_budget()
        try:
            results = read_busy_times(
                client, list(dict.fromkeys(mailbox_of.values())), window.start, window.end
            )
            ignored_keys = self.env["m365.category.rule"]._m365_ignored_keys(tenant)
            job = _BusyJob(tenant, run, mailbox_of, window, ignored_keys, state)
            with self.env.cr.savepoint():
                self._m365_store_chunk(job, users, results)
            run._m365_add_stats(client.counters.snapshot())
        finally:
            client.close()
        run._m365_done(
            self.env._(
                "Notified: %(mailboxes)s calendars read (%(failed)s could not be read); busy "
                "slots %(created)s new, %(updated)s changed, %(deleted)s removed; %(days)s "
                "workload days written.",
                mailboxes=state["mailboxes"],
                failed=state["failed"],
                created=run.created,
                updated=run.updated,
                deleted=run.deleted,
                days=state["days"],
            )
        )
        rows.write({"last_error": False})
        return fields.Datetime.now()
