from . import (
    m365_contact_sync,
    m365_secret_mixin,
    m365_sync_run,
    m365_tenant,
    m365_tenant_permission,
    res_company,
    res_config_settings,
    res_partner,
)
