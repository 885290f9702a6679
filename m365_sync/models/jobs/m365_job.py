"""The unit-of-work base every Microsoft 365 job is built on (``m365.job``).

A *unit* is the smallest piece of a job that runs on its own: one tenant's
contacts, one tenant's busy time, one account's pull, one outbox batch (one
writer and mailbox, at most ``UNIT`` rows). A unit is a JSON-serialisable value
(an id, or a small dict of ids), so the same unit runs from the cron on one
server (:meth:`_m365_dispatch` runs the units inline) or, with a glue addon that
overrides :meth:`_m365_dispatch` only, as an OCA ``queue_job`` job on many,
keyed by :meth:`_m365_unit_identity`.

A concrete job (``m365.job.contacts``, ``m365.job.busy``, ``m365.job.personal``,
``m365.job.outbox``) says what its units are and what one unit does; the base
owns everything around it, once (:meth:`_m365_run_unit`):

1. **Lock.** One kind of lock: a PostgreSQL *transaction-level* advisory lock,
   ``pg_try_advisory_xact_lock(class, key)``, taken as the first statement of a
   fresh transaction (the base commits first). It is released by the commit or
   rollback of that transaction — also when the worker is killed or its
   connection dropped — so nothing can stay behind on a pooled connection. A
   unit that commits several times (long jobs: contacts, busy time) takes it
   again right after each commit (:meth:`_m365_commit_progress`); if another
   worker took it in between, the unit stops there and leaves the committed
   progress to that worker.
2. **Fresh state after the lock.** Because the lock is the transaction's first
   statement, everything the unit reads — the due check, the feature switch, the
   run to resume — is read on a snapshot taken with the lock held. The unit's
   "running" rows are locked ``FOR UPDATE``: a row another worker finished just
   before we got the lock makes PostgreSQL refuse the snapshot, and the unit is
   left alone (as if locked).
3. **Stale runs.** Holding the lock means no other worker runs this unit: every
   run row of the unit still "running" belongs to a dead worker. It is closed as
   interrupted (or resumed, for jobs that resume: :meth:`_m365_adopt`). A stale
   row can therefore never block a button or the cron.
4. **The run row** (``m365.sync.run``, ``unit_key`` = the identity) is created and
   committed as *running* before the work starts, so a killed worker leaves a row
   that the next run closes as interrupted; its counters are written by the unit
   through ``run._m365_count`` / ``run._m365_add_stats``.
5. **Retry budget.** Each unit's Graph client gets a fresh circuit breaker
   (:meth:`_m365_new_budget`, sized by ``_m365_budget``).
6. **Savepoint.** Units that do not commit midway run in one savepoint: a failed
   unit leaves Odoo as it was. Long units keep a savepoint per committed batch.
7. **Failure.** An exception is recorded on the run in plain words
   (:meth:`_m365_failure_message`) and counted once per run in the failure
   streak (:meth:`_m365_after_unit`), never once per item: after N failed runs
   in a row of a unit (the tenant's Settings value) the people concerned are
   told once per streak. The base decides the streak (the unit's run rows) and
   when to tell (once per streak); a job says who is told
   (:meth:`_m365_streak_recipients`: the tenant's Microsoft 365 managers by
   default, the account's owner for a personal pull) and what the e-mail says
   (:meth:`_m365_notify_streak`). A job's immediate e-mails (the personal
   pull's "reconnect needed") are its own rule, not a streak.
8. **One unit per mailbox.** A unit that targets one mailbox (a personal pull,
   an outbox batch: :meth:`_m365_unit_mailbox`) also takes that mailbox's
   transaction advisory lock (``MAILBOX_LOCK_CLASS``, crc32 of tenant and Graph
   user id), right after its own and again after each commit; if another unit
   holds it, the unit is left for later like a unit another worker runs
   (:meth:`_m365_mailbox_held`: the queue sends the job back a few seconds
   later). Such a unit sends at most 3 requests at once to its mailbox and busy
   time 1 (``m365_graph.core.mailbox``): Outlook's 4 concurrent requests per app
   and mailbox hold over every worker and server.
9. **Progress.** After each unit the dispatcher commits and reports progress
   (``ir.cron._commit_progress``) and stops when the cron's time is up.
"""

import logging
import zlib

import psycopg2

from odoo import api, models
from odoo.tools import SQL, mute_logger

from m365_graph import Budget

_logger = logging.getLogger(__name__)


#: First key of a mailbox's advisory lock (the second: crc32 of "<tenant>:<mailbox>").
MAILBOX_LOCK_CLASS = 365_015


