# The mixin first: models inheriting it are built after it.
from . import m365_secret_mixin  # isort: skip
from . import m365_push_mixin  # isort: skip
from . import m365_binding_mixin  # isort: skip
from . import jobs  # isort: skip
from . import (
    calendar_event,
    calendar_recurrence,
    m365_account,
    m365_availability,
    m365_busy_slot,
    m365_category_rule,
    m365_event_link,
    m365_mirror_block,
    m365_outbox,
    m365_resource_overview,
    m365_room,
    m365_room_booking,
    m365_subscription,
    m365_sync_run,
    m365_tenant,
    m365_tenant_permission,
    m365_token_rotation,
    m365_workload_day,
    mail_activity,
    project_project,
    project_task,
    res_company,
    res_config_settings,
    res_partner,
    res_users,
    resource_calendar,
    resource_calendar_attendance,
    resource_calendar_leaves,
    resource_resource,
)
