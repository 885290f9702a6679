"""One row of the permission table shown after "Test connection".

The rows come from ``m365_graph.permissions`` (the feature → Graph permission
table of DESIGN.md) compared with the ``roles`` claim of a fresh app token, so
an administrator sees, per enabled feature, which permission is granted, which
is missing, whether it is delegated or application and whether it needs admin
consent. Rows are replaced at every test; nobody edits them.
"""

from odoo import fields, models

from m365_graph.permissions import FEATURE_LABELS


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
