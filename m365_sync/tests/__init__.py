from . import (
    test_busy_import,
    test_busy_security,
    test_connection,
    test_contacts,
    test_security,
    test_sync_run,
    test_tenant,
    test_workload,
)
