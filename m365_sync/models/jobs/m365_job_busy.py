"""Busy-time import (``m365.job``): the calendar windows of a tenant's users → busy slots.

The unit of work is one *shard* of a tenant, ``{"tenant": id, "shard": k, "of":
n}``: the covered users whose id is *k* modulo *n*. The cron (every few minutes)
and the queue_job glue (one job per shard) run the same units; the "Sync busy
time now" button makes every shard due and hands them to the workers
(``m365.job._m365_run_in_background``), and :meth:`_m365_import_busy` runs every
shard in turn at once (scripts, benchmarks). *n* is the setting
``m365_sync.busy_shards`` (Settings → Microsoft 365 → Calendar busy time); unset
(or 0) it is one shard per 250 candidate users, at least one. Each shard has its
own lock, sync run (``unit_key`` ``busy:<tenant>:<k>/<n>``), schedule (the
tenant's interval, counted on the shard's own runs), resume state, chunks and
commits. A run left running under another shard count (the setting or the number
of users changed) is closed when its lock is free.

A shard reads the calendar window of each of its covered users — active
internal users of the tenant's company whose e-mail address is a tenant user's,
not excluded on their user form — through batched, concurrent calendarView
requests, then reconciles the stored slots (``m365.busy.slot``) of each mailbox:
new slots created, changed ones updated, vanished ones deleted, unchanged ones
not written; the slots of the shard's users no longer covered are deleted.
Shards cover disjoint users, so they never write the same slot or workload day.
A mailbox Graph refuses (403) or that has no mailbox (404, unlicensed user) is
recorded on the run and keeps its stored slots; the others go on. Mailboxes are
processed in chunks that each commit (:meth:`_m365_commit_progress`) and advance
the run's resume state, so a run stopped by the cron's time limit or a restart
is resumed where it stopped by the next worker that takes the shard's lock.
After each chunk the workload days of the touched users and days are
recomputed (``m365.workload.day``). The failure streak is the tenant's: a cycle
(the latest run of each shard, then the one before…) failed when any of its
shards failed; N failed cycles in a row are told to the managers once, a cycle
in which every shard succeeded ends it.
"""

import logging
import math
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from m365_graph import GraphError, GraphUnavailable, PermissionMissing, read_busy_times
from m365_graph.resources.directory import match_mailboxes, read_directory
from m365_graph.sync.workload import (
    BusyWindow,
    busy_window,
    categories_need_cleaning,
    prepare_slots,
    reconcile,
)

from .m365_job import M365LockLost

_logger = logging.getLogger(__name__)

#: Mailboxes per committed chunk: five ``$batch`` calls of 20, read concurrently.
CHUNK_SIZE = 100
#: First key of the PostgreSQL advisory lock of a whole-tenant import of earlier
#: versions (the second is the tenant's id): taken to close such a run left running.
LOCK_NAMESPACE = 365_005
#: First key of a shard's advisory lock (the second: crc32 of its unit key).
SHARD_LOCK_NAMESPACE = 365_014
#: ir.config_parameter: the number of shards of a tenant's import (Settings → Microsoft
#: 365 → Calendar busy time). Unset or 0: one per AUTO_SHARD_USERS users.
SHARDS_PARAM = "m365_sync.busy_shards"
AUTO_SHARD_USERS = 250
MAX_SHARDS = 64
#: An interrupted run older than this is not resumed: a new one starts.
RESUME_FOR = timedelta(hours=12)
#: Skipped items listed on one run; the rest are only counted.
MAX_DETAIL_LINES = 500
#: The import's circuit breaker: total seconds of waiting on Graph and failed
#: requests in a row before it stops as "Graph unavailable" (and resumes later).
BUSY_BUDGET = {"max_wait": 60.0, "max_failures": 8}

#: How many users without a working-time calendar a busy-time run names.
FALLBACK_NAMES_SHOWN = 20


