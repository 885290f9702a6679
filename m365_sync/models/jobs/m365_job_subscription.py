"""Change-notification subscriptions (``m365.job``): create, renew, reauthorize, delete.

Why this file exists: a Graph subscription lives at most 10,080 minutes for
Outlook events (real Graph: 10,070, see ``m365_graph.sync.notifications``) and
must be renewed before it lapses, created again when Graph dropped it, and
deleted when the feature is switched off or the account is removed. This job
keeps the ``m365.subscription`` rows in step with what should be watched, and
hands the notifications the webhook queued to the units that read the mailboxes.

* **Plan** (:meth:`_m365_plan`, no Graph request): a row per covered busy-time
  user (application permission, ``users/{id}/events``), per mapped room (room
  calendars on: application permission, ``users/{room mailbox}/events``) and per
  Down/Both account (delegated, ``me/events``) of each tenant whose notifications
  can be active (public https URL, feature on); rows no longer wanted (a room
  unmapped or archived, a feature switched off, an account removed) are marked
  *to delete*.
* **Units**: ``{"tenant": id}`` does the application rows of a tenant (its own
  lock), ``{"account": id}`` the delegated row of an account under the account's
  lock (the pull's: the same refresh token is never used by two workers). A unit
  is due only when one of its rows has work: to create, to reauthorize, to
  delete, failed and due for a retry, or due for renewal. A quiet hour costs no
  Graph request besides renewals.
* **Renewal spread**: each row renews at its own moment between a quarter and a
  half of its lifetime before expiry (``renewal_time``, fixed by the subscription
  id), and a run renews at most :data:`RENEW_PER_RUN` (those closest to expiry
  first, any expiring within hours always): 10,000 subscriptions created in one
  burst renew spread over about 42 hours, never in one burst.
* **Recreation**: a renewal or reauthorization answered 404 (Graph dropped the
  subscription) creates it again at once; a ``subscriptionRemoved`` lifecycle
  notification does the same (via the row's state).
* **Failures** are per row (error kept, retried with back-off from 5 minutes to
  a day); only an outage (the unit's circuit breaker) or a sign-in to renew fails
  the run.
* **Dispatch** (:meth:`_m365_dispatch_notifications`, the notification cron, woken
  by the webhook's ``_trigger``): the pending personal rows ask their account's
  pull (``sync_requested``, then ``m365.job.personal``'s unit for that one
  account); the pending busy rows become ``m365.job.busy.notified`` units (just
  the notified users of one shard); the pending room rows ask the room job's
  room unit (``m365.room.sync_requested``, then ``{"room": id}`` of
  ``m365.job.rooms``: that one room's calendar and answers). Through
  ``_m365_dispatch`` all run inline or, with ``m365_sync_queue``, as queue jobs.

Permissions: Microsoft's "Create subscription" table lists, for ``event``
resources, ``Calendars.Read`` (delegated and application) as the least
privileged permission
(https://learn.microsoft.com/graph/api/subscription-post-subscriptions#permissions);
``m365_graph.resources.subscriptions`` names it on a 403, and the tenant's
``change_notifications`` feature lists it in Settings and Test connection.
"""

import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from m365_graph import GraphError, GraphUnavailable, NotFound, PermissionMissing
from m365_graph.resources.directory import match_mailboxes, read_directory
from m365_graph.resources.subscriptions import (
    create_subscription,
    delete_subscription,
    reauthorize_subscription,
    renew_subscription,
)
from m365_graph.sync.notifications import (
    SAFE_EVENT_MINUTES,
    events_resource,
    new_client_state,
    pick_renewals,
    renewal_time,
    subscription_expiry,
)

from ..m365_account import LOCK_CLASS, TokenKeeper

_logger = logging.getLogger(__name__)

