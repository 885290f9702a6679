# The mixin first: models inheriting it are built after it.
from . import m365_secret_mixin  # isort: skip
from . import (
    calendar_event,
    m365_account,
    m365_event_link,
    m365_sync_run,
    m365_tenant,
    m365_tenant_permission,
    res_company,
    res_config_settings,
    res_users,
)
