"""Busy time imported from Microsoft 365 calendars, and the job that imports it.

Privacy first: a slot holds when a user is busy — start, end, all-day, ``showAs``,
categories, sensitivity, occurrence type and the Graph event id — and nothing else.
Titles, bodies, locations and attendees are never requested from Graph (the
calendarView ``$select`` of ``m365_graph.BUSY_SELECT``) and have no column here.

The import (cron every few minutes, each tenant on its own interval, or the
"Sync busy time now" button) reads the calendar window of every covered user —
active internal users of the tenant's company whose e-mail address is a tenant
user's, not excluded on their user form — through batched, concurrent calendarView
requests, then reconciles the stored slots of each mailbox: new slots created,
changed ones updated, vanished ones deleted, unchanged ones not written. A mailbox
Graph refuses (403) or that has no mailbox (404, unlicensed user) is recorded on
the run and keeps its stored slots; the others go on. Mailboxes are processed in
chunks that each commit (``ir.cron._commit_progress``) and advance the run's
resume state, so a run stopped by the cron's time limit or a restart resumes
where it stopped. After each chunk the workload days of the touched users and
days are recomputed (``m365.workload.day``).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, format_datetime

from m365_graph import Budget, GraphError, GraphUnavailable, PermissionMissing, read_busy_times
from m365_graph.resources.directory import match_mailboxes, read_directory
from m365_graph.sync.workload import (
    SENSITIVITIES,
    SHOW_AS_BUSY,
    BusyWindow,
    SlotRecord,
    busy_window,
    categories_need_cleaning,
    is_ignored,
    prepare_slots,
    reconcile,
    slot_days,
    split_categories,
)

_logger = logging.getLogger(__name__)

#: Mailboxes per committed chunk: five ``$batch`` calls of 20, read concurrently.
CHUNK_SIZE = 100
#: First key of the PostgreSQL advisory lock held while a tenant's import runs.
LOCK_NAMESPACE = 365_005
#: An interrupted run older than this is not resumed: a new one starts.
RESUME_FOR = timedelta(hours=12)
#: Skipped items listed on one run; the rest are only counted.
MAX_DETAIL_LINES = 500
#: The import's circuit breaker: total seconds of waiting on Graph and failed
#: requests in a row before it stops as "Graph unavailable" (and resumes later).
BUSY_BUDGET = {"max_wait": 60.0, "max_failures": 8}

SHOW_AS = [
    ("busy", "Busy"),
    ("tentative", "Tentative"),
    ("oof", "Out of office"),
    ("free", "Free"),
    ("workingElsewhere", "Working elsewhere"),
]


class M365BusySlot(models.Model):
    _name = "m365.busy.slot"
    _description = "Microsoft 365 Busy Slot"
    _order = "start desc, id desc"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", required=True, readonly=True, index=True, ondelete="cascade"
    )
    event_id = fields.Char(
        string="Graph event id",
        required=True,
        readonly=True,
        help="The id of the Outlook event (or occurrence) in the user's mailbox.",
    )
    start = fields.Datetime(required=True, readonly=True)
    stop = fields.Datetime(string="End", required=True, readonly=True)
    all_day = fields.Boolean(string="All day", readonly=True)
    duration = fields.Float(
        string="Duration (h)", compute="_compute_duration", store=True, aggregator="sum"
    )
    show_as = fields.Selection(SHOW_AS, string="Show as", required=True, readonly=True)
    categories = fields.Char(readonly=True, help="Outlook categories, comma-separated.")
    sensitivity = fields.Selection(
        [(name, name.capitalize()) for name in SENSITIVITIES], readonly=True
    )
    event_type = fields.Selection(
        [
            ("singleInstance", "Single"),
            ("occurrence", "Occurrence"),
            ("exception", "Changed occurrence"),
            ("seriesMaster", "Series"),
        ],
        string="Type",
        readonly=True,
    )
    is_busy = fields.Boolean(
        string="Busy",
        compute="_compute_counted",
        store=True,
        help="Shown as busy, tentative or out of office.",
    )
    ignored = fields.Boolean(
        readonly=True, help="A category of this appointment is ignored by a category rule."
    )
    counted = fields.Boolean(
        compute="_compute_counted",
        store=True,
        help="Counts toward workload: shown as busy and not ignored.",
    )

    _user_event_uniq = models.Constraint(
        "UNIQUE(user_id, event_id)", "An Outlook event is imported once per user."
    )
    _user_window_idx = models.Index("(user_id, start, stop)")

    @api.depends("start", "stop")
    def _compute_duration(self):
        for slot in self:
            slot.duration = (
                (slot.stop - slot.start).total_seconds() / 3600 if slot.start and slot.stop else 0
            )

    @api.depends("show_as", "ignored")
    def _compute_counted(self):
        for slot in self:
            slot.is_busy = slot.show_as in SHOW_AS_BUSY
            slot.counted = slot.is_busy and not slot.ignored

    @api.depends("user_id", "start", "stop", "all_day")
    @api.depends_context("tz", "lang")
    def _compute_display_name(self):
        # In the reader's time zone and date format, like the Start field shows it.
        tz = self.env.context.get("tz") or self.env.user.tz or False
        for slot in self:
            if slot.all_day and slot.start:
                when = format_date(self.env, slot.start.date())
            else:
                when = (
                    format_datetime(self.env, slot.start, tz=tz, dt_format="short")
                    if slot.start
                    else ""
                )
            slot.display_name = self.env._(
                "%(user)s, %(when)s", user=slot.user_id.name or "", when=when
            )

    def _m365_record(self):
        """This slot as ``m365_graph.workload.SlotRecord`` (what reconciliation compares)."""
        self.ensure_one()
        return SlotRecord(
            self.event_id,
            self.start,
            self.stop,
            self.all_day,
            self.show_as,
            self.categories or "",
            self.sensitivity or None,
            self.event_type or None,
        )

    # ------------------------------------------------------------------
    # Entry points: cron and button
    # ------------------------------------------------------------------
    @api.model
    def _cron_m365_import_busy(self):
        """Cron: import busy time of every tenant that is due (or has a run to resume)."""
        Run = self.env["m365.sync.run"].sudo()
        tenants = self.env["m365.tenant"].sudo().search([("busy_sync", "=", True)])
        for tenant in tenants.filtered("is_configured"):
            unfinished = Run.search(
                [("tenant_id", "=", tenant.id), ("kind", "=", "busy"), ("state", "=", "running")],
                limit=1,
            )
            interval = timedelta(minutes=tenant.busy_interval_minutes)
            if not unfinished and not tenant._m365_due("busy", interval):
                continue
            run = self._m365_import_busy(tenant)
            if run is not None and run.state == "running":
                # Out of time: the cron comes back at once and resumes.
                break
        return True

    @api.model
    def _m365_import_busy(self, tenant, raise_errors=False):
        """Import (or resume importing) busy time of ``tenant``; returns the run.

        Returns ``None`` when another import of this tenant is running right now.
        With ``raise_errors`` (the button) a failure is raised as a ``UserError``.
        """
        tenant = tenant.sudo()
        if not self._m365_lock(tenant):
            if raise_errors:
                raise UserError(
                    self.env._(
                        "Busy time of %(company)s is being imported right now. "
                        "See Settings → Microsoft 365 → Sync Runs.",
                        company=tenant.company_id.name,
                    )
                )
            return None
        try:
            return self._m365_import_locked(tenant, raise_errors)
        finally:
            self._m365_unlock(tenant)

    @api.model
    def _m365_lock(self, tenant):
        # A session-level advisory lock: it survives the commits between chunks and
        # dies with the connection if the worker dies, so a run still marked
        # "running" without the lock was interrupted and can be resumed.
        self.env.cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", LOCK_NAMESPACE, tenant.id))
        return self.env.cr.fetchone()[0]

    @api.model
    def _m365_unlock(self, tenant):
        self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", LOCK_NAMESPACE, tenant.id))

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
    def _m365_import_locked(self, tenant, raise_errors):
        run = self._m365_run_to_resume(tenant)
        carried = self._m365_unavailable_to_resume(tenant) if run is None else None
        if carried is not None:
            # The last import stopped because Graph was unavailable: this one goes on
            # from there (same day, same window, the mailboxes not read yet).
            run = self.env["m365.sync.run"]._m365_start("busy", tenant=tenant)
            run.resume_state = carried
            self.env["ir.cron"]._commit_progress()
        if run is None:
            run = self.env["m365.sync.run"]._m365_start("busy", tenant=tenant)
            run.resume_state = {
                "day": fields.Date.to_string(self._m365_busy_today()),
                "after": 0,
                "mailboxes": 0,
                "failed": 0,
                "days": 0,
                "fallback": 0,
                "details": 0,
            }
            self.env["ir.cron"]._commit_progress()
        state = dict(run.resume_state)
        window = self._m365_window(tenant, fields.Date.to_date(state["day"]))
        client = seen = None
        try:
            client = tenant._m365_graph_client()
            client.budget = Budget(**BUSY_BUDGET)
            seen = client.counters.snapshot()
            users, mailbox_of, note = self._m365_covered_users(tenant, client)
            state["directory"] = note
            with self.env.cr.savepoint():
                self._m365_forget_uncovered(tenant, users, run, window)
            todo = users.filtered(lambda u: u.id > state["after"])
            ignored_keys = self.env["m365.category.rule"]._m365_ignored_keys(tenant)
            job = _BusyJob(tenant, run, mailbox_of, window, ignored_keys, state)
            cron = self.env["ir.cron"]
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
                    run._m365_add_stats(_Delta(now, seen))
                    seen = now
                    state["after"] = chunk[-1].id
                    run.resume_state = dict(state)
                time_left = cron._commit_progress(len(chunk), remaining=len(todo))
                if todo and time_left <= 0:
                    _logger.info(
                        "Microsoft 365 busy time of tenant %s: out of time, %s mailboxes left",
                        tenant.id,
                        len(todo),
                    )
                    return run
        except GraphUnavailable as exc:
            # The circuit breaker opened: the chunk is rolled back, earlier chunks are
            # committed. The run says so and keeps where it stopped; the next run
            # (after the tenant's interval) resumes there.
            if seen is not None:
                run._m365_add_stats(_Delta(client.counters.snapshot(), seen))
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
            self.env["ir.cron"]._commit_progress()
            if raise_errors:
                raise UserError(run.message) from exc
            return run
        except Exception as exc:
            # Whatever the chunk wrote is rolled back (savepoint); earlier chunks are
            # committed. The run ends as failed and the next one starts afresh.
            if not isinstance(exc, (GraphError, UserError)):
                _logger.exception("Microsoft 365 busy-time import of tenant %s failed", tenant.id)
            if seen is not None:
                run._m365_add_stats(_Delta(client.counters.snapshot(), seen))
            run.resume_state = False
            run._m365_fail(exc)
            self.env["ir.cron"]._commit_progress()
            if raise_errors:
                raise UserError(str(exc)) from exc
            return run
        finally:
            if client is not None:
                client.close()
        run.resume_state = False
        run._m365_done(message=self._m365_summary(run, state, window))
        self.env["ir.cron"]._commit_progress()
        return run

    @api.model
    def _m365_run_to_resume(self, tenant):
        """The tenant's interrupted run, if it can be resumed; stale ones are closed."""
        Run = self.env["m365.sync.run"].sudo()
        runs = Run.search(
            [("tenant_id", "=", tenant.id), ("kind", "=", "busy"), ("state", "=", "running")],
            order="start desc",
        )
        limit = fields.Datetime.now() - RESUME_FOR
        resumable = runs.filtered(lambda r: r.resume_state and r.start >= limit)[:1]
        for stale in runs - resumable:
            stale.write({"resume_state": False})
            stale._m365_fail(
                self.env._("Interrupted before it finished; a new import was started instead.")
            )
        return resumable or None

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
        stale = self.sudo().search(
            [("company_id", "=", tenant.company_id.id), ("user_id", "not in", users.ids)]
        )
        if stale:
            touched = self._m365_days_of(
                [(slot.user_id.id, slot._m365_record()) for slot in stale], window
            )
            count = len(stale)
            stale.unlink()
            run._m365_count(deleted=count)
            self.env["m365.workload.day"]._m365_recompute(touched)

    def _m365_store_chunk(self, job, users, results):
        """Reconcile the stored slots of ``users`` with what Graph returned; recompute."""
        tenant, run, window, state = job.tenant, job.run, job.window, job.state
        mailbox_of, ignored_keys = job.mailbox_of, job.ignored_keys
        fetched_ids = {
            slot.event_id for result in results.values() if result.ok for slot in result.slots
        }
        stored = self._m365_stored(users, window, fetched_ids)
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
                creates.append(self._m365_vals(tenant, user, record, ignored_keys))
                changed.append((user.id, record))
            for ref, old, new in plan.update:
                updates.append((ref, self._m365_vals(tenant, user, new, ignored_keys)))
                changed += [(user.id, old), (user.id, new)]
            for ref, old in plan.delete:
                deletes.append(ref)
                changed.append((user.id, old))
        Slot = self.sudo()
        if deletes:
            Slot.browse(deletes).unlink()
        for ref, vals in updates:
            Slot.browse(ref).write(vals)
        if creates:
            Slot.create(creates)

        touched = self._m365_days_of(changed, window)
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
    def _m365_stored(self, users, window, fetched_ids):
        """{user id: [(slot id, SlotRecord)]}: stored slots of the window, plus stored
        slots outside it whose event came back (so they are matched, not duplicated)."""
        domain = [
            ("user_id", "in", users.ids),
            "|",
            "&",
            ("start", "<", window.end.replace(tzinfo=None)),
            ("stop", ">", window.start.replace(tzinfo=None)),
            ("event_id", "in", list(fetched_ids)),
        ]
        rows = self.sudo().search_read(
            domain,
            [
                "user_id",
                "event_id",
                "start",
                "stop",
                "all_day",
                "show_as",
                "categories",
                "sensitivity",
                "event_type",
            ],
            load=None,
        )
        out = defaultdict(list)
        for row in rows:
            out[row["user_id"]].append(
                (
                    row["id"],
                    SlotRecord(
                        row["event_id"],
                        row["start"],
                        row["stop"],
                        row["all_day"],
                        row["show_as"],
                        row["categories"] or "",
                        row["sensitivity"] or None,
                        row["event_type"] or None,
                    ),
                )
            )
        return out

    @api.model
    def _m365_vals(self, tenant, user, record, ignored_keys):
        return {
            "company_id": tenant.company_id.id,
            "user_id": user.id,
            "event_id": record.event_id,
            "start": record.start,
            "stop": record.stop,
            "all_day": record.all_day,
            "show_as": record.show_as,
            "categories": record.categories or False,
            "sensitivity": record.sensitivity or False,
            "event_type": record.event_type or False,
            "ignored": is_ignored(record.category_names, ignored_keys),
        }

    @api.model
    def _m365_days_of(self, user_records, window=None):
        """{user id: local days} the given (user id, SlotRecord) pairs cover (in the window)."""
        users = self.env["res.users"].sudo().browse({uid for uid, _r in user_records})
        setups = self.env["m365.workload.day"]._m365_user_setup(users)
        out = defaultdict(set)
        for uid, record in user_records:
            for day in slot_days(record.start, record.stop, record.all_day, setups[uid]["tz"]):
                if window is None or day in window:
                    out[uid].add(day)
        return out

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

    @api.model
    def _m365_forget_users(self, users):
        """Delete the busy time of ``users`` (excluded from the import)."""
        slots = self.sudo().search([("user_id", "in", users.ids)])
        if slots:
            slots.unlink()
            self.env["m365.workload.day"]._m365_schedule_recompute(users=users)

    # ------------------------------------------------------------------
    # Category rules
    # ------------------------------------------------------------------
    @api.model
    def _m365_apply_category_rules(self, tenants):
        """Re-mark the slots of ``tenants`` after their category rules changed."""
        Rule = self.env["m365.category.rule"]
        changed = []
        for tenant in tenants.sudo():
            keys = Rule._m365_ignored_keys(tenant)
            slots = self.sudo().search(
                [("company_id", "=", tenant.company_id.id), ("categories", "!=", False)]
            )
            flip_on = slots.filtered(
                lambda s, keys=keys: (
                    not s.ignored and is_ignored(split_categories(s.categories), keys)
                )
            )
            flip_off = slots.filtered(
                lambda s, keys=keys: (
                    s.ignored and not is_ignored(split_categories(s.categories), keys)
                )
            )
            flip_on.write({"ignored": True})
            flip_off.write({"ignored": False})
            changed += [(s.user_id.id, s._m365_record()) for s in flip_on | flip_off]
        if changed:
            touched = self._m365_days_of(changed)
            Day = self.env["m365.workload.day"]
            for uid, days in touched.items():
                Day._m365_schedule_recompute(
                    users=self.env["res.users"].browse(uid),
                    date_from=min(days),
                    date_to=max(days),
                )
        return True


@dataclass
class _BusyJob:
    """What every chunk of one import run needs to know."""

    tenant: Any  # m365.tenant
    run: Any  # m365.sync.run
    mailbox_of: dict  # res.users id -> mailbox (Graph user id or UPN)
    window: BusyWindow
    ignored_keys: frozenset
    state: dict  # the run's resume state, updated per chunk


class _Delta:
    """HTTP counters between two ``CounterSnapshot``s, for ``run._m365_add_stats``."""

    def __init__(self, now, before):
        self.requests = now.requests - before.requests
        self.throttled = now.throttled - before.throttled
        self.retried = now.retried - before.retried
