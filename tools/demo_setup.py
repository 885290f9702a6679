"""Run by `make demo` inside `odoo-bin shell`: point the company's tenant at the
running sandbox (details in the JSON file the sandbox wrote), switch on the
features that exist and run each once. Prints lines starting with "demo".
Idempotent: re-running rewrites the same configuration."""

import json
import os

with open(os.environ["M365_SANDBOX_INFO"], encoding="utf-8") as handle:
    info = json.load(handle)
company = env.company  # odoo-bin shell provides env
company._m365_ensure_tenant()
tenant = company.m365_tenant_id
tenant.write(
    {
        "azure_tenant": info["tenant_id"],
        "client_id": info["client_id"],
        "client_secret": info["client_secret"],
        "authority_host": info["url"],
        "graph_url": info["graph_url"],
        "ca_bundle": info["ca_path"],
        "contact_sync": True,
        "busy_sync": True,
        "personal_sync": True,
        "project_export": True,
        "room_sync": True,
    }
)
tenant.action_test_connection()
print(f"demo: tenant {tenant.azure_tenant} at {tenant.authority_host}")
print(f"demo: test connection: {tenant.last_check_message}")
for line in tenant.permission_ids:
    print(f"  {line.feature:10} {line.permission:28} {line.permission_type:12} {line.state}")
print(
    "demo: personal sync: My Preferences → Microsoft 365 → Add an account, then sign in "
    "as any demo user on the sandbox's page"
)
env.cr.commit()
