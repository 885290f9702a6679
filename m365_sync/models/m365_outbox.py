"""The transactional outbox: every push to Outlook, written with the Odoo change.

Why this file exists: calling Microsoft Graph inside a user's transaction would make
saving an appointment as slow as Graph, would send changes of transactions that
then roll back, and would lose changes while Graph is down. Instead, the change
writes one ``m365.outbox`` row in the *same* transaction (the operation, the
record, who writes where, the body to send and its digest, the moment of the
change), and triggers the drain job for right after the commit. The row is
therefore committed exactly when the change is, and nothing is sent for a change
that rolled back.

Rows are coalesced per record and target: three edits before a drain are one
PATCH; an appointment created and deleted before a drain sends nothing
(``m365_graph.sync.outbox.coalesce``). A row says *who* writes (``writer``: the user's
connected account — delegated — or the tenant's application permission) and
*where* (``mailbox``: ``me`` or another user's calendar), and refers to any Odoo
record (``res_model``/``res_id``): appointments, series and activities.
The model of the record queues the body when it changes (``m365.push.mixin``:
``_m365_outbox_entry``) and answers the drain's hooks: after a push
through the record protocol of ``m365.push.mixin`` (plan a row, the values of
its link, after a push, link a series' occurrences, a conflict Outlook won, rows
failed for good), none of which calls Graph: the drain does all the Graph I/O
itself, batched; ``m365.event.link`` stays the one place mapping a record to a
Graph event.

The drain (``m365.job.outbox``: cron every minute, and right after each commit
that queued rows) takes the due rows per writer and mailbox, under the account's
advisory lock (the same lock as the personal pull, so a pull never sees half a
push), one ``m365.sync.run`` each (``_Drain`` below sends them):

* creations go through ``$batch`` (20 per round trip) with a ``transactionId``
  stable per record, so resending after a lost answer never doubles an event;
* updates carry ``If-Match``; a 412 re-reads the event and applies the documented
  rule (``m365_graph.sync.outbox.resolve_conflict``) — never a silent duplicate;
* deletions of events already gone count as done;
* failures back off (``RetrySchedule``: 1 minute doubling to 6 hours, about 32 hours
  in all); after the budget, or at once for a refusal that cannot get better (a
  missing permission, named), the row is *failed*, the owner is told, and it can
  be retried by hand. A sign-in that must be renewed makes the rows wait, without
  spending their budget, until the account is connected again.
"""

import logging
import uuid
from collections import Counter, defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from m365_graph import (
    GraphError,
    PushOperation,
    RetrySchedule,
    classify,
    clock_offset,
    coalesce,
    get_event,
    map_event,
    push_operations,
    resolve_conflict,
)
from m365_graph.core.errors import BadResponse, NotFound, PreconditionFailed
from m365_graph.resources.series import read_instances
from m365_graph.sync.outbox import FAIL, RETRY, WAIT_ACCOUNT, WAIT_GRAPH
from m365_graph.sync.rules import meeting_kept

from .common import aware_utc, naive_utc, name_people

_logger = logging.getLogger(__name__)

OPERATIONS = [("create", "Create"), ("update", "Update"), ("delete", "Delete")]
WRITERS = [
    ("delegated", "The user's connected account"),
    ("application", "The tenant's application permission"),
]
#: The retry schedule of every row (see m365_graph.sync.outbox.RetrySchedule).
SCHEDULE = RetrySchedule()
#: Rows handled per cron call; the job triggers itself again for the rest.
DRAIN_LIMIT = 5000
#: Rows sent per unit of work (one sync run, one savepoint, one commit).
UNIT = 500
#: The HTTP retries inside one drain stay short: the outbox itself retries later.
DRAIN_RETRY = {"max_attempts": 3, "max_retry_after": 30}
#: A drain stops after this much waiting or this many failed requests in a row
#: ("Graph unavailable"), far inside Odoo's default 120 s cron limit.
DRAIN_BUDGET = {"max_wait": 45.0, "max_failures": 6}
#: Rows that met an unavailable Graph wait this long (or Graph's Retry-After) and
#: keep their tries.
GRAPH_BACKOFF = timedelta(minutes=5)
_TX_NAMESPACE = uuid.UUID("0c7d3d6e-7f8e-4a57-9b1e-5b3f3a3e1d20")


