from . import test_connection, test_contacts, test_security, test_sync_run, test_tenant
