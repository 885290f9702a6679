"""Outbox drain (``m365.job``): the queued changes of one writer and mailbox → Outlook.

The unit of work is one outbox batch: the due rows (at most ``UNIT``) of one
writer (a user's delegated account, or a tenant's application permission) and
one mailbox, as ``{"writer", "account", "tenant", "mailbox", "batch", "ids"}``.
The cron (every minute, and right after each commit that queued rows) runs the
due batches; a delegated batch takes its account's advisory lock (the lock of
the personal pull, so a pull never sees half a push), an application batch a
lock of its tenant and mailbox; every batch also takes the lock of the mailbox
it writes (the base's, shared with the pull of that mailbox's account). The run
row is committed before anything is sent, so a drain killed midway leaves a run
that the next one closes as interrupted. What is sent and how outcomes are
recorded is ``m365.outbox``'s ``_Drain``; an account that must be reconnected
counts one failure per run, not one per row.
"""

import logging
import zlib
from collections import defaultdict

from odoo import api, models
from odoo.tools import split_every

from m365_graph import Counters, RetryPolicy
from m365_graph.sync.outbox import RETRY

from ..m365_account import LOCK_CLASS, TokenKeeper
from ..m365_outbox import DRAIN_BUDGET, DRAIN_LIMIT, DRAIN_RETRY, UNIT, _Drain

_logger = logging.getLogger(__name__)

#: First key of the lock of an application writer's batches (the second: tenant and mailbox).
APP_LOCK_CLASS = 365_007
#: Where one cron call keeps what its units share (cursor cache).
_SHARED = "m365_outbox_drain"


