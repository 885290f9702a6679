"""Personal calendar pull (``m365.job``): one connected account's Outlook calendar → Odoo.

The unit of work is one account (its id), run by the cron every few minutes for
every Down/Both account whose tenant's interval (30 minutes at least) has passed,
or at once after it was connected, and by *Sync now* (``m365.account._m365_sync``).
The lock is the account's advisory lock (``LOCK_CLASS``, account id), the one the
outbox drain and the OAuth callback take too, so a pull never sees half a push
and two workers never refresh the same refresh token; next to it the lock of
the account's mailbox (the base's), shared with application outbox batches of
that mailbox. The pull itself is
``m365.event.link._m365_pull``; rotated tokens are kept by ``TokenKeeper`` also
when the unit's savepoint is rolled back. The failure streak is the base's (the
account's run rows, told once per streak to the owner, managers too per the
Setting); ``failure_count`` shows it. The job's own rule: a sign-in to renew
("reconnect needed") is told at once, once (``m365.account._m365_sync_failed``).
"""

from odoo import api, fields, models

from m365_graph import Counters

from ..m365_account import LOCK_CLASS, TokenKeeper

#: ``failure_count`` counts the failed runs in a row up to this many.
STREAK_DISPLAY_LIMIT = 99


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
    def _m365_unit_mailbox(self, unit):
        """The account's own mailbox: a pull and an outbox batch of the same mailbox
        (delegated or application) never run at the same time."""
        account = self.env["m365.account"].sudo().browse(unit).exists()
        if not account.graph_user_id:
            return None  # not signed in yet: only its own (account) lock matters
        return account.tenant_id.id, account.graph_user_id

    @api.model
    def _m365_unit_active(self, unit):
        Account = self.env["m365.account"].sudo()
        return bool(Account.search_count([("id", "=", unit), *Account._m365_pull_domain()]))

    @api.model
    def _m365_unit_due(self, unit):
        return self.env["m365.account"].sudo().browse(unit)._m365_is_due(fields.Datetime.now())

    @api.model
    def _m365_after_unit(self, unit, run):
        """The base's run-row streak (``personal:<account id>``); the account's
        ``failure_count`` shows it (written before the base may tell it, so that the
        owner's e-mail says how many runs failed)."""
        account = self.env["m365.account"].sudo().browse(unit).exists()
        if account and not run.interrupted:
            account.failure_count = self._m365_failure_streak(unit, STREAK_DISPLAY_LIMIT)
        result = super()._m365_after_unit(unit, run)
        if account and account.sync_notify and not run.interrupted:
            account._m365_tell_sync_result(run)
        return result

    @api.model
    def _m365_streak_domain(self, unit):
        """The base's runs, started since the account was last signed in: reconnecting
        ends the streak like a successful run."""
        domain = super()._m365_streak_domain(unit)
        since = self.env["m365.account"].sudo().browse(unit).exists().signed_in_ts
        return [*domain, ("start_ts", ">=", since)] if since else domain

    @api.model
    def _m365_streak_recipients(self, unit, run):
        """The account's owner, and the company's Microsoft 365 managers when the
        Setting *Notify managers too* is on (``m365.account.notify_partner_to``)."""
        account = self.env["m365.account"].sudo().browse(unit)
        return account.user_id.partner_id.browse(
            [int(pid) for pid in (account.notify_partner_to or "").split(",") if pid]
        )

    @api.model
    def _m365_notify_streak(self, unit, run, count):
        """The owner's e-mail (``mail_template_m365_sync_failed``), once per streak.
        An account waiting to be reconnected was told at once by its own rule
        (``m365.account._m365_sync_failed``): the streak tells nobody again."""
        account = self.env["m365.account"].sudo().browse(unit).exists()
        if not account or account.state == "reconnect":
            return
        template = self.env.ref(
            "m365_sync.mail_template_m365_sync_failed", raise_if_not_found=False
        )
        partners = self._m365_streak_recipients(unit, run)
        if not template or not partners:
            return
        template.sudo().send_mail(
            account.id,
            force_send=False,
            email_values={"recipient_ids": [(4, pid) for pid in partners.ids]},
        )

    @api.model
    def _m365_account_failed(self, account, exc):
        """An account error met outside the pull (the outbox's drain, sign-in expired):
        one failed run row on the account's own unit, so that it counts in the same
        streak as a failed pull, and the account's own rule (``_m365_sync_failed``)."""
        run = self._m365_start_run(account.id)
        run._m365_fail(account._m365_sync_failed(exc))
        self._m365_after_unit(account.id, run)
        return run

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
        account._m365_forget_sign_in_notice()
        account.write(
            {
                "state": "connected",
                "last_sync": fields.Datetime.now(),
                "last_sync_summary": summary,
                "last_error": False,
                "failure_notified": False,
            }
        )