#: Fields binding a row to a mailbox and a person: written by the sync (superuser) only.
OWNERSHIP_FIELDS = frozenset(
    {
        "account_id",
        "tenant_id",
        "user_id",
        "company_id",
        "mailbox",
        "calendar_id",
        "link_id",
        "graph_event_id",
        "res_model",
        "res_id",
    }
)


class M365Outbox(models.Model):
    _name = "m365.outbox"
    _inherit = ["m365.binding.mixin"]
    _description = "Microsoft 365 Outbox"
    _order = "id"
    _m365_binding_fields = OWNERSHIP_FIELDS

    res_model = fields.Char(string="Odoo model", required=True, index=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Odoo record", model_field="res_model", required=True, index=True, readonly=True
    )
    res_name = fields.Char(string="Record", readonly=True)
    operation = fields.Selection(OPERATIONS, required=True, readonly=True)
    state = fields.Selection(
        [("pending", "Waiting to be sent"), ("failed", "Failed")],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    writer = fields.Selection(
        WRITERS,
        default="delegated",
        required=True,
        readonly=True,
        help="Who writes to Outlook: the user's own connected account (delegated "
        "permissions), or the tenant's application permission.",
    )
    account_id = fields.Many2one("m365.account", index=True, ondelete="cascade", readonly=True)
    tenant_id = fields.Many2one("m365.tenant", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", index=True, readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="For user",
        index=True,
        ondelete="cascade",
        readonly=True,
        help="The user whose change this is; told when it cannot be sent.",
    )
    mailbox = fields.Char(
        default="me",
        required=True,
        readonly=True,
        help="The calendar written: 'me' (the account's own) or another user's id.",
    )
    calendar_id = fields.Char(readonly=True, help="A calendar other than the default one.")
    link_id = fields.Many2one("m365.event.link", ondelete="set null", readonly=True)
    graph_event_id = fields.Char(string="Graph event id", readonly=True)
    series_master_id = fields.Char(readonly=True)
    transaction_id = fields.Char(readonly=True, copy=False)
    payload = fields.Json(readonly=True, copy=False)
    payload_hash = fields.Char(readonly=True, copy=False)
    notes = fields.Text(
        string="Adapted for Outlook",
        readonly=True,
        help="What had to be changed to send the record (an attendee without e-mail left "
        "out, a long description shortened…).",
    )
    changed_at = fields.Datetime(
        string="Changed in Odoo",
        required=True,
        default=fields.Datetime.now,
        readonly=True,
        help="When the user saved the change; used to decide conflicts with Outlook.",
    )
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(default=fields.Datetime.now, index=True, readonly=True)
    last_attempt = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    can_retry = fields.Boolean(compute="_compute_can_retry")

    # ------------------------------------------------------------------
    # Ownership: which mailbox and which person a row binds, set by the sync alone
    # ------------------------------------------------------------------

    @api.depends("res_name", "operation")
    def _compute_display_name(self):
        labels = dict(self._fields["operation"]._description_selection(self.env))
        for item in self:
            item.display_name = self.env._(
                "%(operation)s %(record)s",
                operation=labels.get(item.operation, ""),
                record=item.res_name or f"{item.res_model},{item.res_id}",
            )

    @api.depends_context("uid")
    def _compute_can_retry(self):
        manager = self.env.user.has_group("m365_sync.group_m365_manager")
        for item in self:
            item.can_retry = item.state == "failed" and (manager or item.user_id == self.env.user)

    # ------------------------------------------------------------------
    # Queueing (called from the ORM methods of the records, same transaction)
    # ------------------------------------------------------------------
    @api.model
    def _m365_transaction_id(self, res_model, res_id, target):
        """A transactionId stable per record and target calendar (Graph dedupes on it)."""
        dbuuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return str(uuid.uuid5(_TX_NAMESPACE, f"{dbuuid}/{res_model}/{res_id}/{target}"))

    @api.model
    def _m365_key(self, vals):
        return (
            vals["res_model"],
            vals["res_id"],
            vals.get("writer") or "delegated",
            vals.get("account_id") or False,
            vals.get("mailbox") or "me",
        )

    @api.model
    def _m365_enqueue(self, entries):
        """Queue pushes. Each entry is a dict of field values plus ``link`` (a link or empty).

        Coalesces with the rows already waiting for the same record and target, drops an
        update whose body is the one already in Outlook, and triggers the drain for right
        after the commit. Returns the rows written.
        """
        Outbox = self.sudo()
        if not entries:
            return Outbox
        models_ids = defaultdict(set)
        for entry in entries:
            models_ids[entry["res_model"]].add(entry["res_id"])
        domain = [("state", "in", ("pending", "failed"))]
        existing = {}
        for model, ids in models_ids.items():
            for item in Outbox.search(
                [*domain, ("res_model", "=", model), ("res_id", "in", list(ids))]
            ):
                existing[item._m365_key(item._m365_key_values())] = item
        now = fields.Datetime.now()
        to_create = []
        touched = Outbox
        for entry in entries:
            vals = dict(entry)
            link = (vals.pop("link", None) or self.env["m365.event.link"]).exists()
            vals["link_id"] = link.id
            if link and not vals.get("graph_event_id"):
                vals["graph_event_id"] = link.graph_event_id
                vals["series_master_id"] = link.series_master_id
            key = self._m365_key(vals)
            item = existing.get(key)
            unchanged = (
                vals["operation"] != "delete"
                and link
                and link.pushed_hash
                and vals.get("payload_hash") == link.pushed_hash
            )
            if item:
                operation = coalesce(item.operation, vals["operation"], sent=item.attempts > 0)
                if operation is None or (operation == "update" and unchanged):
                    existing.pop(key)
                    item.unlink()
                    continue
                vals.update(
                    operation=operation,
                    state="pending",
                    next_attempt=now,
                    changed_at=now,
                    last_error=False,
                    attempts=item.attempts if operation == "create" else 0,
                )
                if operation == "create":
                    vals["transaction_id"] = item.transaction_id or vals.get("transaction_id")
                item.write(vals)
                touched |= item
            elif vals["operation"] == "delete" and not vals.get("graph_event_id"):
                continue  # never reached Outlook: nothing to delete
            elif not unchanged:
                vals.setdefault("changed_at", now)
                vals.setdefault("next_attempt", now)
                to_create.append(vals)
        if to_create:
            created = Outbox.create(to_create)
            for item in created:
                existing[item._m365_key(item._m365_key_values())] = item
            touched |= created
        if touched:
            self._m365_trigger()
        return touched

    def _m365_target(self):
        """``(key, account, tenant)``: where this row writes (key as in :meth:`_m365_key`)."""
        self.ensure_one()
        key = (self.writer, self.account_id.id or False, self.mailbox or "me")
        return key, self.account_id, self.tenant_id

    def _m365_key_values(self):
        self.ensure_one()
        return {
            "res_model": self.res_model,
            "res_id": self.res_id,
            "writer": self.writer,
            "account_id": self.account_id.id,
            "mailbox": self.mailbox,
        }

    @api.model
    def _m365_trigger(self):
        """Run the drain right after this transaction commits (once per transaction)."""
        data = self.env.cr.precommit.data
        if data.get("m365_outbox_triggered"):
            return
        data["m365_outbox_triggered"] = True
        cron = self.env.ref("m365_sync.ir_cron_m365_outbox", raise_if_not_found=False)
        if cron:
            # The trigger row commits (or rolls back) with the change; Odoo wakes the
            # cron workers after the commit.
            cron.sudo()._trigger()

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_retry(self):
        """Send failed rows again (their owner or a manager), with a fresh retry budget."""
        manager = self.env.user.has_group("m365_sync.group_m365_manager")
        for item in self:
            if not (manager or item.user_id == self.env.user):
                raise AccessError(
                    self.env._("Only %(user)s or a manager can retry this.", user=item.user_id.name)
                )
        failed = self.filtered(lambda item: item.state == "failed")
        if not failed:
            raise UserError(self.env._("Only failed changes can be retried."))
        failed.sudo().write(
            {
                "state": "pending",
                "attempts": 0,
                "next_attempt": fields.Datetime.now(),
                "last_error": False,
            }
        )
        self._m365_trigger()
        return True

    def action_open_record(self):
        self.ensure_one()
        record = self.env[self.res_model].browse(self.res_id).exists()
        if not record:
            raise UserError(self.env._("The record was deleted in Odoo."))
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }

    # ------------------------------------------------------------------
    # Draining
    # ------------------------------------------------------------------
    @api.model
    def _m365_due_domain(self):
        return [
            ("state", "=", "pending"),
            ("next_attempt", "<=", fields.Datetime.now()),
            "|",
            ("writer", "=", "application"),
            # Rows of an account that must be reconnected, or that no longer uploads
            # (paused, Down), wait without being read.
            "&",
            ("account_id.state", "in", ("connected", "error")),
            "|",
            ("account_id.direction", "in", ("up", "both")),
            # A colleague's calendar shared with the account's user (activity export):
            # any direction but paused.
            "&",
            ("mailbox", "!=", "me"),
            ("account_id.direction", "!=", "none"),
        ]

    # ------------------------------------------------------------------
    # Outcomes
    # ------------------------------------------------------------------
    def _m365_failed(self, error, kind, retry_after=None):
        """Record a failure: back off, wait for the user, or fail (and tell the owner)."""
        now = fields.Datetime.now()
        message = name_people(self.env, str(error))
        newly_failed = self.browse()
        for item in self:
            if kind == WAIT_ACCOUNT:
                item.write({"last_error": message, "last_attempt": now})
                continue
            if kind == WAIT_GRAPH:
                wait = max(GRAPH_BACKOFF, timedelta(seconds=retry_after or 0))
                item.write({"last_error": message, "last_attempt": now, "next_attempt": now + wait})
                continue
            attempts = item.attempts + 1
            if kind == FAIL or SCHEDULE.exhausted(attempts):
                item.write(
                    {
                        "state": "failed",
                        "attempts": attempts,
                        "last_error": message,
                        "last_attempt": now,
                    }
                )
                newly_failed |= item
            else:
                item.write(
                    {
                        "attempts": attempts,
                        "last_error": message,
                        "last_attempt": now,
                        "next_attempt": now + SCHEDULE.delay(attempts, retry_after),
                    }
                )
        newly_failed._m365_notify_failed()

    def _m365_notify_failed(self):
        """Tell the owners (and the managers, as for the personal sync) once per row."""
        for user, items in self.grouped("user_id").items():
            if not user:
                continue
            user._m365_set_notice(
                self.env._(
                    "%(count)s change(s) could not be sent to Outlook (%(error)s). Open "
                    "Microsoft 365 → Outbox to see them and retry.",
                    count=len(items),
                    error=items[-1].last_error,
                ),
                "danger",
            )
        template = self.env.ref(
            "m365_sync.mail_template_m365_outbox_failed", raise_if_not_found=False
        )
        if template:
            for account in self.account_id:
                template.sudo().send_mail(account.id, force_send=False)
        for model, items in self.grouped("res_model").items():
            if model in self.env:
                records = self.env[model].browse(items.mapped("res_id")).exists()
                if records and hasattr(records, "_m365_push_failed"):
                    records._m365_push_failed(items)


