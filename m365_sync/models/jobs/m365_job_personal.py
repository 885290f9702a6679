"""Personal calendar pull (``m365.job``): one connected account's Outlook calendar → Odoo.

The unit of work is one account (its id), run by the cron every few minutes for
every Down/Both account whose tenant's interval (30 minutes at least) has passed,
or at once after it was connected, and by *Sync now* (``m365.account._m365_sync``).
The lock is the account's advisory lock (``LOCK_CLASS``, account id), the one the
outbox drain and the OAuth callback take too, so a pull never sees half a push
and two workers never refresh the same refresh token. The pull itself is
``m365.event.link._m365_pull``; rotated tokens are kept by ``TokenKeeper`` also
when the unit's savepoint is rolled back, and the account's failure streak
(``failure_count``, one e-mail per streak) is counted once per run.
"""

from odoo import api, fields, models

from m365_graph import Counters

from ..m365_account import LOCK_CLASS, TokenKeeper


class M365JobPersonal(models.AbstractModel):
    _name = "m365.job.personal"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: personal calendar pull"

    _m365_job_kind = "personal"
    _m365_lock_class = LOCK_CLASS
    #: The token cache must survive a rolled-back pull: the unit keeps its own savepoint.
    _m365_unit_savepoint = False

    @api.model
    def _m365_cron(self):
        """Scheduled job: tidy up, then pull every due Down/Both account."""
        self.env["m365.account"]._m365_purge_abandoned()
        self.env["m365.token.rotation"]._m365_gc()
        return super()._m365_cron()

    @api.model
    def _m365_units(self, due_only=True):
        Account = self.env["m365.account"].sudo()
        now = fields.Datetime.now()
        accounts = Account.search(Account._m365_pull_domain(), order="last_sync_start asc, id")
        if due_only:
            accounts = accounts.filtered(lambda account: account._m365_is_due(now))
        return accounts.ids + sorted(self._m365_running_units() - set(accounts.ids))

    @api.model
    def _m365_lock_key(self, unit):
        return LOCK_CLASS, unit

    @api.model
    def _m365_unit_scope(self, unit):
        account = self.env["m365.account"].sudo().browse(unit)
        return {"tenant": account.tenant_id, "user": account.user_id}

    @api.model
    def _m365_unit_active(self, unit):
        Account = self.env["m365.account"].sudo()
        return bool(Account.search_count([("id", "=", unit), *Account._m365_pull_domain()]))

    @api.model
    def _m365_unit_due(self, unit):
        return self.env["m365.account"].sudo().browse(unit)._m365_is_due(fields.Datetime.now())

    @api.model
    def _m365_after_unit(self, unit, run):
        """The account keeps its own streak (``failure_count``, ``failure_notified``),
        counted by ``m365.account._m365_sync_failed`` from this unit (once per run)
        and from the outbox's sign-in failures, and told to its owner once per
        streak (at once for a sign-in to renew): not the base's run-row streak."""

    @api.model
    def _m365_do_unit(self, unit, run):
        account = self.env["m365.account"].sudo().browse(unit)
        counters = Counters()
        keeper = TokenKeeper(account)
        account.write({"last_sync_start": fields.Datetime.now(), "sync_requested": False})
        try:
            with self.env.cr.savepoint():
                with account._m365_client(counters, keeper.changed) as client:
                    summary = self.env["m365.event.link"]._m365_pull(account, client, run)
                run._m365_add_stats(counters.snapshot())
                run._m365_done(summary)
        except Exception as exc:  # every failure is recorded on the run and the account
            run._m365_add_stats(counters.snapshot())
            run._m365_fail(exc)
            keeper.persist()
            account._m365_sync_failed(exc)
            return
        keeper.persist()
        account.write(
            {
                "state": "connected",
                "last_sync": fields.Datetime.now(),
                "last_sync_summary": summary,
                "last_error": False,
                "failure_count": 0,
                "failure_notified": False,
            }
        )
