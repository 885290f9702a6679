"""One row of the permission table shown after "Test connection".

The rows come from ``m365_graph.identity.permissions`` (the feature → Graph permission
table of ``docs/architecture.md``) compared with the ``roles`` claim of a fresh app token, so
an administrator sees, per enabled feature, which permission is granted, which
is missing, whether it is delegated or application and whether it needs admin
consent. Rows are replaced at every test; nobody edits them.
"""

from odoo import api, fields, models

from m365_graph.identity.permissions import FEATURE_LABELS, effective_permissions


class M365TenantPermission(models.Model):
    _name = "m365.tenant.permission"
    _description = "Microsoft 365 Permission Check"
    _order = "tenant_id, id"

    tenant_id = fields.Many2one("m365.tenant", required=True, ondelete="cascade", index=True)
    feature = fields.Selection(list(FEATURE_LABELS.items()), required=True)
    permission = fields.Char(required=True)
    permission_type = fields.Selection(
        [("application", "Application"), ("delegated", "Delegated")], required=True
    )
    admin_consent = fields.Boolean(string="Admin consent")
    state = fields.Selection(
        [
            ("granted", "Granted"),
            ("missing", "Missing"),
            ("user", "Asked of each user"),
        ],
        required=True,
        help="Delegated permissions are consented by each user when they connect their "
        "account; an app token cannot tell whether they will be granted.",
    )
    note = fields.Char(
        compute="_compute_note",
        help="How a permission that is not itself in the app's granted list is granted: "
        "a broader permission includes it (Calendars.ReadWrite includes "
        "Calendars.ReadBasic.All).",
    )

    @api.depends("permission", "state", "tenant_id.granted_roles")
    def _compute_note(self):
        for row in self:
            granted = row.tenant_id.sudo().granted_roles or ""
            roles = [r.strip() for r in granted.split(",") if r.strip()]
            note = False
            if row.state == "granted" and row.permission not in roles:
                broader = sorted(r for r in roles if row.permission in effective_permissions([r]))
                if broader:
                    note = self.env._("Included in %(broader)s", broader=", ".join(broader))
            row.note = note
