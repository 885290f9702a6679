"""Settings → Microsoft 365 → Job queue: the app-wide cap of units running at once."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .m365_job import CAPACITY_PARAM, CHANNEL_ROOT, DEFAULT_CAPACITY, QUEUED_STATES


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    m365_queue_capacity = fields.Integer(
        string="Units at once",
        config_parameter=CAPACITY_PARAM,
        default=DEFAULT_CAPACITY,
        help="At most this many Microsoft 365 units of work (a chunk of calendars, one "
        "account's sync, one outbox drain) run at the same time, over all Odoo servers of "
        "this database. 0: no cap beyond the job runner's channels.",
    )
    m365_queue_channels = fields.Char(
        string="Job runner channels",
        compute="_compute_m365_queue",
        help="The channels line for queue_job's runner (ODOO_QUEUE_JOB_CHANNELS, or "
        "channels in the [queue_job] section of the Odoo configuration) matching this cap.",
    )
    m365_queue_waiting = fields.Integer(string="Units queued", compute="_compute_m365_queue")
    m365_queue_failed = fields.Integer(string="Units failed", compute="_compute_m365_queue")

    @api.constrains("m365_queue_capacity")
    def _check_m365_queue_capacity(self):
        for settings in self:
            if settings.m365_queue_capacity < 0:
                raise ValidationError(
                    self.env._("The number of units at once cannot be negative (0: no cap).")
                )

    @api.depends("m365_queue_capacity")
    def _compute_m365_queue(self):
        Job = self.env["queue.job"].sudo()
        domain = [("channel", "=like", CHANNEL_ROOT + "%")]
        waiting = Job.search_count([*domain, ("state", "in", QUEUED_STATES)])
        failed = Job.search_count([*domain, ("state", "=", "failed")])
        for settings in self:
            settings.m365_queue_channels = self.env["m365.job"]._m365_queue_channels_config(
                settings.m365_queue_capacity
            )
            settings.m365_queue_waiting = waiting
            settings.m365_queue_failed = failed

    def action_m365_queue_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("queue_job.action_queue_job")
        action["domain"] = [("channel", "=like", CHANNEL_ROOT + "%")]
        action["context"] = {}
        return action
