"""The base of the jobs whose units belong to one tenant (``m365.job.tenant``).

Contacts (a unit is the tenant's id) and busy time (a unit is a shard,
``{"tenant": id, …}``) both run per tenant, switched on by a feature field of
the tenant: the run row's scope, whether the unit may still run, and which
tenants have the feature on are said once here. A coming tenant job (room
calendars, subscription renewal) sets ``_m365_tenant_switch`` and inherits it.
"""

from odoo import api, models


class M365JobTenant(models.AbstractModel):
    _name = "m365.job.tenant"
    _inherit = "m365.job"
    _description = "Microsoft 365 job of a tenant (unit-of-work base)"

    #: The ``m365.tenant`` Boolean field that switches the job on.
    _m365_tenant_switch = None

    @api.model
    def _m365_unit_tenant(self, unit):
        """The unit's tenant (``sudo``): the unit is its id or a dict with ``tenant``."""
        tenant_id = unit["tenant"] if isinstance(unit, dict) else unit
        return self.env["m365.tenant"].sudo().browse(tenant_id)

    @api.model
    def _m365_switched_on_tenants(self):
        """The configured tenants with the job's feature on."""
        Tenant = self.env["m365.tenant"].sudo()
        return Tenant.search([(self._m365_tenant_switch, "=", True)]).filtered("is_configured")

    @api.model
    def _m365_unit_scope(self, unit):
        return {"tenant": self._m365_unit_tenant(unit)}

    @api.model
    def _m365_unit_active(self, unit):
        tenant = self._m365_unit_tenant(unit).exists()
        return bool(tenant and tenant[self._m365_tenant_switch])
