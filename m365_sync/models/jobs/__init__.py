# The unit-of-work base first: the jobs inherit it.
from . import m365_job  # isort: skip
from . import m365_job_tenant  # isort: skip
from . import (
    m365_job_busy,
    m365_job_busy_notified,
    m365_job_contacts,
    m365_job_mirror,
    m365_job_outbox,
    m365_job_personal,
    m365_job_rooms,
    m365_job_subscription,
)
