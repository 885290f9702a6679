from . import (
    test_busy_import,
    test_busy_security,
    test_connection,
    test_contacts,
    test_oauth,
    test_personal_account,
    test_personal_cron,
    test_personal_pull,
    test_security,
    test_sync_run,
    test_tenant,
    test_workload,
)
