"""The outbox drain through the queue: no self-re-trigger while its units wait.

From the cron, a drain that took a full ``limit`` of rows triggers the cron again
at once, to drain the rest in the same minute. Through the queue the cron only
queues the units, so the rows are still due when it ends: re-triggering would
call the cron again and again, finding every unit already queued, until the jobs
have drained. While outbox units wait in the queue the cron therefore does not
re-trigger itself; each job drains its batch, and the cron's next call (every
minute, or the trigger of the next change a user saves) queues what is left.
"""

from odoo import api, models

from .m365_job import CHANNEL_ROOT, QUEUED_STATES


class M365JobOutbox(models.AbstractModel):
    _inherit = "m365.job.outbox"

    @api.model
    def _m365_cron(self, *args, **kwargs):
        if self.env.context.get("m365_queue_inline"):
            return super()._m365_cron(*args, **kwargs)
        return super(M365JobOutbox, self.with_context(m365_queue_outbox_cron=True))._m365_cron(
            *args, **kwargs
        )


class M365Outbox(models.Model):
    _inherit = "m365.outbox"

    def _m365_trigger(self):
        if self.env.context.get("m365_queue_outbox_cron") and self._m365_queue_waiting():
            return None
        return super()._m365_trigger()

    @api.model
    def _m365_queue_waiting(self):
        return bool(
            self.env["queue.job"]
            .sudo()
            .search_count(
                [("channel", "=", f"{CHANNEL_ROOT}.outbox"), ("state", "in", QUEUED_STATES)],
                limit=1,
            )
        )
