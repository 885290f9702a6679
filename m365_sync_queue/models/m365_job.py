"""m365_sync's units of work as OCA ``queue_job`` jobs.

``m365_sync`` writes every job (contacts, busy time, personal sync, outbox) on
one unit-of-work base, ``m365.job``: the cron lists the due units
(``_m365_units``) and hands them to ``_m365_dispatch``, which runs them one after
the other in the cron's own process. This addon overrides only that hook: each
unit becomes one job, run by whichever Odoo server queue_job's runner asks, so a
large tenant is spread over several servers sharing one database.

- **Channel**: ``root.m365.<channel>`` of the unit's kind (:data:`CHANNEL_OF`:
  ``contacts``, ``busy`` — the notified users' units too, since they take the
  busy shard's lock —, ``personal``, ``outbox``, ``mirror``, ``rooms``,
  ``subscriptions``, and m365_sync_hr's ``absences``, ``work_location``,
  ``auto_replies``), capped by the runner's channel configuration.
- **Identity**: ``identity_key`` = ``m365:<model>:<unit identity>``, so a unit
  waiting in the queue is never queued a second time; a unit whose job is
  already running is not queued either (queue_job's own check only looks at
  waiting jobs).
- **App-wide cap** (Settings → Microsoft 365 → Job queue): at most that many
  units run at once over all servers, whatever the runners' configuration —
  each running unit holds one of that many PostgreSQL advisory locks on a
  cursor of its own; a unit that finds none free goes back to the queue a few
  seconds later without spending a try.
- **One unit per mailbox**: a unit whose mailbox another unit holds (the base's
  mailbox lock: a pull and an outbox batch of one mailbox) goes back to the
  queue a few seconds later without spending a try.
- **Retries**: Graph's throttling (``Throttled``, with its ``Retry-After``) and
  outages (``Transient``, ``GraphUnavailable``) raise queue_job's
  ``RetryableJobError`` with Graph's wait, so the job is tried again after it;
  any other error fails the job (the unit's own sync run says why).
"""

import logging
import math
import random
from contextlib import contextmanager

from odoo import api, models
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import ENQUEUED, PENDING, STARTED, WAIT_DEPENDENCIES
from odoo.tools import SQL

from m365_graph.core.errors import Throttled, Transient

_logger = logging.getLogger(__name__)

#: ir.config_parameter holding the app-wide cap (units running at once, all servers).
CAPACITY_PARAM = "m365_sync_queue.capacity"
#: Default app-wide cap: two servers' worth of Graph work without nearing the
#: tenant's limits (10,000 requests per 10 minutes and 4 concurrent per mailbox).
DEFAULT_CAPACITY = 8
#: Tries of one unit (throttling, outages) before its job fails.
MAX_RETRIES = 10
#: Seconds before a unit is tried again: after an outage without Retry-After,
#: after throttling without Retry-After, and when the app-wide cap is reached.
TRANSIENT_WAIT = 60
THROTTLED_WAIT = 30
CAP_WAIT = 3
#: Seconds before a unit whose mailbox another unit holds (a pull, an outbox batch
#: of the same mailbox) is tried again.
MAILBOX_WAIT = 5
#: First key of the advisory locks that count running units (the app-wide cap).
CAP_LOCK_NAMESPACE = 365_013
#: Channels: one per kind of unit under root.m365 (data/queue_job_channel_data.xml).
CHANNEL_ROOT = "root.m365"
#: A job's kind (``_m365_job_kind``) → its channel under root.m365. The notified
#: users of a busy shard (busy_notified) take that shard's lock: they share its
#: channel rather than racing it from a channel of their own. m365_sync_hr's kinds
#: have their channels here too (a channel is only a name; this addon does not
#: depend on m365_sync_hr).
CHANNEL_OF = {
    "contacts": "contacts",
    "busy": "busy",
    "busy_notified": "busy",
    "personal": "personal",
    "outbox": "outbox",
    "mirror": "mirror",
    "rooms": "rooms",
    "subscriptions": "subscriptions",
    "absences": "absences",
    "work_location": "work_location",
    "auto_replies": "auto_replies",
}
KINDS = tuple(CHANNEL_OF)
#: queue_job's retry pattern when an error gives no wait (from try N on: seconds).
RETRY_PATTERN = {1: 30, 3: 120, 6: 600}
#: The job method, on every model of the unit-of-work base.
JOB_METHOD = "_m365_queue_run"
#: Job states in which a unit counts as already queued.
QUEUED_STATES = (WAIT_DEPENDENCIES, PENDING, ENQUEUED, STARTED)


