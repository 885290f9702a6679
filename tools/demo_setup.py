"""Run by `make demo` inside `odoo-bin shell`: point the company's tenant at the
running sandbox (details in the JSON file the sandbox wrote), switch on the
features that exist and run each once. Prints lines starting with "demo".
Idempotent: re-running rewrites the same configuration."""

import datetime
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

# A project that sends its activities to Outlook, with a task and two planned
# activities (what the resource overview, the chatter and the README screenshots show).
Project = env["project.project"]
project = Project.search([("name", "=", "Office move")], limit=1) or Project.create(
    {"name": "Office move", "m365_export": True, "user_id": env.ref("base.user_admin").id}
)
adele = Users.search([("login", "=", f"adele.vance@{domain}")], limit=1)
task = env["project.task"].search([("project_id", "=", project.id)], limit=1) or env[
    "project.task"
].create({"name": "Plan the new desks", "project_id": project.id, "user_ids": [(6, 0, adele.ids)]})
if adele and not env["mail.activity"].search(
    [("res_model", "=", "project.task"), ("res_id", "=", task.id)]
):
    today = datetime.date.today()
    monday = today - datetime.timedelta(days=today.weekday())
    for offset, hour, summary in ((1, 9, "Measure the rooms"), (3, 13, "Order the desks")):
        day = monday + datetime.timedelta(days=offset)
        env["mail.activity"].create(
            {
                "res_model_id": env["ir.model"]._get_id("project.task"),
                "res_id": task.id,
                "activity_type_id": env.ref("mail.mail_activity_data_todo").id,
                "summary": summary,
                "user_id": adele.id,
                "date_deadline": day + datetime.timedelta(days=2),
                # 09:00 / 13:00 in Berlin (UTC+1 in winter, +2 in summer: close enough here)
                "m365_planned_start": datetime.datetime.combine(day, datetime.time(hour - 1)),
                "m365_planned_duration": 2.0,
            }
        )
env["m365.job.outbox"]._m365_cron()
print(f"demo: project {project.name}: task “{task.name}”, its activities sent to Outlook")
env.cr.commit()