class M365JobOutbox(models.AbstractModel):
    _name = "m365.job.outbox"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: outbox drain"

    _m365_job_kind = "outbox"
    _m365_budget = DRAIN_BUDGET
    #: The token cache must survive a rolled-back drain: the unit keeps its own savepoint.
    _m365_unit_savepoint = False

    @api.model
    def _m365_cron(self, limit=DRAIN_LIMIT):
        """Scheduled job (every minute, and right after commits that queued rows)."""
        # One application sign-in per tenant for the whole call, not one per mailbox;
        # tenants whose Graph opened a unit's circuit breaker are left for later.
        self.env.cr.cache[_SHARED] = {"providers": {}, "unavailable": set()}
        try:
            units = self._m365_units(limit=limit)
            self._m365_dispatch(units)
        finally:
            self.env.cr.cache.pop(_SHARED, None)
        if sum(len(unit["ids"]) for unit in units) == limit:
            self.env["m365.outbox"]._m365_trigger()
        return True

    @api.model
    def _m365_units(self, due_only=True, limit=DRAIN_LIMIT):
        Outbox = self.env["m365.outbox"].sudo()
        items = Outbox.search(Outbox._m365_due_domain(), order="id", limit=limit)
        groups = defaultdict(Outbox.browse)
        for item in items:
            groups[(item.writer, item.account_id.id, item.tenant_id.id, item.mailbox)] |= item
        units = []
        for (writer, account, tenant, mailbox), group in groups.items():
            for batch, ids in enumerate(split_every(UNIT, group.ids)):
                units.append(
                    {
                        "writer": writer,
                        "account": account,
                        "tenant": tenant,
                        "mailbox": mailbox,
                        "batch": batch,
                        "ids": list(ids),
                    }
                )
        return units

    @api.model
    def _m365_unit_identity(self, unit):
        owner = unit["account"] if unit["writer"] == "delegated" else unit["tenant"]
        return f"outbox:{unit['writer']}:{owner}:{unit['mailbox']}:{unit['batch']}"

    @api.model
    def _m365_lock_key(self, unit):
        if unit["writer"] == "delegated":
            return LOCK_CLASS, unit["account"]
        key = f"{unit['tenant']}:{unit['mailbox']}".encode()
        return APP_LOCK_CLASS, zlib.crc32(key) - 2**31

    @api.model
    def _m365_unit_mailbox(self, unit):
        """The mailbox written (the account's own for ``me``): one unit per mailbox at
        a time over every writer, job and worker (the base's mailbox lock)."""
        if unit["writer"] == "delegated":
            account = self.env["m365.account"].sudo().browse(unit["account"]).exists()
            mailbox = account.graph_user_id if unit["mailbox"] == "me" else unit["mailbox"]
            return (account.tenant_id.id, mailbox) if mailbox else None
        return unit["tenant"], unit["mailbox"]

    @api.model
    def _m365_items(self, unit):
        """The unit's rows still due (read after the lock)."""
        Outbox = self.env["m365.outbox"].sudo()
        return Outbox.search([("id", "in", unit["ids"]), *Outbox._m365_due_domain()], order="id")

    @api.model
    def _m365_unit_scope(self, unit):
        items = self.env["m365.outbox"].sudo().browse(unit["ids"])
        if unit["writer"] == "delegated":
            account = items.account_id[:1]
            return {"tenant": account.tenant_id, "user": account.user_id}
        return {"tenant": items.tenant_id[:1], "user": items.user_id[:1]}

    @api.model
    def _m365_unit_active(self, unit):
        shared = self.env.cr.cache.get(_SHARED)
        if shared and unit["tenant"] in shared["unavailable"]:
            return False  # Graph is down for this tenant: the rows wait for a later run
        if unit["writer"] != "delegated":
            return True
        account = self.env["m365.account"].sudo().browse(unit["account"])
        if unit["mailbox"] != "me":
            return account._m365_can_write_shared()
        return account._m365_can_upload()

    @api.model
    def _m365_unit_due(self, unit):
        return bool(self._m365_items(unit))

    @api.model
    def _m365_run_unit(self, unit, due_only=True, raise_errors=False):
        if not self._m365_unit_active(unit):
            return False  # nothing to close: the rows just wait
        return super()._m365_run_unit(unit, due_only=due_only, raise_errors=raise_errors)

    @api.model
    def _m365_after_unit(self, unit, run):
        """No run-row streak: a batch is not a stable unit (its rows change every run);
        rows that fail for good are told to their owner (``m365.outbox._m365_notify_failed``)
        and an account error (sign-in to renew) counts once per run on the account's
        pull unit (``m365.job.personal._m365_account_failed``)."""

    @api.model
    def _m365_do_unit(self, unit, run):
        items = self._m365_items(unit)
        shared = self.env.cr.cache.get(_SHARED) or {"providers": {}, "unavailable": set()}
        retry = RetryPolicy(**DRAIN_RETRY)
        if unit["writer"] == "delegated":
            account = items.account_id
            keeper = TokenKeeper(account)
            counters = Counters()

            def client_factory():
                client = account._m365_client(counters, keeper.changed, retry=retry)
                client.budget = self._m365_new_budget()
                return client

        else:
            account, keeper = items.account_id, None
            tenant = items.tenant_id
            client = tenant._m365_graph_client(token_provider=shared["providers"].get(tenant.id))
            client.retry = retry
            client.budget = self._m365_new_budget()
            shared["providers"].setdefault(tenant.id, client.token_provider)
            counters = client.counters

            def client_factory():
                return client

        drain = _Drain(items, account)
        drain.run = run
        try:
            with self.env.cr.savepoint():
                with client_factory() as graph:
                    drain.client = graph
                    drain.send()
                run._m365_count(**drain.counts())
                if drain.account_error is not None:
                    # One failure of the account per run, however many rows met it: a
                    # failed run row of the account's pull unit (same streak as a failed
                    # pull) and, for a sign-in to renew, the immediate e-mail.
                    self.env["m365.job.personal"]._m365_account_failed(account, drain.account_error)
        except Exception as exc:
            _logger.warning("Microsoft 365 outbox run %s failed: %s", run.id, exc)
            run._m365_add_stats(counters.snapshot())
            run._m365_fail(exc)
            if keeper:
                keeper.persist()
            # Something unexpected (not a Graph answer): the rows were rolled back with
            # the savepoint; spend one attempt so that a bug cannot loop every minute.
            self.env.invalidate_all()
            items.exists()._m365_failed(run.message, RETRY)
            return
        run._m365_add_stats(counters.snapshot())
        if drain.unavailable is not None:
            run._m365_fail(drain.unavailable_message())
            shared["unavailable"].add(unit["tenant"])
        else:
            run._m365_done(drain.summary())
        if keeper:
            keeper.persist()