#: First key of a tenant unit's advisory lock (the second is the tenant id).
LOCK_NAMESPACE = 365_020
#: At most this many renewals per run (the rest wait for the next run).
RENEW_PER_RUN = 500
#: Rows per committed chunk.
CHUNK = 20
#: Back-off of a failed row: 5 minutes doubling, at most a day.
RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(days=1)
BUDGET = {"max_wait": 60.0, "max_failures": 8}
WORK_STATES = ("new", "reauthorize", "removing", "failed", "unmatched")
#: A user without a matching mailbox is looked up again after this long.
UNMATCHED_RETRY = timedelta(days=1)


class NoMailbox(ValueError):
    """The user's e-mail address is no mailbox of the tenant (nothing to watch)."""


class M365JobSubscription(models.AbstractModel):
    _name = "m365.job.subscription"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: change-notification subscriptions"

    _m365_job_kind = "subscriptions"
    _m365_lock_class = LOCK_NAMESPACE
    _m365_budget = BUDGET
    #: Creations are not repeatable: each chunk is committed as soon as it is done.
    _m365_unit_savepoint = False

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _m365_cron(self):
        """Scheduled job: plan the rows, then run every unit with work."""
        self._m365_plan()
        return super()._m365_cron()

    @api.model
    def _m365_trigger(self):
        self.env.ref("m365_sync.ir_cron_m365_subscriptions").sudo()._trigger()

    @api.model
    def _m365_plan(self):
        """Create the rows that should exist, mark the others to delete (no Graph)."""
        Sub = self.env["m365.subscription"].sudo()
        Tenant = self.env["m365.tenant"].sudo()
        Account = self.env["m365.account"].sudo()
        Busy = self.env["m365.job.busy"]
        for tenant in Tenant.with_context(active_test=False).search([("id", "!=", False)]):
            base = tenant.active and tenant.is_configured and tenant._m365_notification_base()[0]
            url = tenant._m365_notification_urls()[0] if base else None
            rows = Sub.search([("tenant_id", "=", tenant.id)])
            wanted_users = set()
            if base and tenant.busy_sync:
                wanted_users = set(
                    self.env["res.users"].sudo().search(Busy._m365_candidate_domain(tenant)).ids
                )
            wanted_accounts = set()
            if base and tenant.personal_sync:
                wanted_accounts = set(
                    Account.search(
                        [("tenant_id", "=", tenant.id), *Account._m365_pull_domain()]
                    ).ids
                )
            wanted_rooms = {}
            if base and tenant.room_sync:
                wanted_rooms = {
                    room.id: room.email
                    for room in self.env["m365.room"]
                    .sudo()
                    .search([("tenant_id", "=", tenant.id), ("mapped", "=", True)])
                    if room.email
                }
            have_users, have_accounts, have_rooms = set(), set(), set()
            drop = Sub
            for row in rows.filtered(lambda r: r.state != "removing"):
                moved = row.graph_id and url and row.notification_url != url
                if row.kind == "busy" and row.user_id.id in wanted_users and not moved:
                    have_users.add(row.user_id.id)
                elif (
                    row.kind == "room"
                    # A room re-keyed to another mailbox is watched anew.
                    and wanted_rooms.get(row.room_id.id) == row.mailbox
                    and not moved
                ):
                    have_rooms.add(row.room_id.id)
                elif row.kind == "personal" and row.account_id.id in wanted_accounts and not moved:
                    have_accounts.add(row.account_id.id)
                else:
                    drop |= row
            # Never created at Graph: nothing to delete there.
            drop.filtered(lambda r: not r.graph_id).unlink()
            drop.exists().write({"state": "removing", "pending": False, "retry_at": False})
            creates = [
                {"tenant_id": tenant.id, "kind": "busy", "user_id": uid}
                for uid in sorted(wanted_users - have_users)
            ]
            creates += [
                {
                    "tenant_id": tenant.id,
                    "kind": "room",
                    "room_id": room_id,
                    "mailbox": wanted_rooms[room_id],
                    "resource": events_resource(wanted_rooms[room_id]),
                }
                for room_id in sorted(set(wanted_rooms) - have_rooms)
            ]
            accounts = Account.browse(sorted(wanted_accounts - have_accounts))
            creates += [
                {
                    "tenant_id": tenant.id,
                    "kind": "personal",
                    "account_id": account.id,
                    "user_id": account.user_id.id,
                    "mailbox": "me",
                    "resource": events_resource("me"),
                }
                for account in accounts
            ]
            if creates:
                Sub.create(creates)
        return True

    # ------------------------------------------------------------------
    # The unit of work
    # ------------------------------------------------------------------
    @api.model
    def _m365_work_domain(self, now=None):
        now = now or fields.Datetime.now()
        return [
            "|",
            "&",
            ("state", "in", WORK_STATES),
            "|",
            ("retry_at", "=", False),
            ("retry_at", "<=", now),
            "&",
            ("state", "=", "active"),
            ("renew_at", "<=", now),
        ]

    @api.model
    def _m365_units(self, due_only=True):
        Sub = self.env["m365.subscription"].sudo()
        rows = Sub.search(self._m365_work_domain())
        units, seen = [], set()
        for row in rows:
            delegated = row.kind == "personal" and row.account_id
            unit = {"account": row.account_id.id} if delegated else {"tenant": row.tenant_id.id}
            key = self._m365_unit_identity(unit)
            if key not in seen:
                seen.add(key)
                units.append(unit)
        return units

    @api.model
    def _m365_unit_identity(self, unit):
        if "account" in unit:
            return f"subscriptions:account:{unit['account']}"
        return f"subscriptions:tenant:{unit['tenant']}"

    @api.model
    def _m365_lock_key(self, unit):
        if "account" in unit:
            return LOCK_CLASS, unit["account"]
        return LOCK_NAMESPACE, unit["tenant"]

    @api.model
    def _m365_unit_scope(self, unit):
        if "account" in unit:
            account = self.env["m365.account"].sudo().browse(unit["account"])
            return {"tenant": account.tenant_id, "user": account.user_id}
        return {"tenant": self.env["m365.tenant"].sudo().browse(unit["tenant"])}

    @api.model
    def _m365_unit_rows(self, unit):
        domain = self._m365_work_domain()
        if "account" in unit:
            domain = [("account_id", "=", unit["account"]), ("kind", "=", "personal"), *domain]
        else:
            domain = [
                ("tenant_id", "=", unit["tenant"]),
                "|",
                ("kind", "=", "busy"),
                ("account_id", "=", False),
                *domain,
            ]
        return self.env["m365.subscription"].sudo().search(domain, order="id")

    @api.model
    def _m365_unit_active(self, unit):
        """Cleanup must run also when the feature was switched off: the unit is active
        while its tenant (or account) exists."""
        scope = self._m365_unit_scope(unit)
        if "account" in unit:
            return bool(self.env["m365.account"].sudo().browse(unit["account"]).exists())
        return bool(scope["tenant"].exists())

    @api.model
    def _m365_unit_due(self, unit):
        return bool(self._m365_unit_rows(unit))

    @api.model
    def _m365_do_unit(self, unit, run):
        if "account" in unit:
            account = self.env["m365.account"].sudo().browse(unit["account"])
            keeper = TokenKeeper(account)
            try:
                with account._m365_client(on_cache_change=keeper.changed) as client:
                    client.budget = self._m365_new_budget()
                    self._m365_keep_rows(unit, run, client, account.tenant_id)
                    run._m365_add_stats(client.counters.snapshot())
            finally:
                keeper.persist()
            return
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"])
        client = tenant._m365_graph_client()
        client.budget = self._m365_new_budget()
        try:
            self._m365_keep_rows(unit, run, client, tenant)
            run._m365_add_stats(client.counters.snapshot())
        finally:
            client.close()

    @api.model
    def _m365_keep_rows(self, unit, run, client, tenant):
        rows = self._m365_unit_rows(unit)
        now = fields.Datetime.now()
        url, lifecycle = tenant._m365_notification_urls()
        renewals = set(
            pick_renewals(
                [(r.id, r.renew_at, r.expiration) for r in rows if r.state == "active"],
                now,
                RENEW_PER_RUN,
            )
        )
        todo = rows.filtered(lambda r: r.state != "active" or r.id in renewals)
        mailbox_of = self._m365_mailboxes(client, todo.filtered(lambda r: not r.mailbox))
        counts = {"created": 0, "updated": 0, "deleted": 0, "skipped": 0}
        changed = False
        for index, row in enumerate(todo):
            if not row.exists():
                continue
            try:
                with self.env.cr.savepoint():
                    done = self._m365_keep_row(row, client, url, lifecycle, mailbox_of)
            except GraphUnavailable:
                raise
            except (GraphError, ValueError) as exc:
                self._m365_row_failed(row, exc)
                if not isinstance(exc, NoMailbox):
                    counts["skipped"] += 1
                    run._m365_count(skipped_reason=f"{row.display_name}: {exc}"[:500], skipped=1)
            else:
                counts[done] += 1
                changed = changed or done in ("created", "deleted")
            if (index + 1) % CHUNK == 0:
                self._m365_count_run(run, counts)
                self._m365_commit_progress(CHUNK, remaining=len(todo) - index - 1)
        self._m365_count_run(run, counts)
        if changed:
            self.env["m365.subscription"]._m365_forget_digests()
        run._m365_done(
            self.env._(
                "Subscriptions: %(created)s created, %(updated)s renewed or reauthorized, "
                "%(deleted)s deleted, %(skipped)s failed.",
                created=run.created,
                updated=run.updated,
                deleted=run.deleted,
                skipped=run.skipped,
            )
        )

    @api.model
    def _m365_count_run(self, run, counts):
        run._m365_count(
            created=counts["created"], updated=counts["updated"], deleted=counts["deleted"]
        )
        for key in ("created", "updated", "deleted"):
            counts[key] = 0

    @api.model
    def _m365_mailboxes(self, client, rows):
        """{row id: Graph user id} of the busy rows that have no mailbox yet (the
        directory, read once; without its permission the UPN addresses the mailbox)."""
        rows = rows.filtered(
            lambda r: r.kind == "busy" and r.state in ("new", "unmatched", "failed") and r.user_id
        )
        if not rows:
            return {}
        try:
            directory = read_directory(client)
        except PermissionMissing:
            directory = None
        users = rows.user_id
        matched = match_mailboxes({u.id: [u.email, u.login] for u in users}, directory)
        return {row.id: matched.get(row.user_id.id) for row in rows}

    @api.model
    def _m365_keep_row(self, row, client, url, lifecycle, mailbox_of):
        """Do what ``row`` needs; returns the counter it adds to."""
        if row.state == "removing":
            if row.graph_id:
                delete_subscription(client, row.graph_id)
            row.unlink()
            return "deleted"
        if row.state == "reauthorize" and row.graph_id:
            try:
                reauthorize_subscription(client, row.graph_id)
            except NotFound:
                return self._m365_create(row, client, url, lifecycle, mailbox_of)
            row.write({"state": "active", "last_error": False, "error_count": 0})
            return "updated"
        if row.state == "active" and row.graph_id:
            expires = subscription_expiry(fields.Datetime.now().replace(tzinfo=None))
            try:
                renewed = renew_subscription(client, row.graph_id, expires)
            except NotFound:
                # Graph dropped it (expired, or removed): create it again.
                return self._m365_create(row, client, url, lifecycle, mailbox_of)
            when = fields.Datetime.to_datetime(renewed.expires.replace(tzinfo=None))
            row.write(
                {
                    "expiration": when,
                    "renew_at": renewal_time(row.graph_id, when),
                    "last_renewed": fields.Datetime.now(),
                    "last_error": False,
                    "error_count": 0,
                }
            )
            return "updated"
        return self._m365_create(row, client, url, lifecycle, mailbox_of)

    @api.model
    def _m365_create(self, row, client, url, lifecycle, mailbox_of):
        if not url:
            raise ValueError(
                self.env._("Odoo has no public https address Microsoft 365 could notify.")
            )
        mailbox = row.mailbox or mailbox_of.get(row.id)
        if not mailbox:
            raise NoMailbox(
                self.env._(
                    "%(user)s has no Microsoft 365 mailbox matching their e-mail address.",
                    user=row.user_id.display_name,
                )
            )
        old = row.graph_id
        secret = new_client_state()
        expires = subscription_expiry(fields.Datetime.now(), SAFE_EVENT_MINUTES)
        graph_sub = create_subscription(
            client, events_resource(mailbox), url, secret, expires, lifecycle_url=lifecycle
        )
        if old:
            # A recreated subscription: the old one may linger at Graph until it expires.
            try:
                delete_subscription(client, old)
            except GraphError as exc:
                _logger.info("Microsoft 365: old subscription %s not deleted: %s", old, exc)
        row.write({"mailbox": mailbox, "resource": events_resource(mailbox)})
        row._m365_store_created(graph_sub, secret, url, lifecycle)
        return "created"

    @api.model
    def _m365_row_failed(self, row, exc):
        if isinstance(exc, NoMailbox):
            row.write(
                {
                    "state": "unmatched",
                    "last_error": str(exc),
                    "retry_at": fields.Datetime.now() + UNMATCHED_RETRY,
                }
            )
            return
        count = row.error_count + 1
        delay = min(RETRY_FIRST * 2 ** (count - 1), RETRY_MAX)
        row.write(
            {
                "state": "removing" if row.state == "removing" else "failed",
                "last_error": str(exc)[:2000],
                "error_count": count,
                "retry_at": fields.Datetime.now() + delay,
            }
        )

    # ------------------------------------------------------------------
    # Notifications → units
    # ------------------------------------------------------------------
    @api.model
    def _m365_dispatch_notifications(self):
        """The notification cron: run the units of the mailboxes Graph notified."""
        Sub = self.env["m365.subscription"].sudo()
        personal = Sub.search([("pending", "=", True), ("kind", "=", "personal")])
        Account = self.env["m365.account"].sudo()
        accounts = Account.search(
            [("id", "in", personal.account_id.ids), *Account._m365_pull_domain()]
        )
        if personal:
            accounts.write({"sync_requested": True})
            personal.write({"pending": False})
            self.env["ir.cron"]._commit_progress(0)
        if accounts:
            self.env["m365.job.personal"]._m365_dispatch(accounts.ids)
        self._m365_dispatch_rooms(Sub.search([("pending", "=", True), ("kind", "=", "room")]))
        Notified = self.env["m365.job.busy.notified"]
        units = Notified._m365_units()
        if units:
            Notified._m365_dispatch(units)
        return True

    @api.model
    def _m365_dispatch_rooms(self, rows):
        """Notified room calendars → the room job's unit for each room.

        The room is marked ``sync_requested`` (that makes its unit due) and the rows'
        ``pending`` cleared in one committed step, so the webhook's ``UPDATE`` never
        waits on a running read. A room being read right now (its row locked by the
        room job) is skipped, not waited for: its row stays pending and the next pass
        (the cron's next minute) asks again, so the change is read after that read.
        A room whose unit cannot run now (the tenant's room lock is held) keeps its
        request: the room cron runs it.
        """
        if not rows:
            return
        rooms = rows.room_id.filtered(
            lambda r: r.active and r.mapped and r.tenant_id.active and r.tenant_id.room_sync
        )
        marked = []
        if rooms:
            self.env.cr.execute(
                SQL(
                    "UPDATE m365_room SET sync_requested = TRUE WHERE id IN (SELECT id FROM "
                    "m365_room WHERE id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED) "
                    "RETURNING id",
                    rooms.ids,
                )
            )
            marked = sorted(room_id for (room_id,) in self.env.cr.fetchall())
            rooms.invalidate_recordset(["sync_requested"])
        # Rows of rooms no longer read are done with; those of locked rooms wait.
        rows.filtered(lambda r: r.room_id.id in marked or r.room_id not in rooms).write(
            {"pending": False}
        )
        self.env["ir.cron"]._commit_progress(0)
        if marked:
            self.env["m365.job.rooms"]._m365_dispatch([{"room": room_id} for room_id in marked])