class M365Job(models.AbstractModel):
    _inherit = "m365.job"

    # ------------------------------------------------------------------
    # Dispatch: one job per unit instead of running them inline
    # ------------------------------------------------------------------
    def _m365_dispatch(self, units):
        """Queue one job per unit (the base runs them inline from the cron).

        ``m365_queue_inline`` in the context keeps the base's behaviour (the
        benchmark's "cron alone" mode, a button that must answer at once).
        Returns the jobs queued.
        """
        if self.env.context.get("m365_queue_inline"):
            return super()._m365_dispatch(units)
        jobs = []
        for unit in units:
            key = self._m365_queue_identity_key(unit)
            if self._m365_queue_is_queued(key):
                continue
            job = self.with_delay(
                channel=self._m365_queue_channel(),
                identity_key=key,
                max_retries=MAX_RETRIES,
                description=self._m365_queue_description(unit),
            )._m365_queue_run(unit)
            jobs.append(job)
        _logger.info("Microsoft 365 %s: %s of %s units queued", self._name, len(jobs), len(units))
        return jobs

    @api.model
    def _m365_run_in_background(self, units):
        """A button's units become jobs at once (not only at the cron's next call)."""
        if self.env.context.get("m365_queue_inline"):
            return super()._m365_run_in_background(units)
        self._m365_dispatch(units)
        return True

    def _m365_queue_identity_key(self, unit):
        return f"m365:{self._name}:{self._m365_unit_identity(unit)}"

    def _m365_queue_is_queued(self, key):
        """Whether a job of this unit waits or runs (queue_job only checks waiting ones)."""
        return bool(
            self.env["queue.job"]
            .sudo()
            .search_count([("identity_key", "=", key), ("state", "in", QUEUED_STATES)], limit=1)
        )

    @api.model
    def _m365_queue_kind(self):
        """The channel of the kind of unit this model runs: its channel's last part."""
        kind = self._m365_job_kind or self._name.rsplit(".", 1)[-1]
        return CHANNEL_OF.get(kind)

    @api.model
    def _m365_queue_channel(self):
        kind = self._m365_queue_kind()
        return f"{CHANNEL_ROOT}.{kind}" if kind else CHANNEL_ROOT

    def _m365_queue_description(self, unit):
        return self.env._(
            "Microsoft 365 %(job)s: %(unit)s",
            job=self._description or self._name,
            unit=self._m365_unit_identity(unit),
        )

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------
    def _m365_queue_run(self, unit):
        """Run one unit as a job: within the app-wide cap, Graph's waits as retries.

        The unit runs through the base (``_m365_run_unit``: lock, run row,
        savepoints, commits, failure streak), not due-checked again: it was due
        when it was queued, a retry must run although its failed run is newer than
        the interval, and the shards of one tenant share its schedule (the first
        shard's run would make the others "not due"). A unit switched off since it
        was queued does not run. A failure is recorded on the unit's run first; Graph's
        throttling and outages then send the job back to the queue for Graph's
        wait, any other failure ends the job (the run says why, as from the cron).
        """
        if not self._m365_unit_active(unit):
            # Switched off (or gone) since it was queued. The base checks this after
            # its lock only together with the due check, which a retry must skip.
            return self._m365_queue_result(unit, False)
        with self._m365_queue_slot():
            try:
                run = self.with_context(m365_queue_job=True)._m365_run_unit(
                    unit, due_only=False, raise_errors=True
                )
            except RetryableJobError:
                raise
            except Throttled as exc:
                raise RetryableJobError(
                    self.env._("Microsoft Graph is throttling: %(error)s", error=exc),
                    seconds=self._m365_queue_wait(exc.retry_after, THROTTLED_WAIT),
                ) from exc
            except Transient as exc:  # GraphUnavailable included
                raise RetryableJobError(
                    self.env._("Microsoft Graph is unavailable: %(error)s", error=exc),
                    seconds=self._m365_queue_wait(exc.retry_after, TRANSIENT_WAIT),
                ) from exc
            except Exception as exc:  # recorded on the unit's run already
                return f"{self._m365_unit_identity(unit)}: failed: {exc}"
            if self._m365_queue_unavailable(run):
                # Units that stop on Graph's circuit breaker themselves (busy time
                # keeps where it stopped): the retry resumes there.
                raise RetryableJobError(
                    self.env._("Microsoft Graph is unavailable: %(error)s", error=run.message),
                    seconds=TRANSIENT_WAIT,
                )
        return self._m365_queue_result(unit, run)

    @api.model
    def _m365_mailbox_held(self, unit):
        """As a job, a unit whose mailbox another unit holds goes back to the queue
        for a few seconds, without spending a try (from the cron it waits for the
        cron's next call)."""
        if not self.env.context.get("m365_queue_job"):
            return super()._m365_mailbox_held(unit)
        raise RetryableJobError(
            self.env._(
                "Another Microsoft 365 unit is using this mailbox (%(unit)s): queued again, "
                "so that at most 4 requests reach the mailbox at once.",
                unit=self._m365_unit_identity(unit),
            ),
            seconds=MAILBOX_WAIT,
            ignore_retry=True,
        )

    @api.model
    def _m365_queue_unavailable(self, run):
        """Whether ``run`` failed because Graph's circuit breaker opened (and resumes)."""
        if not run or run.state != "failed":
            return False
        state = run.resume_state
        return isinstance(state, dict) and bool(state.get("unavailable"))

    @api.model
    def _m365_queue_wait(self, retry_after, default):
        """Seconds until the next try: Graph's Retry-After when it gave one (rounded
        up, a little jitter so that throttled units do not return all at once)."""
        if retry_after is None or retry_after < 0:
            return default
        return math.ceil(retry_after) + random.randint(0, 2)  # noqa: S311 - jitter

    def _m365_queue_result(self, unit, run):
        identity = self._m365_unit_identity(unit)
        if run is None:
            return f"{identity}: another worker runs it"
        if run is False:
            return f"{identity}: nothing to do (switched off or gone)"
        return f"{identity}: sync run {run.id} {run.state}"

    # ------------------------------------------------------------------
    # The app-wide cap
    # ------------------------------------------------------------------
    @api.model
    def _m365_queue_capacity(self):
        value = self.env["ir.config_parameter"].sudo().get_param(CAPACITY_PARAM)
        try:
            return max(int(value), 0) if value not in (None, False, "") else DEFAULT_CAPACITY
        except ValueError:
            return DEFAULT_CAPACITY

    @contextmanager
    def _m365_queue_slot(self):
        """Hold one of the app-wide cap's slots while the unit runs (0: no cap).

        A slot is a transaction-level advisory lock on a cursor of its own, so it
        is released when the unit ends, fails or its server dies — never left
        behind on a pooled connection.
        """
        capacity = self._m365_queue_capacity()
        if not capacity:
            yield None
            return
        with self.env.registry.cursor() as cr:
            for slot in range(capacity):
                cr.execute(
                    SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", CAP_LOCK_NAMESPACE, slot)
                )
                if cr.fetchone()[0]:
                    break
            else:
                raise RetryableJobError(
                    self.env._(
                        "%(count)s Microsoft 365 units are running already (the app-wide "
                        "cap of Settings → Microsoft 365): queued again.",
                        count=capacity,
                    ),
                    seconds=CAP_WAIT,
                    ignore_retry=True,
                )
            yield slot

    # ------------------------------------------------------------------
    # Set-up: job functions of every model of the base
    # ------------------------------------------------------------------
    @api.model
    def _m365_queue_job_models(self):
        """Names of the non-abstract-base models running units (children of m365.job)."""
        names = []
        todo = list(self.env.registry["m365.job"]._inherit_children)
        while todo:
            name = todo.pop(0)
            if name in names or name == "m365.job" or name not in self.env:
                continue
            todo += list(self.env.registry[name]._inherit_children)
            if self.env[name]._m365_job_kind:  # not a shared base (m365.job.tenant)
                names.append(name)
        return sorted(names)

    @api.model
    def _m365_queue_register_functions(self):
        """Create or update the queue.job.function of each job model: its channel, and
        *allow commit* — a unit commits its sync run and each chunk it finishes."""
        Function = self.env["queue.job.function"].sudo()
        Data = self.env["ir.model.data"].sudo()
        for model_name in self._m365_queue_job_models():
            Model = self.env[model_name]
            kind = Model._m365_queue_kind()
            channel = self.env.ref(
                f"m365_sync_queue.channel_m365_{kind}" if kind else "m365_sync_queue.channel_m365"
            )
            name = Function.job_function_name(model_name, JOB_METHOD)
            vals = {"channel_id": channel.id, "allow_commit": True, "retry_pattern": RETRY_PATTERN}
            function = Function.search([("name", "=", name)], limit=1)
            if function:
                function.write(vals)
            else:
                function = Function.create({"name": name, **vals})
            # An xmlid of this module (marked as loaded, so that the end of the
            # install keeps it), so that uninstalling the module removes the function.
            Data._update_xmlids(
                [
                    {
                        "xml_id": f"m365_sync_queue.job_function_{model_name.replace('.', '_')}",
                        "record": function,
                        "noupdate": False,
                    }
                ],
                update=True,
            )
        return True

    @api.model
    def _m365_queue_channels_config(self, capacity=None):
        """The job runner's channels line for an app-wide cap of ``capacity``.

        root gets the cap plus two for other addons' jobs; contacts run one at a time
        (one unit per tenant reads the whole directory), and so do rooms (a tenant's
        room units share the tenant's room lock: side by side, all but one would
        find it held and leave their room to the room cron); the others share the cap.
        """
        if capacity is None:
            capacity = self._m365_queue_capacity()
        cap = capacity or DEFAULT_CAPACITY
        return (
            f"root:{cap + 2},{CHANNEL_ROOT}:{cap},{CHANNEL_ROOT}.contacts:1,{CHANNEL_ROOT}.rooms:1"
        )
