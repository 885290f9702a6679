"""The work-location job (``m365.job``): rolls each tenant's stretches forward daily.

One unit per tenant (``{"tenant": id}``) whose *Work location to Outlook* is on: the
stretches of every employee of the company are recomputed for the window (today
plus the tenant's days ahead), so that tomorrow's new day reaches Outlook and a
weekly default keeps coming; changes made in Odoo are sent at once by the models
themselves. No Graph call here: the outbox sends what changed.
"""

from datetime import timedelta

from odoo import api, fields, models

LOCK_CLASS = 365_011


class M365JobWorkLocation(models.AbstractModel):
    _name = "m365.job.work_location"
    _inherit = "m365.job"
    _description = "Microsoft 365 job: work location to Outlook"

    _m365_job_kind = "work_location"
    _m365_lock_class = LOCK_CLASS

    @api.model
    def _m365_units(self, due_only=True):
        tenants = self.env["m365.tenant"].sudo().search([("hr_location_export", "=", True)])
        units = [{"tenant": tenant.id} for tenant in tenants]
        return [u for u in units if not due_only or self._m365_unit_due(u)]

    @api.model
    def _m365_unit_identity(self, unit):
        return f"work_location:{unit['tenant']}"

    @api.model
    def _m365_lock_key(self, unit):
        return LOCK_CLASS, unit["tenant"]

    @api.model
    def _m365_unit_scope(self, unit):
        return {"tenant": self.env["m365.tenant"].sudo().browse(unit["tenant"])}

    @api.model
    def _m365_unit_active(self, unit):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"]).exists()
        return bool(tenant and tenant.active and tenant.hr_location_export)

    @api.model
    def _m365_unit_due(self, unit):
        last = self._m365_last_run(unit)
        return not last or last.start + timedelta(hours=12) <= fields.Datetime.now()

    @api.model
    def _m365_do_unit(self, unit, run):
        tenant = self.env["m365.tenant"].sudo().browse(unit["tenant"])
        employees = (
            self.env["hr.employee"].sudo().search([("company_id", "=", tenant.company_id.id)])
        )
        before = (
            self.env["m365.outbox"]
            .sudo()
            .search_count([("res_model", "=", "m365.work.location.event")])
        )
        self.env["m365.work.location.event"]._m365_refresh(employees)
        after = (
            self.env["m365.outbox"]
            .sudo()
            .search_count([("res_model", "=", "m365.work.location.event")])
        )
        run._m365_done(
            self.env._(
                "%(employees)s employee(s) checked, %(queued)s change(s) queued for Outlook.",
                employees=len(employees),
                queued=max(0, after - before),
            )
        )
