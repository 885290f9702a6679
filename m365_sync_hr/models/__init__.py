# The writer mixin first: the models inheriting it are built after it.
from . import m365_hr_writer  # isort: skip
from . import jobs  # isort: skip
from . import (
    hr_employee,
    hr_employee_location,
    hr_leave,
    m365_sync_run,
    m365_tenant,
    m365_work_location_event,
    res_config_settings,
)
