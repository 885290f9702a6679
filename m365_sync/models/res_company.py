"""Each company has exactly one Microsoft 365 tenant record.

It is created with the company (and for existing companies when the addon is
installed), unconfigured, so that Settings can edit it through related fields.

The company also holds the defaults of the privacy and upload rules
(``m365_graph.sync.rules``) and of the Teams switch; a user follows them unless
they set their own in My Preferences → Microsoft 365.
"""

from odoo import api, fields, models

from .res_users import check_upload_domain


class ResCompany(models.Model):
    _inherit = "res.company"

    m365_tenant_ids = fields.One2many("m365.tenant", "company_id", string="Microsoft 365 tenants")
    m365_tenant_id = fields.Many2one(
        "m365.tenant", string="Microsoft 365 tenant", compute="_compute_m365_tenant_id"
    )

    # Defaults of the privacy and upload rules (users may set their own).
    m365_private_upload = fields.Selection(
        [("private", "Send as private"), ("skip", "Do not send")],
        string="Private appointments to Outlook",
        default="private",
        required=True,
        help="Private Odoo appointments go to Outlook marked private, or not at all.",
    )
    m365_upload_domain = fields.Char(
        string="Appointments sent to Outlook",
        default="[]",
        help="Only appointments matching this filter are sent to Outlook.",
    )
    m365_upload_from_today = fields.Boolean(
        string="Only from today on",
        help="Appointments that ended before today stay in Odoo.",
    )
    m365_private_as_busy = fields.Boolean(
        string="Outlook private appointments as Busy",
        help="Private Outlook appointments come into Odoo as 'Busy' blocks, without "
        "title, description, location or meeting link.",
    )
    m365_tentative_busy = fields.Boolean(
        string="Tentative counts as busy",
        default=True,
        help="Tentative Outlook appointments count as busy time (workload, availability). "
        "Declined invitations never count.",
    )
    m365_teams_default = fields.Boolean(
        string="Teams meeting by default",
        help="New Odoo appointments get a Teams meeting when they are sent to Outlook.",
    )

    @api.constrains("m365_upload_domain")
    def _check_m365_upload_domain(self):
        for company in self:
            check_upload_domain(self.env, company.m365_upload_domain, self.env.user)

    @api.depends("m365_tenant_ids")
    def _compute_m365_tenant_id(self):
        for company in self:
            company.m365_tenant_id = company.m365_tenant_ids[:1]

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._m365_ensure_tenant()
        return companies

    def write(self, vals):
        result = super().write(vals)
        if "m365_tentative_busy" in vals:
            self.env["m365.workload.day"]._m365_schedule_recompute(companies=self)
        return result

    def _m365_ensure_tenant(self):
        Tenant = self.env["m365.tenant"].sudo().with_context(active_test=False)
        have = set(Tenant.search([("company_id", "in", self.ids)]).company_id.ids)
        missing = self.filtered(lambda company: company.id not in have)
        if missing:
            Tenant.create([{"company_id": company.id} for company in missing])
        return True