class _Drain:
    """One drain of the rows of one writer and mailbox: the Graph side and its outcome."""

    def __init__(self, items, account):
        self.env = items.env
        self.items = items
        self.account = account
        self.client = None
        self.run = None
        self.stats = Counter()
        self.unavailable = None  # the GraphUnavailable that stopped this drain
        self.account_error = None  # the error that makes the account wait (once per run)
        self.resend = None  # (row, change key) of 412 winners, while a batch is answered
        self.pending = []  # (row, new link values or None, created?, event) to flush
        self.target = "me"  # the mailbox of the rows
        self.series = {}  # {master link id: created?} whose occurrences are to link
        self.Link = self.env["m365.event.link"].sudo()

    # -- helpers ----------------------------------------------------------------

    def counts(self):
        return {
            "created": self.stats["created"],
            "updated": self.stats["updated"],
            "deleted": self.stats["deleted"],
        }

    def summary(self):
        env = self.env
        parts = []
        for key, label in (
            ("created", env._("created")),
            ("updated", env._("updated")),
            ("deleted", env._("deleted")),
            ("kept_remote", env._("kept as changed in Outlook")),
            ("unchanged", env._("already up to date")),
            ("retry", env._("to retry")),
            ("failed", env._("failed")),
            ("waiting", env._("waiting for the account")),
            ("unavailable", env._("waiting for Microsoft Graph")),
        ):
            if self.stats[key]:
                parts.append(f"{self.stats[key]} {label}")
        return ", ".join(parts) or env._("Nothing to send")

    def unavailable_message(self):
        return self.env._(
            "Failed — Microsoft Graph unavailable: %(error)s %(summary)s. The rows not sent "
            "wait %(minutes)s minutes without using up their tries; the next run resumes.",
            error=self.unavailable,
            summary=self.summary(),
            minutes=int(GRAPH_BACKOFF.total_seconds() // 60),
        )

    def record(self, item):
        return self.env[item.res_model].browse(item.res_id).exists()

    def link_of(self, item, record):
        """The link of the row's record in the row's calendar (empty if never pushed)."""
        if item.link_id:
            return item.link_id
        links = self.Link._m365_links_of(record, self.account or None)
        if item.mailbox != "me":
            links = links.filtered(lambda link: link.mailbox == item.mailbox)
        return links[:1]

    def mailbox(self, item):
        return item.mailbox or "me"

    def note(self, item):
        for line in (item.notes or "").splitlines():
            self.run._m365_count(skipped_reason=f"{item.res_name}: {line}")

    # -- the drain ----------------------------------------------------------------

    def send(self):
        """Plan every row (Odoo data only), push, then link the series pushed or needed
        by an occurrence (their instances read in ``$batch``), then send the
        occurrences that waited for those links and the occurrences to cancel."""
        self.target = self.mailbox(self.items[:1]) if self.items else "me"
        creates, later, occurrences = [], [], []
        for item in self.items:
            record = self.record(item)
            if item.operation == "delete":
                later.append(item)
                continue
            if not record:
                item.unlink()  # deleted meanwhile: its own delete row (if any) follows
                continue
            link = self.link_of(item, record)
            action, master = record._m365_plan(item, link)
            if action == "series":
                occurrences.append((item, master.graph_event_id))
                self.series.setdefault(master.id, False)
            elif action == "wait":
                self.wait_for_series(item)
            elif link:
                item.link_id = link
                later.append(item)
            else:
                creates.append(item)
        self.push(creates)
        self.push([item for item in later if item.exists()])
        self.link_series()
        ready = []
        for item, master_id in occurrences:
            if not item.exists():
                continue  # coalesced with a row the linking queued: sent next time
            record = self.record(item)
            if not record:
                continue
            link = self.Link._m365_links_of(record, self.account or None).filtered(
                lambda link, master_id=master_id: link.series_master_id == master_id
            )[:1]
            if link:
                item.link_id = link
                ready.append(item)
            else:
                self.wait_for_series(item)
        self.push(ready)
        self.link_series()

    def wait_for_series(self, item):
        item._m365_failed(
            self.env._("The series of this occurrence is not in Outlook yet."), "retry"
        )
        self.stats["retry"] += 1

    def link_series(self):
        """Read the occurrences of the series to link (``$batch``, one round trip per 20
        series of the same span), hand them to their records, send the cancels."""
        series, self.series = self.series, {}
        if not series:
            return
        masters = self.Link.browse(list(series)).exists()
        windows = defaultdict(list)  # (start, end) → [(master, recurrence)]
        for master in masters:
            record = self.env[master.res_model].browse(master.res_id).exists()
            window = record._m365_series_window() if record else None
            if window:
                windows[window].append((master, record))
        mailbox = self.target
        cancels = []
        for (low, high), pairs in windows.items():
            ids = [master.graph_event_id for master, _record in pairs]
            try:
                answers = read_instances(self.client, mailbox, ids, low, high)
            except GraphError as exc:
                answers = dict.fromkeys(ids, exc)
            for master, record in pairs:
                instances = answers.get(master.graph_event_id)
                if instances is None or isinstance(instances, Exception):
                    self.run._m365_count(
                        skipped_reason=self.env._(
                            "%(series)s: its occurrences could not be read (%(error)s)",
                            series=record.display_name,
                            error=instances
                            if instances is not None
                            else self.env._("the series is not in Outlook"),
                        )
                    )
                    continue
                gone = record._m365_link_occurrences(
                    master, instances, self.account, created=series[master.id]
                )
                cancels += [(record, event_id) for event_id in gone]
        if not cancels:
            return
        ops = [
            PushOperation(f"cancel-{event_id}", "delete", event_id=event_id)
            for _record, event_id in cancels
        ]
        names = {f"cancel-{event_id}": record.display_name for record, event_id in cancels}
        for result in push_operations(self.client, mailbox, ops):
            if result.error is not None:
                self.run._m365_count(
                    skipped_reason=self.env._(
                        "%(series)s: an occurrence could not be cancelled (%(error)s)",
                        series=names.get(result.key, ""),
                        error=result.error,
                    )
                )

    def operation(self, item):
        """The PushOperation of a row, or None when nothing needs sending."""
        if item.operation == "delete":
            event_id = item.graph_event_id or item.link_id.graph_event_id
            if not event_id:
                return None
            return PushOperation(str(item.id), "delete", event_id=event_id)
        link = item.link_id
        if link:
            if link.pushed_hash and link.pushed_hash == item.payload_hash:
                return None
            return PushOperation(
                str(item.id),
                "update",
                item.payload,
                event_id=link.graph_event_id,
                change_key=link.change_key,
            )
        return PushOperation(
            str(item.id),
            "create",
            item.payload,
            transaction_id=item.transaction_id,
            calendar_id=item.calendar_id or None,
        )

    def push(self, items):
        if not items:
            return
        # A deleted series takes its occurrences with it: their own rows are done.
        masters = {
            item.graph_event_id or item.link_id.graph_event_id
            for item in items
            if item.operation == "delete" and not item.series_master_id
        }
        ops, by_key = [], {}
        for item in items:
            if item.operation == "delete" and item.series_master_id in masters:
                self.forget(item)
                continue
            op = self.operation(item)
            if op is None:
                # An update whose body Outlook already has, or a delete of an event
                # that never reached Outlook: nothing to send.
                if item.operation != "delete":
                    self.stats["unchanged"] += 1
                self.forget(item)
                continue
            ops.append(op)
            by_key[op.key] = (item, op)
        if not ops:
            return
        self.send_operations(self.mailbox(items[0]), ops, by_key)
        self.flush()

    def send_operations(self, mailbox, ops, by_key):
        """Send ``ops`` in ``$batch`` and record each outcome; the updates that won a
        412 conflict are sent again the same way, once, with Outlook's change key."""
        sent_at = fields.Datetime.now()
        outer, self.resend = self.resend, []  # a nested push (404 → create) has its own
        for result in push_operations(self.client, mailbox, ops):
            item, op = by_key[result.key]
            self.outcome(item, op, result, sent_at)
        resend, self.resend = self.resend, None
        try:
            self.resend_winners(mailbox, resend)
        finally:
            self.resend = outer

    def resend_winners(self, mailbox, resend):
        if not resend:
            return
        again = {}
        for item, change_key in resend:
            op = PushOperation(
                str(item.id),
                "update",
                item.payload,
                event_id=item.link_id.graph_event_id,
                change_key=change_key,
            )
            again[op.key] = (item, op)
        sent_at = fields.Datetime.now()
        for result in push_operations(self.client, mailbox, [op for _i, op in again.values()]):
            item, op = again[result.key]
            self.outcome(item, op, result, sent_at)

    def flush(self):
        """Write the links of the events just pushed and drop their rows, in bulk."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        created = self.Link.create([values for _item, values, _new, _event in pending if values])
        created_iter = iter(created)
        done = self.env["m365.outbox"].sudo()
        hooks = []
        for item, values, new, event in pending:
            link = next(created_iter) if values else item.link_id
            done |= item
            hooks.append((item.res_model, item.res_id, link, event, new))
        done.unlink()
        for res_model, res_id, link, event, new in hooks:
            record = self.env[res_model].browse(res_id).exists()
            if not record:
                continue
            record._m365_after_push(link, event, new)
            if link.event_type == "seriesMaster" and record._m365_series_window():
                # Its occurrences are linked after the pushes (``link_series``).
                self.series[link.id] = self.series.get(link.id, False) or new

    def outcome(self, item, op, result, sent_at):
        event, error = result.event, result.error
        if error is None and op.operation == "update" and meeting_kept(op.payload or {}, event.raw):
            self.replace(item)
            return
        if error is None:
            if op.operation == "delete":
                self.deleted(item)
            else:
                self.pushed(item, event, sent_at, created=op.operation == "create")
            return
        if isinstance(error, PreconditionFailed) and op.operation == "update":
            if self.resend is None:
                # Changed in Outlook again between the re-read and the resend: later.
                self.failed(item, error)
                return
            self.conflict(item)
            return
        if isinstance(error, NotFound) and op.operation == "update":
            # Deleted in Outlook, changed in Odoo: the change in Odoo is the newer news,
            # the event is created again (with a new transactionId).
            link = item.link_id
            item.write({"link_id": False, "transaction_id": str(uuid.uuid4())})
            link.unlink()
            self.push([item])
            return
        self.failed(item, error)

    def replace(self, item):
        """Graph kept the Teams meeting a PATCH switched off (microsoft-graph-docs#17308,
        microsoft-graph-docs-contrib#2054): delete the event and create it again without
        the meeting (a new transactionId, so Graph does not return the deleted one)."""
        link = item.link_id
        delete = PushOperation(str(item.id), "delete", event_id=link.graph_event_id)
        (result,) = push_operations(self.client, self.mailbox(item), [delete])
        if result.error is not None:
            self.failed(item, result.error)
            return
        item.write({"link_id": False, "transaction_id": str(uuid.uuid4())})
        link.unlink()
        self.push([item])

    def failed(self, item, error):
        kind = classify(error)
        if kind == WAIT_GRAPH:
            self.unavailable = self.unavailable or error
            self.stats["unavailable"] += 1
            item._m365_failed(error, WAIT_GRAPH, retry_after=getattr(error, "retry_after", None))
            return
        if kind == WAIT_ACCOUNT and self.account:
            self.stats["waiting"] += 1
            item._m365_failed(error, WAIT_ACCOUNT)
            self.account_error = self.account_error or error
            return
        if kind == WAIT_ACCOUNT:
            kind = RETRY  # the application's own sign-in (secret, consent): back off
        self.stats["failed" if kind == FAIL else "retry"] += 1
        item._m365_failed(error, kind, retry_after=getattr(error, "retry_after", None))

    def forget(self, item):
        item.unlink()

    # -- successes --------------------------------------------------------------

    def link_values(self, item, event, sent_at):
        try:
            fingerprint = map_event(event).fingerprint
        except BadResponse:
            fingerprint = False
        return {
            "graph_event_id": event.id,
            "ical_uid": event.ical_uid,
            "change_key": event.change_key,
            "event_type": event.event_type or "singleInstance",
            "series_master_id": event.series_master_id,
            "remote_modified": naive_utc(event.last_modified),
            "pulled_hash": fingerprint,
            "pushed_hash": item.payload_hash,
            "synced_at": sent_at,
        }

    def pushed(self, item, event, sent_at, created):
        """Remember the event (link) and the row as done; :meth:`flush` writes them."""
        values = self.link_values(item, event, sent_at)
        link = item.link_id
        if link:
            link.write(values)
            values = None
        else:
            values.update(
                account_id=self.account.id,
                user_id=item.user_id.id,
                company_id=item.company_id.id,
                mailbox=self.account.graph_user_id if item.mailbox == "me" else item.mailbox,
                res_model=item.res_model,
                res_id=item.res_id,
                origin="odoo",
            )
            record = self.record(item)
            if record:
                values.update(record._m365_link_values(item, event))
        if self.account:
            self.account._m365_note_clock(clock_offset(event.last_modified, aware_utc(sent_at)))
        self.stats["created" if created else "updated"] += 1
        self.note(item)
        self.pending.append((item, values, created, event))

    def deleted(self, item):
        event_id = item.graph_event_id or item.link_id.graph_event_id
        domain = [("graph_event_id", "=", event_id)]
        if self.account:
            domain.append(("account_id", "=", self.account.id))
        links = self.Link.search(domain)
        if links and not item.series_master_id:
            # A series: its occurrence links go with it.
            links |= self.Link.search([("series_master_id", "=", event_id), *domain[1:]])
        links.unlink()
        self.stats["deleted"] += 1
        item.unlink()

    # -- 412 ------------------------------------------------------------------------

    def conflict(self, item):
        """Outlook changed the event since we last saw it: re-read and decide (the rule)."""
        link = item.link_id
        mailbox = self.mailbox(item)
        try:
            remote = get_event(self.client, mailbox, link.graph_event_id)
            try:
                fingerprint = map_event(remote).fingerprint
            except BadResponse:
                fingerprint = None
            offset = self.account._m365_clock_offset() if self.account else None
            decision = resolve_conflict(
                odoo_changed=True,
                remote_fingerprint=fingerprint,
                synced_fingerprint=link.pulled_hash or None,
                remote_modified=remote.last_modified,
                odoo_changed_at=aware_utc(item.changed_at),
                offset=offset,
            )
            if decision.winner == "odoo":
                # Sent again with the other updates (``send_operations``), not alone.
                self.resend.append((item, remote.change_key))
                return
        except NotFound:
            item.write({"link_id": False, "transaction_id": str(uuid.uuid4())})
            link.unlink()
            self.push([item])
            return
        except GraphError as exc:
            self.failed(item, exc)
            return
        # Outlook's version is the more recent one: Odoo takes it, nothing is sent.
        record = self.record(item)
        if record:
            record._m365_apply_remote(link, remote)
        link.write(
            {
                "change_key": remote.change_key,
                "remote_modified": naive_utc(remote.last_modified),
                "pulled_hash": fingerprint or False,
            }
        )
        self.stats["kept_remote"] += 1
        self.run._m365_count(
            skipped_reason=self.env._(
                "%(record)s: %(reason)s; Odoo was updated from Outlook",
                record=item.res_name,
                reason=decision.reason,
            )
        )
        item.unlink()