class M365LockLost(Exception):
    """Another worker took the unit's lock between two commits of a long unit."""


class M365Job(models.AbstractModel):
    _name = "m365.job"
    _description = "Microsoft 365 job (unit-of-work base)"

    #: The ``m365.sync.run`` kind of this job's runs.
    _m365_job_kind = None
    #: First key of the job's advisory locks.
    _m365_lock_class = None
    #: The unit's retry budget (``m365_graph.Budget`` arguments: seconds of waiting on
    #: Graph and failed requests in a row before the unit stops as "Graph
    #: unavailable"); ``None``: the client's default.
    _m365_budget = None
    #: xmlid of the job's scheduled action (triggered by :meth:`_m365_run_in_background`).
    _m365_cron_xmlid = None
    #: Whether the base runs :meth:`_m365_do_unit` in one savepoint (units that
    #: commit midway keep their own savepoint per batch).
    _m365_unit_savepoint = True

    # ------------------------------------------------------------------
    # The contract of a concrete job
    # ------------------------------------------------------------------
    @api.model
    def _m365_units(self, due_only=True):
        """The units to run now (JSON-serialisable), cheap: re-checked after the lock."""
        raise NotImplementedError

    @api.model
    def _m365_unit_identity(self, unit):
        """A stable string naming the unit (run rows' ``unit_key``, queue_job identity)."""
        return f"{self._m365_job_kind}:{unit}"

    @api.model
    def _m365_lock_key(self, unit):
        """``(class, key)`` of the unit's advisory lock (two 32-bit integers)."""
        identity = self._m365_unit_identity(unit)
        return self._m365_lock_class, zlib.crc32(identity.encode()) - 2**31

    @api.model
    def _m365_unit_scope(self, unit):
        """``{"tenant": m365.tenant, "user": res.users}`` of the unit's run row."""
        return {}

    @api.model
    def _m365_unit_mailbox(self, unit):
        """``(tenant id, Graph user id)`` of the one mailbox the unit reads or writes
        (its lock is taken next to the unit's), or ``None`` (busy time, contacts:
        many mailboxes, one request each at a time)."""
        return None

    @api.model
    def _m365_mailbox_lock(self, tenant_id, mailbox):
        """``(class, key)`` of the advisory lock of ``mailbox`` of a tenant."""
        key = f"{tenant_id}:{(mailbox or '').lower()}".encode()
        return MAILBOX_LOCK_CLASS, zlib.crc32(key) - 2**31

    @api.model
    def _m365_mailbox_held(self, unit):
        """The unit's mailbox is held by another unit: it is left for later (the
        cron's next call runs it). The queue glue sends the job back instead."""
        _logger.info(
            "Microsoft 365 %s: its mailbox is in use by another unit, left for later",
            self._m365_unit_identity(unit),
        )

    @api.model
    def _m365_unit_active(self, unit):
        """False when the unit may no longer run (feature switched off, record gone)."""
        return True

    @api.model
    def _m365_unit_due(self, unit):
        """True when the unit is due (read after the lock, on a fresh snapshot)."""
        return True

    @api.model
    def _m365_do_unit(self, unit, run):
        """The work of one unit; counts on ``run``, may close it (done or failed)."""
        raise NotImplementedError

    @api.model
    def _m365_after_unit(self, unit, run):
        """After the unit, with its run closed: the failure streak, once per run.

        The streak is read from the unit's own run rows (``unit_key``): the number
        of failed runs in a row since its last successful one, interrupted runs (a
        killed worker) left out. No field to keep in step: a success ends the
        streak by being the latest run, and the streak is told once, on the run
        that makes it reach the threshold (Settings: *Notify after N failures*);
        later failures of the same streak tell nobody again. Jobs override
        :meth:`_m365_streak_recipients` and :meth:`_m365_notify_streak` (who, what),
        not this method (when), except to opt out or to show the streak.
        """
        if run.state != "failed" or run.interrupted:
            return
        threshold = self._m365_streak_threshold(unit)
        if threshold and self._m365_failure_streak(unit, threshold) == threshold:
            self._m365_notify_streak(unit, run, threshold)

    @api.model
    def _m365_streak_threshold(self, unit):
        """Failed runs in a row after which the unit's failure is told (0: never)."""
        tenant = self._m365_unit_scope(unit).get("tenant")
        return max(1, tenant.personal_failure_threshold) if tenant else 0

    @api.model
    def _m365_streak_domain(self, unit):
        """The runs that make up the unit's streak: its finished runs, interrupted
        ones (a killed worker) left out. Jobs may narrow it."""
        return [
            ("unit_key", "=", self._m365_unit_identity(unit)),
            ("state", "in", ("done", "failed")),
            ("interrupted", "=", False),
        ]

    @api.model
    def _m365_failure_streak(self, unit, limit):
        """Failed runs in a row of the unit, latest first, counted up to ``limit + 1``."""
        runs = (
            self.env["m365.sync.run"].sudo().search(self._m365_streak_domain(unit), limit=limit + 1)
        )
        streak = 0
        for past in runs:
            if past.state != "failed":
                break
            streak += 1
        return streak

    @api.model
    def _m365_streak_recipients(self, unit, run):
        """Who is told about a tenant job's streak: the Microsoft 365 managers of the
        tenant's company (the administrators when it has none)."""
        company = run.tenant_id.company_id
        users = self.env.ref("m365_sync.group_m365_manager").sudo().all_user_ids
        users = users.filtered(
            lambda user: (
                not user.share and user.email and (not company or company in user.company_ids)
            )
        )
        if not users:
            users = (
                self.env.ref("base.group_system")
                .sudo()
                .all_user_ids.filtered(lambda user: not user.share and user.email)
            )
        return users.partner_id

    @api.model
    def _m365_notify_streak(self, unit, run, count):
        """Tell the streak's recipients once, in plain words (mail of the failed run)."""
        template = self.env.ref("m365_sync.mail_template_m365_job_failed", raise_if_not_found=False)
        partners = self._m365_streak_recipients(unit, run)
        if not template or not partners:
            return
        label = dict(run._fields["kind"]._description_selection(self.env)).get(run.kind)
        template.sudo().with_context(m365_failure_count=count, m365_job_label=label).send_mail(
            run.id,
            force_send=False,
            email_values={"recipient_ids": [(4, pid) for pid in partners.ids]},
        )

    @api.model
    def _m365_failure_message(self, unit, run, exc):
        return str(exc)

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _m365_cron(self):
        """The job's scheduled action: run every due unit."""
        self._m365_dispatch(self._m365_units(due_only=True))
        return True

    @api.model
    def _m365_dispatch(self, units):
        """Run ``units``: inline, one after the other, committing after each.

        A glue addon (queue_job) overrides this method only, to enqueue one job per
        unit with :meth:`_m365_unit_identity` as its identity key.
        """
        cron = self.env["ir.cron"]
        for index, unit in enumerate(units):
            run = self._m365_run_unit(unit)
            if run and run.state == "running":
                # The unit ran out of time and reported what is left: the cron comes
                # back at once and the next worker resumes the run.
                break
            if cron._commit_progress(1, remaining=len(units) - index - 1) <= 0:
                break  # out of time: the cron is called again for the rest
        return True

    @api.model
    def _m365_run_in_background(self, units):
        """Have ``units`` run soon by a worker, not in this request (buttons).

        The job's cron is triggered: it runs its due units, so the caller makes them
        due first. The queue glue queues one job per unit instead. Nothing runs before
        the caller's transaction commits (cron triggers and jobs are seen after it).
        """
        cron = self.env.ref(self._m365_cron_xmlid, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()
        return True

    @api.model
    def _m365_run_unit(self, unit, due_only=True, raise_errors=False):
        """Run one unit; returns its run, ``None`` if another worker holds it, or
        ``False`` when it was not due (or may no longer run).

        ``due_only`` (the cron): the unit runs only when its feature is on and it is
        due, both read after the lock; its runs are closed when the feature was
        switched off. Buttons pass ``due_only=False`` after their own checks.
        ``raise_errors`` (buttons): a failure is re-raised after it was recorded.
        """
        cron = self.env["ir.cron"]
        # A fresh transaction: the lock is its first statement, so whatever the unit
        # reads below is read with the lock held.
        cron._commit_progress(0)
        lock = self._m365_lock_key(unit)
        if not self._m365_try_lock(lock):
            return None
        self._m365_forget_cache()
        locks = [lock]
        mailbox = self._m365_unit_mailbox(unit)
        if mailbox:
            locks.append(self._m365_mailbox_lock(*mailbox))
            if not self._m365_try_lock(locks[-1]):
                self._m365_mailbox_held(unit)
                return None
        try:
            running = self._m365_running_runs(unit)
        except psycopg2.errors.SerializationFailure:
            # Another worker closed a run of this unit after our snapshot: it just ran.
            self._m365_forget_cache()
            return None
        if due_only and not self._m365_unit_active(unit):
            running._m365_interrupt(
                self.env._("Stopped: the feature was switched off before the run finished.")
            )
            cron._commit_progress(0)
            return False
        run = self._m365_adopt(unit, running)
        if not run:
            if due_only and not self._m365_unit_due(unit):
                cron._commit_progress(0)
                return False
            run = self._m365_start_run(unit)
        # The run is visible as running; the lock is taken again in the new transaction.
        job = self.with_context(m365_locks=locks)
        try:
            job._m365_commit_progress(0)
            if self._m365_unit_savepoint:
                with self.env.cr.savepoint():
                    job._m365_do_unit(unit, run)
            else:
                job._m365_do_unit(unit, run)
        except M365LockLost:
            identity = self._m365_unit_identity(unit)
            _logger.info("Microsoft 365 %s: another worker took over", identity)
            return None
        except Exception as exc:  # every failure is recorded on the run
            _logger.warning(
                "Microsoft 365 %s run %s failed: %s", self._m365_unit_identity(unit), run.id, exc
            )
            self.env.invalidate_all()
            run._m365_fail(self._m365_failure_message(unit, run, exc))
            self._m365_after_unit(unit, run)
            cron._commit_progress(0)
            if raise_errors:
                raise
            return run
        if run.state == "running" and not run.resume_state:
            run._m365_done(run.message or None)
        self._m365_after_unit(unit, run)
        cron._commit_progress(0)
        return run

    # ------------------------------------------------------------------
    # Services of the base
    # ------------------------------------------------------------------
    @api.model
    def _m365_forget_cache(self):
        """Drop what the ORM cached before the lock of the records that decide whether
        and how a unit runs (the rest of the cache stays: re-reading it costs)."""
        for model in ("m365.sync.run", "m365.tenant", "m365.account", "m365.outbox"):
            self.env[model].invalidate_model()

    @api.model
    def _m365_new_budget(self):
        """A fresh retry budget for one unit's Graph client (one per unit, never shared)."""
        return Budget(**self._m365_budget) if self._m365_budget else None

    @api.model
    def _m365_try_lock(self, lock):
        """Take the transaction-level advisory lock ``lock``; False if another holds it."""
        with mute_logger("odoo.sql_db"):
            self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", *lock))
            return self.env.cr.fetchone()[0]

    @api.model
    def _m365_commit_progress(self, processed=0, remaining=None):
        """Commit a long unit's progress and take its lock again; returns the time left.

        Raises :class:`M365LockLost` when another worker took the unit meanwhile.
        """
        left = self.env["ir.cron"]._commit_progress(processed, remaining=remaining)
        for lock in self.env.context.get("m365_locks") or ():
            if not self._m365_try_lock(tuple(lock)):
                raise M365LockLost()
        return left

    @api.model
    def _m365_running_runs(self, unit):
        """The unit's runs still "running", locked (their worker is gone: we hold the lock)."""
        identity = self._m365_unit_identity(unit)
        self.env["m365.sync.run"].flush_model()
        with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM m365_sync_run WHERE unit_key = %s AND state = 'running' "
                    "ORDER BY start DESC, id DESC FOR UPDATE",
                    identity,
                )
            )
            ids = [row[0] for row in self.env.cr.fetchall()]
        return self.env["m365.sync.run"].sudo().browse(ids)

    @api.model
    def _m365_adopt(self, unit, running):
        """Close the unit's stale runs; a job that resumes returns the run to go on with."""
        running._m365_interrupt(
            self.env._(
                "Interrupted: the worker running this sync stopped. The next run "
                "continues from the last complete sync."
            )
        )

    @api.model
    def _m365_start_run(self, unit):
        scope = self._m365_unit_scope(unit)
        run = self.env["m365.sync.run"]._m365_start(
            self._m365_job_kind, tenant=scope.get("tenant"), user=scope.get("user")
        )
        run.unit_key = self._m365_unit_identity(unit)
        return run

    @api.model
    def _m365_last_run(self, unit):
        return (
            self.env["m365.sync.run"]
            .sudo()
            .search([("unit_key", "=", self._m365_unit_identity(unit))], limit=1)
        )

    @api.model
    def _m365_running_units(self):
        """Units (ids) of this job's runs still running, for jobs whose unit is an id:
        the cron visits them even when their feature is off, so that they are closed."""
        runs = (
            self.env["m365.sync.run"]
            .sudo()
            .search([("kind", "=", self._m365_job_kind), ("state", "=", "running")])
        )
        prefix = f"{self._m365_job_kind}:"
        return {
            int(key[len(prefix) :])
            for key in runs.mapped("unit_key")
            if key and key.startswith(prefix) and key[len(prefix) :].isdigit()
        }
