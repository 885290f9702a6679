"""Bookkeeping of every Microsoft 365 job run.

Each job (contact sync, busy-time import, personal sync, outbox drain,
subscription renewal, connection test) opens one ``m365.sync.run`` row, adds
counts to it while it works and closes it as done or failed. The jobs' runs are
opened and closed by the unit-of-work base (``m365.job``: one row per unit,
``unit_key`` naming the unit, committed as running before the work starts, closed
as interrupted when its worker is gone); the units count through the helpers
here (``_m365_count`` / ``_m365_add_stats``, ``_m365_done`` / ``_m365_fail``).
``_m365_track`` runs a one-off body (no lock, no unit) as a run in a savepoint.

A cron deletes runs older than the retention set in Settings.
"""

import logging
import time
from contextlib import contextmanager
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import format_datetime

from .common import name_people

_logger = logging.getLogger(__name__)

RETENTION_PARAM = "m365_sync.run_retention_days"
DEFAULT_RETENTION_DAYS = 90
COUNTERS = ("created", "updated", "deleted", "skipped")
STAT_FIELDS = ("http_requests", "throttled", "retried")


class M365SyncRun(models.Model):
    _name = "m365.sync.run"
    _description = "Microsoft 365 Sync Run"
    _order = "start desc, id desc"
    _rec_name = "kind"

    kind = fields.Selection(
        [
            ("connection", "Connection test"),
            ("contacts", "Contacts"),
            ("busy", "Busy time"),
            ("busy_notified", "Busy time (notified)"),
            ("personal", "Personal sync"),
            ("outbox", "Outbox"),
            ("subscriptions", "Subscriptions"),
            ("rooms", "Rooms"),
            ("mirror", "Busy mirror"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    tenant_id = fields.Many2one("m365.tenant", readonly=True, ondelete="cascade", index=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", string="For user", readonly=True, index=True, ondelete="cascade"
    )
    state = fields.Selection(
        [("running", "Running"), ("done", "Done"), ("failed", "Failed")],
        string="Status",
        default="running",
        required=True,
        readonly=True,
        index=True,
    )
    start = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now, index=True)
    end = fields.Datetime(readonly=True)
    # Datetime fields keep whole seconds: the exact start and end (epoch seconds)
    # give the duration of the many sub-second runs.
    start_ts = fields.Float(readonly=True, copy=False)
    end_ts = fields.Float(readonly=True, copy=False)
    duration = fields.Float(
        string="Duration (s)",
        compute="_compute_duration",
        store=True,
        aggregator="sum",
        digits=(16, 1),
    )
    duration_display = fields.Char(string="Duration", compute="_compute_duration_display")
    created = fields.Integer(readonly=True)
    updated = fields.Integer(readonly=True)
    deleted = fields.Integer(readonly=True)
    skipped = fields.Integer(readonly=True)
    http_requests = fields.Integer(string="HTTP requests", readonly=True)
    throttled = fields.Integer(string="Throttled responses", readonly=True)
    retried = fields.Integer(string="Retried requests", readonly=True)
    message = fields.Text(readonly=True, help="Summary of the run, or why it failed.")
    skipped_details = fields.Text(
        string="Skipped items", readonly=True, help="One line per item skipped, with the reason."
    )
    interrupted = fields.Boolean(
        readonly=True,
        copy=False,
        help="Closed because its worker stopped (killed, restarted, or its feature "
        "switched off): not counted when deciding whether the next run is due.",
    )
    unit_key = fields.Char(
        string="Unit of work",
        readonly=True,
        index=True,
        copy=False,
        help="Which unit of work this run belongs to (job kind and tenant, account or "
        "outbox batch); at most one of its runs is running at a time.",
    )
    resume_state = fields.Json(
        readonly=True,
        copy=False,
        help="Where a long job that stopped half-way (time limit, restart) picks up again. "
        "Set only while the run is running.",
    )

    @api.depends("start", "end", "start_ts", "end_ts")
    def _compute_duration(self):
        for run in self:
            if run.start_ts and run.end_ts:
                run.duration = max(run.end_ts - run.start_ts, 0.0)
            elif run.start and run.end:
                run.duration = (run.end - run.start).total_seconds()
            else:
                run.duration = 0.0

    @api.depends("duration", "end")
    def _compute_duration_display(self):
        for run in self:
            run.duration_display = _format_duration(self.env, run.duration) if run.end else False

    @api.depends("kind", "start")
    @api.depends_context("tz", "lang")
    def _compute_display_name(self):
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        tz = self.env.context.get("tz") or self.env.user.tz or False
        for run in self:
            run.display_name = self.env._(
                "%(kind)s %(start)s",
                kind=kinds.get(run.kind, ""),
                start=format_datetime(self.env, run.start, tz=tz) if run.start else "",
            )

    # ------------------------------------------------------------------
    # The helpers every job uses
    # ------------------------------------------------------------------
    @api.model
    def _m365_start(self, kind, tenant=None, user=None):
        """Open a run; returns the run (sudo: jobs write bookkeeping whoever runs them)."""
        tenant = tenant or self.env["m365.tenant"]
        return self.sudo().create(
            {
                "kind": kind,
                "tenant_id": tenant.id,
                "company_id": tenant.company_id.id or self.env.company.id,
                "user_id": user.id if user else False,
                "start_ts": time.time(),
            }
        )

    def _m365_count(self, skipped_reason=None, **counts):
        """Add to the counters; ``skipped_reason`` is appended to the skipped list."""
        self.ensure_one()
        vals = {name: self[name] + counts.get(name, 0) for name in COUNTERS if counts.get(name)}
        if skipped_reason:
            vals["skipped"] = vals.get("skipped", self.skipped) + (0 if "skipped" in counts else 1)
            lines = (self.skipped_details or "").splitlines()
            lines.append(skipped_reason)
            vals["skipped_details"] = "\n".join(lines)
        if vals:
            self.write(vals)

    def _m365_add_stats(self, stats, since=None):
        """Add HTTP counters from ``client.counters.snapshot()`` (an m365_graph
        CounterSnapshot); with ``since`` (an earlier snapshot), only what came after it."""
        self.ensure_one()
        self.write(
            {
                "http_requests": self.http_requests
                + stats.requests
                - (since.requests if since else 0),
                "throttled": self.throttled + stats.throttled - (since.throttled if since else 0),
                "retried": self.retried + stats.retried - (since.retried if since else 0),
            }
        )

    def _m365_done(self, message=None):
        self.ensure_one()
        self.write(
            {
                "state": "done",
                "end": fields.Datetime.now(),
                "end_ts": time.time(),
                "message": message or False,
            }
        )

    def _m365_fail(self, error):
        self.ensure_one()
        self.write(
            {
                "state": "failed",
                "end": fields.Datetime.now(),
                "end_ts": time.time(),
                "message": name_people(self.env, str(error)),
            }
        )

    def _m365_interrupt(self, message):
        """Close runs whose worker is gone (their unit's lock was free)."""
        for run in self:
            run.write({"resume_state": False, "interrupted": True})
            run._m365_fail(message)

    @api.model
    @contextmanager
    def _m365_track(self, kind, tenant=None, user=None, client=None, raise_errors=False):
        """Run a job's body as one run: ``with Run._m365_track("contacts", tenant) as run:``.

        The body's writes happen in a savepoint: if it raises, they are rolled
        back, the run is closed as failed with the error in plain words, and the
        exception is re-raised only when ``raise_errors`` is set (buttons) — a
        cron goes on with the next tenant or account. ``client``'s HTTP counters
        are added when the body ends, either way.
        """
        run = self._m365_start(kind, tenant=tenant, user=user)
        try:
            with self.env.cr.savepoint():
                yield run
        except Exception as exc:
            if client is not None:
                run._m365_add_stats(client.counters.snapshot())
            run._m365_fail(exc)
            _logger.warning("Microsoft 365 %s run %s failed: %s", kind, run.id, exc)
            if raise_errors:
                raise
        else:
            if client is not None:
                run._m365_add_stats(client.counters.snapshot())
            if run.state == "running":
                run._m365_done()

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------
    @api.model
    def _gc_old_runs(self, batch_size=5000):
        """Cron: delete runs older than the retention (Settings, default 90 days)."""
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(RETENTION_PARAM, DEFAULT_RETENTION_DAYS)
        )
        limit = fields.Datetime.now() - timedelta(days=max(days, 1))
        domain = [("start", "<", limit), ("state", "!=", "running")]
        cron = self.env["ir.cron"]
        while True:
            runs = self.sudo().search(domain, limit=batch_size)
            if not runs:
                break
            count = len(runs)
            runs.unlink()
            cron._commit_progress(count, remaining=self.sudo().search_count(domain))
        return True


def _format_duration(env, seconds):
    """A duration for people: "0.4 s", "12 s", "1 min 5 s", "2 h 3 min"."""
    if seconds < 10:
        return env._("%(seconds)s s", seconds=f"{seconds:.1f}")
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return env._("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    if minutes:
        return env._("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=secs)
    return env._("%(seconds)s s", seconds=secs)
