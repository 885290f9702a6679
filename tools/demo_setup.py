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

# Busy time for workload: Odoo users for some of the demo people (matched by
# e-mail), on the company's working hours in Berlin, then one import.
DEMO_PEOPLE = [
    "adele.vance",
    "alex.wilber",
    "megan.bowen",
    "lynne.robbins",
    "lee.gu",
    "nora.klein",
    "jonas.becker",
    "sofia.rossi",
]
Users = env["res.users"].with_context(no_reset_password=True, active_test=False)
domain = info.get("tenant_domain") or "contoso.onmicrosoft.com"
for alias in DEMO_PEOPLE:
    login = f"{alias}@{domain}"
    if Users.search([("login", "=", login)]):
        continue
    user = Users.create(
        {
            "name": alias.replace(".", " ").title(),
            "login": login,
            "email": login,
            "tz": "Europe/Berlin",
            "group_ids": [
                (6, 0, [env.ref("base.group_user").id, env.ref("project.group_project_user").id])
            ],
        }
    )
    env["resource.resource"].create(
        {
            "name": user.name,
            "user_id": user.id,
            "calendar_id": env.company.resource_calendar_id.id,
            "tz": "Europe/Berlin",
        }
    )

# Contact sync links the demo users' partners (by e-mail) instead of duplicating them.
contacts = env["m365.job.contacts"]._m365_sync(tenant)
print(f"demo: contact sync {contacts.state}: {contacts.message}")
if not tenant.category_rule_ids:
    env["m365.category.rule"].create({"tenant_id": tenant.id, "name": "Lunch break"})
# One run per busy-time shard (one shard per 250 covered users by default).
for run in env["m365.job.busy"]._m365_import_busy(tenant) or []:
    print(f"demo: busy time: {run.state}; " + " ".join((run.message or "").splitlines()))
env.cr.commit()