class M365JobBusy(models.AbstractModel):
    _name = "m365.job.busy"
    _inherit = "m365.job.tenant"
    _description = "Microsoft 365 job: busy-time import"

    _m365_job_kind = "busy"
    _m365_tenant_switch = "busy_sync"
    _m365_lock_class = SHARD_LOCK_NAMESPACE
    _m365_budget = BUSY_BUDGET
    _m365_cron_xmlid = "m365_sync.ir_cron_m365_busy"
    #: The unit commits after every chunk and keeps a savepoint per chunk.
    _m365_unit_savepoint = False

    # ------------------------------------------------------------------
    # The unit of work: one shard of a tenant
    # ------------------------------------------------------------------
    @api.model
    def _m365_units(self, due_only=True):
        """The shards that are due or have a run to resume; stale shard runs closed."""
        running = self._m365_running_keys()
        tenants = self._m365_switched_on_tenants()
        tenants |= tenants.browse({tenant_id for tenant_id, _key in running}).exists()
        keys = {key for _tenant_id, key in running}
        units = []
        for tenant in tenants.sorted("id"):
            shards = self._m365_shard_units(tenant)
            self._m365_close_stale_shards(tenant, shards)
            units += [
                unit
                for unit in shards
                if not due_only
                or self._m365_unit_identity(unit) in keys
                or (tenant.busy_sync and self._m365_unit_due(unit))
            ]
        return units

    @api.model
    def _m365_busy_shards(self, tenant):
        """How many shards ``tenant``'s import has: Settings (``SHARDS_PARAM``), or
        without a setting one per ``AUTO_SHARD_USERS`` candidate users (at least 1)."""
        value = self.env["ir.config_parameter"].sudo().get_param(SHARDS_PARAM)
        try:
            count = int(value) if value else 0
        except ValueError:
            count = 0
        if count <= 0:
            candidates = (
                self.env["res.users"].sudo().search_count(self._m365_candidate_domain(tenant))
            )
            count = math.ceil(candidates / AUTO_SHARD_USERS)
        return min(max(count, 1), MAX_SHARDS)

    @api.model
    def _m365_shard_units(self, tenant):
        """The units of ``tenant``'s import: ``{"tenant", "shard", "of"}``, shard k of n."""
        count = self._m365_busy_shards(tenant)
        return [{"tenant": tenant.id, "shard": k, "of": count} for k in range(count)]

    @api.model
    def _m365_running_keys(self):
        """(tenant id, unit key) of the busy runs still running (shards, or whole-tenant
        runs of earlier versions: ``busy:<tenant>``)."""
        runs = (
            self.env["m365.sync.run"]
            .sudo()
            .search([("kind", "=", "busy"), ("state", "=", "running"), ("unit_key", "!=", False)])
        )
        return {(run.tenant_id.id, run.unit_key) for run in runs if run.tenant_id}

    @api.model
    def _m365_close_stale_shards(self, tenant, shards):
        """Close running runs of ``tenant`` no current shard resumes.

        The shard count changed (Settings, or the number of users) or the run is a
        whole-tenant run of an earlier version: no unit would ever adopt it. It is
        closed when its own lock is free (its worker is gone); a run whose worker
        still holds its lock is left to finish."""
        current = {self._m365_unit_identity(unit) for unit in shards}
        runs = (
            self.env["m365.sync.run"]
            .sudo()
            .search(
                [
                    ("kind", "=", "busy"),
                    ("tenant_id", "=", tenant.id),
                    ("state", "=", "running"),
                    ("unit_key", "not in", list(current)),
                ]
            )
        )
        for run in runs:
            if run.unit_key and self._m365_try_lock(self._m365_key_lock(run.unit_key)):
                run._m365_interrupt(
                    self.env._(
                        "Interrupted: the import is now split into %(count)s part(s); "
                        "they start afresh.",
                        count=len(shards),
                    )
                )
        return True

    @api.model
    def _m365_unit_identity(self, unit):
        return f"busy:{unit['tenant']}:{unit['shard']}/{unit['of']}"

    @api.model
    def _m365_key_lock(self, key):
        """The advisory lock of the unit named ``key`` (``busy:<tenant>`` of earlier
        versions kept the tenant's lock)."""
        rest = key.split(":", 1)[1] if ":" in key else key
        if rest.isdigit():
            return LOCK_NAMESPACE, int(rest)
        return SHARD_LOCK_NAMESPACE, zlib.crc32(key.encode()) - 2**31

    @api.model
    def _m365_lock_key(self, unit):
        return self._m365_key_lock(self._m365_unit_identity(unit))

    @api.model
    def _m365_unit_due(self, unit):
        """Due when the shard's own last run (not interrupted) started an interval ago
        (the shards of a tenant keep the tenant's interval, each on its own runs), or
        before “Sync busy time now” was pressed (``busy_requested_ts``)."""
        tenant = self._m365_unit_tenant(unit)
        last = (
            self.env["m365.sync.run"]
            .sudo()
            .search(
                [("unit_key", "=", self._m365_unit_identity(unit)), ("interrupted", "=", False)],
                order="start desc, id desc",
                limit=1,
            )
        )
        # Change notifications active: the scheduled import is only the safety net.
        interval = timedelta(
            minutes=tenant._m365_poll_minutes(tenant.busy_interval_minutes, "busy")
        )
        if not last or last.start + interval <= fields.Datetime.now():
            return True
        return bool(tenant.busy_requested_ts and (last.start_ts or 0) < tenant.busy_requested_ts)

    @api.model
    def _m365_after_unit(self, unit, run):
        """The failure streak is the tenant's, over all its shards (:meth:`_m365_failure_streak`):
        told once, by the failed run that makes it reach the threshold, whichever shard
        it is; a failed run of another shard in the same cycle tells nobody again."""
        if run.state != "failed" or run.interrupted:
            return
        threshold = self._m365_streak_threshold(unit)
        if not threshold:
            return
        before = self._m365_failure_streak(unit, threshold, without=run)
        if before < threshold <= self._m365_failure_streak(unit, threshold):
            self._m365_notify_streak(unit, run, threshold)

    @api.model
    def _m365_failure_streak(self, unit, limit, without=None):
        """Failed *cycles* in a row of the unit's tenant, latest first, up to ``limit + 1``.

        Cycle *i* is the *i*-th latest finished run (not interrupted) of each shard of
        the current shard count: the tenant's busy time failed in that cycle when any
        of its shards failed, and a cycle in which every shard succeeded ends the
        streak. Failures on one shard only (its users' mailboxes, a bug on a user) are
        therefore told like failures of all, and once. ``without``: the streak as it
        was before that run."""
        Run = self.env["m365.sync.run"].sudo()
        per_shard = []
        for k in range(unit["of"]):
            domain = self._m365_streak_domain(dict(unit, shard=k))
            if without:
                domain.append(("id", "!=", without.id))
            runs = Run.search(domain, limit=limit + 1)
            per_shard.append([past.state == "failed" for past in runs])
        streak = 0
        for cycle in range(limit + 1):
            states = [runs[cycle] for runs in per_shard if cycle < len(runs)]
            if not any(states):
                break
            streak += 1
        return streak

    @api.model
    def _m365_adopt(self, unit, running):
        """The shard's interrupted run, if it can be resumed; the others are closed."""
        limit = fields.Datetime.now() - RESUME_FOR
        resumable = running.filtered(lambda r: r.resume_state and r.start >= limit)[:1]
        (running - resumable)._m365_interrupt(
            self.env._("Interrupted before it finished; a new import was started instead.")
        )
        return resumable or None

    @api.model
    def _m365_start_run(self, unit):
        carried = self._m365_unavailable_to_resume(unit)
        run = super()._m365_start_run(unit)
        # After Graph's outage stopped the last import, this one goes on from there
        # (same day, same window, the mailboxes not read yet).
        run.resume_state = carried or {
            "day": fields.Date.to_string(self._m365_busy_today()),
            "after": 0,
            "mailboxes": 0,
            "failed": 0,
            "days": 0,
            "fallback": 0,
            "details": 0,
        }
        return run

    # ------------------------------------------------------------------
    # Entry points: cron (``_m365_cron``) and button
    # ------------------------------------------------------------------
    @api.model
    def _m365_import_busy(self, tenant, raise_errors=False):
        """Import (or resume importing) busy time of ``tenant``: every shard; returns
        the runs of the shards that ran.

        Returns ``None`` when every shard is being imported right now by another
        worker. With ``raise_errors`` a failure is raised as a ``UserError``.
        """
        runs, _busy = self._m365_import_busy_shards(tenant, raise_errors=raise_errors)
        return runs or None

    @api.model
    def _m365_import_busy_shards(self, tenant, raise_errors=False):
        """Run every shard of ``tenant`` now, each under its own lock (as the cron or a
        queue job would): (runs of the shards that ran, units another worker held)."""
        job = self.with_context(m365_raise=raise_errors)
        shards = job._m365_shard_units(tenant)
        job._m365_close_stale_shards(tenant, shards)
        shards = job._m365_with_directory(shards)
        runs = self.env["m365.sync.run"].sudo()
        held = []
        for unit in shards:
            run = job._m365_run_unit(unit, due_only=False, raise_errors=raise_errors)
            if run:
                runs |= run
            else:
                held.append(unit)
        return runs, held

    @api.model
    def _m365_cron(self):
        """Run (or queue) the due shards, the directory read once per tenant for all."""
        self._m365_dispatch(self._m365_with_directory(self._m365_units(due_only=True)))
        return True

    @api.model
    def _m365_with_directory(self, units):
        """``units`` with the mailboxes of their users, the directory read once per
        tenant for all its shards of this cycle (not once per shard).

        Each shard gets ``mailboxes`` (``[[user id, mailbox], …]`` of its users, a
        list: units stay JSON-serialisable for the queue), ``directory`` (how they
        were matched) and ``read_at``. A shard that runs alone (a retry, a unit the
        cron did not hand out) or whose snapshot is older than the tenant's interval
        reads the directory itself (:meth:`_m365_known_mailboxes`). When the read
        fails here (sign-in, Graph down) the units go without it: each shard then
        meets the failure itself and records it on its run.
        """
        by_tenant = defaultdict(list)
        for unit in units:
            by_tenant[unit["tenant"]].append(unit)
        out = []
        for tenant_units in by_tenant.values():
            snapshot = None
            tenant = self._m365_unit_tenant(tenant_units[0])
            # Not for a tenant switched off (its units only close their runs).
            if len(tenant_units) > 1 and tenant.busy_sync and tenant.is_configured:
                snapshot = self._m365_read_mailboxes(tenant)
            for unit in tenant_units:
                if not snapshot:
                    out.append(unit)
                    continue
                k, n = unit["shard"], unit["of"]
                mine = [[uid, box] for uid, box in snapshot["mailboxes"] if uid % n == k]
                out.append(
                    dict(
                        unit,
                        mailboxes=mine,
                        directory=snapshot["directory"],
                        read_at=snapshot["read_at"],
                    )
                )
        return out

    @api.model
    def _m365_read_mailboxes(self, tenant):
        """``{"mailboxes", "directory", "read_at"}`` of every candidate of ``tenant``
        (one directory read), or ``None`` when it cannot be read now."""
        client = None
        try:
            client = tenant._m365_graph_client()
            client.budget = self._m365_new_budget()
            _users, mailbox_of, note = self._m365_covered_users(tenant, client)
        except (GraphError, UserError) as exc:
            _logger.info(
                "Microsoft 365 busy time of tenant %s: directory not read: %s", tenant.id, exc
            )
            return None
        finally:
            if client is not None:
                client.close()
        return {
            "mailboxes": sorted([uid, box] for uid, box in mailbox_of.items()),
            "directory": note,
            "read_at": fields.Datetime.to_string(fields.Datetime.now()),
        }

    @api.model
    def _m365_known_mailboxes(self, unit, tenant):
        """The shard's ``({user id: mailbox}, how matched)`` handed out by the cron, or
        ``None`` without one or when older than the tenant's interval."""
        read_at = unit.get("read_at")
        if not read_at or unit.get("mailboxes") is None:
            return None
        age = fields.Datetime.now() - fields.Datetime.to_datetime(read_at)
        if age > timedelta(minutes=tenant.busy_interval_minutes):
            return None
        return {int(uid): box for uid, box in unit["mailboxes"]}, unit.get("directory")

    @api.model
    def _m365_busy_today(self):
        """The day the window of a new import is centred on (UTC)."""
        return fields.Date.today()

    @api.model
    def _m365_window(self, tenant, today):
        return busy_window(today, tenant.busy_past_days, tenant.busy_future_days)

    # ------------------------------------------------------------------
    # The import
    # ------------------------------------------------------------------
    @api.model
    def _m365_do_unit(self, unit, run):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"])
        shard = (unit["shard"], unit["of"])
        raise_errors = self.env.context.get("m365_raise")
        state = dict(run.resume_state)
        window = self._m365_window(tenant, fields.Date.to_date(state["day"]))
        client = seen = None
        try:
            client = tenant._m365_graph_client()
            client.budget = self._m365_new_budget()
            seen = client.counters.snapshot()
            users, mailbox_of, note = self._m365_covered_users(
                tenant, client, shard, known=self._m365_known_mailboxes(unit, tenant)
            )
            state["directory"] = note
            with self.env.cr.savepoint():
                self._m365_forget_uncovered(tenant, users, run, window, shard)
            todo = users.filtered(lambda u: u.id > state["after"])
            ignored_keys = self.env["m365.category.rule"]._m365_ignored_keys(tenant)
            job = _BusyJob(tenant, run, mailbox_of, window, ignored_keys, state)
            while todo:
                chunk, todo = todo[:CHUNK_SIZE], todo[CHUNK_SIZE:]
                results = read_busy_times(
                    client,
                    list(dict.fromkeys(mailbox_of[u.id] for u in chunk)),
                    window.start,
                    window.end,
                )
                with self.env.cr.savepoint():
                    self._m365_store_chunk(job, chunk, results)
                    now = client.counters.snapshot()
                    run._m365_add_stats(now, since=seen)
                    seen = now
                    state["after"] = chunk[-1].id
                    run.resume_state = dict(state)
                time_left = self._m365_commit_progress(len(chunk), remaining=len(todo))
                if todo and time_left <= 0:
                    _logger.info(
                        "Microsoft 365 busy time of tenant %s: out of time, %s mailboxes left",
                        tenant.id,
                        len(todo),
                    )
                    return
        except M365LockLost:
            raise
        except GraphUnavailable as exc:
            # The circuit breaker opened: the chunk is rolled back, earlier chunks are
            # committed. The run says so and keeps where it stopped; the next run
            # (after the tenant's interval) resumes there.
            if seen is not None:
                run._m365_add_stats(client.counters.snapshot(), since=seen)
            run.resume_state = dict(state, unavailable=True)
            run._m365_fail(
                self.env._(
                    "Failed — Microsoft Graph unavailable: %(error)s %(done)s calendars were "
                    "read before it stopped, %(failed)s could not be read; the next run "
                    "resumes with the others.",
                    error=exc,
                    done=state["mailboxes"] - state["failed"],
                    failed=state["failed"],
                )
            )
            if raise_errors:
                raise UserError(run.message) from exc
            return
        except Exception as exc:
            # Whatever the chunk wrote is rolled back (savepoint); earlier chunks are
            # committed. The run ends as failed and the next one starts afresh.
            if not isinstance(exc, (GraphError, UserError)):
                _logger.exception("Microsoft 365 busy-time import of tenant %s failed", tenant.id)
            if seen is not None:
                run._m365_add_stats(client.counters.snapshot(), since=seen)
            run.resume_state = False
            run._m365_fail(exc)
            if raise_errors:
                raise UserError(str(exc)) from exc
            return
        finally:
            if client is not None:
                client.close()
        run.resume_state = False
        run._m365_done(message=self._m365_summary(run, state, window))

    @api.model
    def _m365_unavailable_to_resume(self, unit):
        """The resume state of the shard's last run if Graph's outage stopped it.

        Taken once: the failed run keeps its message, the new run carries the state.
        """
        last = (
            self.env["m365.sync.run"]
            .sudo()
            .search(
                [("unit_key", "=", self._m365_unit_identity(unit)), ("kind", "=", "busy")],
                order="start desc, id desc",
                limit=1,
            )
        )
        state = last.resume_state if last and last.state == "failed" else None
        if not (isinstance(state, dict) and state.get("unavailable")):
            return None
        last.resume_state = False
        if last.start < fields.Datetime.now() - RESUME_FOR:
            return None
        return {key: value for key, value in state.items() if key != "unavailable"}

    @api.model
    def _m365_candidate_domain(self, tenant):
        """Users who may be covered: internal, of the tenant's company, not excluded."""
        return [
            ("share", "=", False),
            ("company_id", "=", tenant.company_id.id),
            ("m365_busy_exclude", "=", False),
        ]

    @api.model
    def _m365_covered_users(self, tenant, client, shard=(0, 1), known=None):
        """(users in id order, {user id: mailbox}, how mailboxes were matched).

        Covered: active internal users of the tenant's company, not excluded on
        their user form, whose e-mail (or login) is a tenant user's address; of
        those, the shard's (``shard`` = (k, n): ids equal to k modulo n). ``known``:
        ``({user id: mailbox}, how)`` of this cycle's directory read
        (:meth:`_m365_with_directory`), instead of reading it again.
        """
        k, n = shard
        candidates = (
            self.env["res.users"]
            .sudo()
            .search(self._m365_candidate_domain(tenant), order="id")
            .filtered(lambda u: u.id % n == k)
        )
        if known is not None:
            mailbox_of, note = known
            users = candidates.filtered(lambda u: mailbox_of.get(u.id))
            return users, {u.id: mailbox_of[u.id] for u in users}, note
        try:
            directory = read_directory(client)
            note = "directory"
        except PermissionMissing:
            # No directory permission: Graph resolves a mailbox by its UPN itself.
            directory = None
            note = "upn"
        matched = match_mailboxes({u.id: [u.email, u.login] for u in candidates}, directory)
        users = candidates.filtered(lambda u: matched[u.id])
        return users, {uid: mailbox for uid, mailbox in matched.items() if mailbox}, note

    @api.model
    def _m365_forget_uncovered(self, tenant, users, run, window, shard=(0, 1)):
        """Delete the slots of the shard's users no longer covered (excluded, left,
        e-mail changed); another shard's users are never this unit's."""
        k, n = shard
        self.env["m365.busy.slot"].flush_model(["company_id", "user_id"])
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT user_id FROM m365_busy_slot "
                "WHERE company_id = %s AND user_id %% %s = %s",
                tenant.company_id.id,
                n,
                k,
            )
        )
        gone = {row[0] for row in self.env.cr.fetchall()} - set(users.ids)
        if not gone:
            return
        stale = (
            self.env["m365.busy.slot"]
            .sudo()
            .search([("company_id", "=", tenant.company_id.id), ("user_id", "in", list(gone))])
        )
        if stale:
            touched = self.env["m365.busy.slot"]._m365_days_of(
                [(slot.user_id.id, slot._m365_record()) for slot in stale], window
            )
            count = len(stale)
            stale.unlink()
            run._m365_count(deleted=count)
            self.env["m365.workload.day"]._m365_recompute(touched)

    @api.model
    def _m365_store_chunk(self, job, users, results):
        """Reconcile the stored slots of ``users`` with what Graph returned; recompute."""
        tenant, run, window, state = job.tenant, job.run, job.window, job.state
        mailbox_of, ignored_keys = job.mailbox_of, job.ignored_keys
        fetched_ids = {
            slot.event_id for result in results.values() if result.ok for slot in result.slots
        }
        Slot = self.env["m365.busy.slot"].sudo()
        stored = Slot._m365_stored(users, window, fetched_ids)
        creates, updates, deletes, details = [], [], [], []
        changed = []  # (user id, SlotRecord) of every slot before and after a change
        failed = skipped = cleaned = 0
        for user in users:
            mailbox = mailbox_of[user.id]
            result = results[mailbox]
            if not result.ok:
                failed += 1
                details.append(
                    self.env._(
                        "%(user)s (%(mailbox)s): calendar not read, stored busy time kept — "
                        "%(error)s",
                        user=user.name,
                        mailbox=user.email or mailbox,
                        error=result.error,
                    )
                )
                continue
            records, rejects = prepare_slots(result.slots)
            cleaned += sum(1 for s in result.slots if categories_need_cleaning(s.categories))
            for item in result.skipped:
                details.append(f"{user.name}: {item.reason}")
            for item in rejects:
                details.append(f"{user.name}: event …{(item.id or '?')[-16:]} {item.reason}")
            skipped += len(result.skipped) + len(rejects)
            plan = reconcile(stored.get(user.id, ()), records)
            for record in plan.create:
                creates.append(Slot._m365_vals(tenant, user, record, ignored_keys))
                changed.append((user.id, record))
            for ref, old, new in plan.update:
                updates.append((ref, Slot._m365_vals(tenant, user, new, ignored_keys)))
                changed += [(user.id, old), (user.id, new)]
            for ref, old in plan.delete:
                deletes.append(ref)
                changed.append((user.id, old))
        if deletes:
            Slot.browse(deletes).unlink()
        for ref, vals in updates:
            Slot.browse(ref).write(vals)
        if creates:
            Slot.create(creates)

        touched = Slot._m365_days_of(changed, window)
        Day = self.env["m365.workload.day"]
        # Users whose calendar could not be read get no new workload day: a day with
        # zero busy hours would claim they are free.
        read = users.filtered(lambda u: results[mailbox_of[u.id]].ok)
        for uid, days in Day._m365_missing_days(read, window.days).items():
            touched[uid] |= days
        written, fallback = Day._m365_recompute(touched)

        room = MAX_DETAIL_LINES - state["details"]
        shown = details[: max(room, 0)]
        if len(details) > len(shown):
            shown.append(self.env._("… %(count)s more not listed", count=len(details) - len(shown)))
        state["details"] += len(shown)
        state["mailboxes"] += len(users)
        state["failed"] += failed
        state["days"] += written
        state["fallback"] += len(fallback)
        # Named, not counted only: an administrator must know whom to give a calendar.
        names = state.setdefault("fallback_names", [])
        names += fallback.mapped("name")[: max(FALLBACK_NAMES_SHOWN - len(names), 0)]
        state["cleaned"] = state.get("cleaned", 0) + cleaned
        run._m365_count(
            created=len(creates),
            updated=len(updates),
            deleted=len(deletes),
            skipped=failed + skipped,
            skipped_reason="\n".join(shown) or None,
        )

    @api.model
    def _m365_summary(self, run, state, window):
        lines = [
            self.env._(
                "%(mailboxes)s calendars read from %(first)s to %(last)s, "
                "%(failed)s could not be read.",
                mailboxes=state["mailboxes"],
                failed=state["failed"],
                first=fields.Date.to_string(window.first_day),
                last=fields.Date.to_string(window.last_day),
            ),
            self.env._(
                "Busy slots: %(created)s new, %(updated)s changed, %(deleted)s removed.",
                created=run.created,
                updated=run.updated,
                deleted=run.deleted,
            ),
            self.env._("Workload days written: %(days)s.", days=state["days"]),
        ]
        if run.skipped:
            lines.append(
                self.env._(
                    "%(count)s calendars or appointments skipped: see the list below.",
                    count=run.skipped,
                )
            )
        if state.get("cleaned"):
            lines.append(
                self.env._(
                    "%(count)s appointments had categories with extra spaces or repeated "
                    "names: cleaned before matching the category rules.",
                    count=state["cleaned"],
                )
            )
        if state.get("fallback"):
            lines.append(
                self.env._(
                    "%(count)s user(s) have no working-time calendar, so their company's "
                    "working hours were used: %(names)s%(more)s. Set one on their employee "
                    "or user form to count their own hours.",
                    count=state["fallback"],
                    names=", ".join(state.get("fallback_names") or ()),
                    more=(
                        self.env._(
                            " and %(count)s more", count=state["fallback"] - FALLBACK_NAMES_SHOWN
                        )
                        if state["fallback"] > FALLBACK_NAMES_SHOWN
                        else ""
                    ),
                )
            )
        if state.get("directory") == "upn":
            lines.append(
                self.env._(
                    "The app may not read the directory (User.ReadBasic.All): mailboxes were "
                    "addressed by the users' e-mail addresses as user principal names."
                )
            )
        return "\n".join(lines)


@dataclass
class _BusyJob:
    """What every chunk of one import run needs to know."""

    tenant: Any  # m365.tenant
    run: Any  # m365.sync.run
    mailbox_of: dict  # res.users id -> mailbox (Graph user id or UPN)
    window: BusyWindow
    ignored_keys: frozenset
    state: dict  # the run's resume state, updated per chunk
