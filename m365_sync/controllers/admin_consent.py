"""Microsoft's answer to "Grant admin consent for this tenant" (Settings → Microsoft 365).

The Settings button (``m365.tenant.action_m365_admin_consent``) sends the
administrator to Microsoft's admin-consent endpoint with this route as its
``redirect_uri`` and a ``state`` naming the tenant, the administrator and a
deadline. Microsoft comes back here with ``admin_consent=True&tenant=…&state=…``
or ``error=…&error_description=…&state=…`` ("Admin consent on the Microsoft
identity platform", https://learn.microsoft.com/en-us/entra/identity-platform/v2-admin-consent).
The answer is recorded on the tenant and shown in Settings, where the
administrator is sent back; a grant starts a connection test in the background.
It has a route of its own: the users' sign-in callback expects a sign-in it
started, so an admin-consent answer there read as "not expected".
"""

from odoo import fields, http
from odoo.http import request

from ..models.m365_tenant import ADMIN_CONSENT_PATH, SETTINGS_URL


class M365AdminConsentController(http.Controller):
    @http.route(ADMIN_CONSENT_PATH, type="http", auth="user", methods=["GET"])
    def admin_consent_callback(self, **params):
        env = request.env
        tenant = env["m365.tenant"]._m365_admin_consent_tenant(params.get("state"))
        if not tenant:
            own = env.company.sudo().m365_tenant_id
            if own and env.user.has_group("base.group_system"):
                own.write(
                    {
                        "admin_consent_state": "refused",
                        "admin_consent_date": fields.Datetime.now(),
                        "admin_consent_message": env._(
                            "This answer from Microsoft's admin-consent page was not expected: "
                            "it was asked for by another user, more than 30 minutes ago, or "
                            "was already used. Nothing was recorded; press “Grant admin "
                            "consent for this tenant” again."
                        ),
                    }
                )
                return request.redirect(SETTINGS_URL)
            return request.redirect("/odoo")
        tenant._m365_record_admin_consent(params)
        return request.redirect(SETTINGS_URL)
