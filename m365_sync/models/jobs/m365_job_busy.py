"""Busy-time import (``m365.job``): the calendar windows of a tenant's users → busy slots.

The unit of work is one tenant (its id), run by the cron every few minutes when
the tenant's interval has passed (or when it has a run to resume), or by the
"Sync busy time now" button (:meth:`_m365_import_busy`). It reads the calendar
window of every covered user — active internal users of the tenant's company
whose e-mail address is a tenant user's, not excluded on their user form —
through batched, concurrent calendarView requests, then reconciles the stored
slots (``m365.busy.slot``) of each mailbox: new slots created, changed ones
updated, vanished ones deleted, unchanged ones not written. A mailbox Graph
refuses (403) or that has no mailbox (404, unlicensed user) is recorded on the
run and keeps its stored slots; the others go on. Mailboxes are processed in
chunks that each commit (:meth:`_m365_commit_progress`) and advance the run's
resume state, so a run stopped by the cron's time limit or a restart is resumed
where it stopped by the next worker that takes the tenant's lock. After each
chunk the workload days of the touched users and days are recomputed
(``m365.workload.day``).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from odoo import api, fields, models
from odoo.exceptions import UserError

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
#: First key of the PostgreSQL advisory lock of a tenant's import (the second is its id).
LOCK_NAMESPACE = 365_005
#: An interrupted run older than this is not resumed: a new one starts.
RESUME_FOR = timedelta(hours=12)
#: Skipped items listed on one run; the rest are only counted.
MAX_DETAIL_LINES = 500
#: The import's circuit breaker: total seconds of waiting on Graph and failed
#: requests in a row before it stops as "Graph unavailable" (and resumes later).
BUSY_BUDGET = {"max_wait": 60.0, "max_failures": 8}


class M365JobBusy(models.AbstractModel):
    _name = "m365.job.busy"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: busy-time import"

    _m365_job_kind = "busy"
    _m365_lock_class = LOCK_NAMESPACE
    _m365_budget = BUSY_BUDGET
    #: The unit commits after every chunk and keeps a savepoint per chunk.
    _m365_unit_savepoint = False

    # ------------------------------------------------------------------
    # The unit of work: one tenant (its id)
    # ------------------------------------------------------------------
    @api.model
    def _m365_units(self, due_only=True):
        """Tenants that are due or have a run to resume, and runs to close."""
        Tenant = self.env["m365.tenant"].sudo()
        running = self._m365_running_units()
        tenants = Tenant.search([("busy_sync", "=", True)]).filtered("is_configured")
        if due_only:
            tenants = tenants.filtered(lambda t: t.id in running or self._m365_tenant_due(t))
        return (tenants | Tenant.browse(running).exists()).ids

    @api.model
    def _m365_lock_key(self, unit):
        return LOCK_NAMESPACE, unit

    @api.model
    def _m365_unit_scope(self, unit):
        return {"tenant": self.env["m365.tenant"].sudo().browse(unit)}

    @api.model
    def _m365_unit_active(self, unit):
        tenant = self.env["m365.tenant"].sudo().browse(unit).exists()
        return bool(tenant and tenant.busy_sync)

    @api.model
    def _m365_unit_due(self, unit):
        return self._m365_tenant_due(self.env["m365.tenant"].sudo().browse(unit))

    @api.model
    def _m365_tenant_due(self, tenant):
        return tenant._m365_due("busy", timedelta(minutes=tenant.busy_interval_minutes))

    @api.model
    def _m365_adopt(self, unit, running):
        """The tenant's interrupted run, if it can be resumed; the others are closed."""
        limit = fields.Datetime.now() - RESUME_FOR
        resumable = running.filtered(lambda r: r.resume_state and r.start >= limit)[:1]
        (running - resumable)._m365_interrupt(
            self.env._("Interrupted before it finished; a new import was started instead.")
        )
        return resumable or None

    @api.model
    def _m365_start_run(self, unit):
        tenant = self.env["m365.tenant"].sudo().browse(unit)
        carried = self._m365_unavailable_to_resume(tenant)
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
        """Import (or resume importing) busy time of ``tenant``; returns the run.

        Returns ``None`` when another import of this tenant is running right now.
        With ``raise_errors`` a failure is raised as a ``UserError``.
        """
        job = self.with_context(m365_raise=raise_errors)
        return job._m365_run_unit(tenant.id, due_only=False, raise_errors=raise_errors) or None

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
        tenant = self.env["m365.tenant"].sudo().browse(unit)
        raise_errors = self.env.context.get("m365_raise")
        state = dict(run.resume_state)
        window = self._m365_window(tenant, fields.Date.to_date(state["day"]))
        client = seen = None
        try:
            client = tenant._m365_graph_client()
            client.budget = self._m365_new_budget()
            seen = client.counters.snapshot()
            users, mailbox_of, note = self._m365_covered_users(tenant, client)
            state["directory"] = note
            with self.env.cr.savepoint():
                self._m365_forget_uncovered(tenant, users, run, window)
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
    def _m365_unavailable_to_resume(self, tenant):
        """The resume state of the tenant's last import if Graph's outage stopped it.

        Taken once: the failed run keeps its message, the new run carries the state.
        """
        last = (
            self.env["m365.sync.run"]
            .sudo()
            .search(
                [("tenant_id", "=", tenant.id), ("kind", "=", "busy")],
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
    def _m365_covered_users(self, tenant, client):
        """(users in id order, {user id: mailbox}, how mailboxes were matched).

        Covered: active internal users of the tenant's company, not excluded on
        their user form, whose e-mail (or login) is a tenant user's address.
        """
        candidates = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("share", "=", False),
                    ("company_id", "=", tenant.company_id.id),
                    ("m365_busy_exclude", "=", False),
                ],
                order="id",
            )
        )
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
    def _m365_forget_uncovered(self, tenant, users, run, window):
        """Delete the slots of users no longer covered (excluded, left, e-mail changed)."""
        stale = (
            self.env["m365.busy.slot"]
            .sudo()
            .search([("company_id", "=", tenant.company_id.id), ("user_id", "not in", users.ids)])
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
                    "%(count)s users have no working-time calendar: their company's working "
                    "hours were used.",
                    count=state["fallback"],
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
