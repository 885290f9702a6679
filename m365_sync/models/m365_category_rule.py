"""Outlook category rules of a tenant: "ignore elements with category …".

An administrator lists Outlook categories (say "Focus time" or "Lunch break")
whose appointments must not count toward workload. Matching ignores case and
extra spaces, the way Outlook users type them. Imported slots carrying such a
category stay visible, marked as ignored; whenever the rules change, the slots
of the tenant are re-marked and the workload days they touch recomputed.
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from m365_graph.sync.workload import category_key, clean_category

#: Longest category name accepted (Outlook's own names are far shorter).
MAX_NAME_LENGTH = 255


class M365CategoryRule(models.Model):
    _name = "m365.category.rule"
    _description = "Microsoft 365 Category Rule"
    _order = "tenant_id, name"

    tenant_id = fields.Many2one(
        "m365.tenant",
        required=True,
        ondelete="cascade",
        index=True,
        default=lambda self: self.env.company.m365_tenant_id,
    )
    company_id = fields.Many2one(related="tenant_id.company_id", store=True, index=True)
    name = fields.Char(
        string="Outlook category",
        required=True,
        help="The category name as shown in Outlook. Case and extra spaces do not matter.",
    )
    action = fields.Selection(
        [("ignore", "Ignore for workload")],
        default="ignore",
        required=True,
        help="Ignore for workload: appointments with this category are imported and shown "
        "as ignored, but their time does not count as busy.",
    )
    active = fields.Boolean(default=True)

    @api.constrains("name", "tenant_id", "active")
    def _check_unique_name(self):
        for rule in self:
            key = category_key(rule.name)
            if not key:
                raise ValidationError(self.env._("A category rule needs a category name."))
            if len(rule.name) > MAX_NAME_LENGTH:
                raise ValidationError(
                    self.env._(
                        "A category name has at most %(max)s characters (this one has %(length)s).",
                        max=MAX_NAME_LENGTH,
                        length=len(rule.name),
                    )
                )
            twins = rule.tenant_id.category_rule_ids.filtered(
                lambda other, rule=rule, key=key: other != rule and category_key(other.name) == key
            )
            if twins:
                raise ValidationError(
                    self.env._(
                        "There is already a rule for the category “%(name)s”.",
                        name=twins[0].name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create([self._m365_clean(vals) for vals in vals_list])
        self.env["m365.busy.slot"]._m365_apply_category_rules(rules.tenant_id)
        return rules

    def write(self, vals):
        tenants = self.tenant_id
        result = super().write(self._m365_clean(vals))
        self.env["m365.busy.slot"]._m365_apply_category_rules(tenants | self.tenant_id)
        return result

    def unlink(self):
        tenants = self.tenant_id
        result = super().unlink()
        self.env["m365.busy.slot"]._m365_apply_category_rules(tenants)
        return result

    @api.model
    def _m365_ignored_keys(self, tenant):
        """The category keys (see ``m365_graph.sync.workload.category_key``) ``tenant`` ignores."""
        rules = self.sudo().search([("tenant_id", "=", tenant.id), ("action", "=", "ignore")])
        return frozenset(category_key(rule.name) for rule in rules)

    @api.model
    def _m365_clean(self, vals):
        if isinstance(vals.get("name"), str):
            vals = dict(vals, name=clean_category(vals["name"]))
        return vals
