"""Each company has exactly one Microsoft 365 tenant record.

It is created with the company (and for existing companies when the addon is
installed), unconfigured, so that Settings can edit it through related fields.
"""

from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    m365_tenant_ids = fields.One2many("m365.tenant", "company_id", string="Microsoft 365 tenants")
    m365_tenant_id = fields.Many2one(
        "m365.tenant", string="Microsoft 365 tenant", compute="_compute_m365_tenant_id"
    )

    @api.depends("m365_tenant_ids")
    def _compute_m365_tenant_id(self):
        for company in self:
            company.m365_tenant_id = company.m365_tenant_ids[:1]

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._m365_ensure_tenant()
        return companies

    def _m365_ensure_tenant(self):
        Tenant = self.env["m365.tenant"].sudo().with_context(active_test=False)
        have = set(Tenant.search([("company_id", "in", self.ids)]).company_id.ids)
        missing = self.filtered(lambda company: company.id not in have)
        if missing:
            Tenant.create([{"company_id": company.id} for company in missing])
        return True
