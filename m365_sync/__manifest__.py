{
    "name": "Microsoft 365 Sync",
    "summary": "Contacts, calendar busy time, personal calendar sync and project "
    "activities between Odoo and Microsoft 365 (Microsoft Graph)",
    "version": "19.0.1.0.0",
    "category": "Productivity",
    "author": "m365_sync developers",
    "license": "LGPL-3",
    "depends": ["base_setup", "mail"],
    "external_dependencies": {"python": ["msal", "requests", "m365-sync-graph"]},
    "data": [
        "security/m365_security.xml",
        "security/ir.model.access.csv",
        "security/m365_rules.xml",
        "data/ir_cron.xml",
        "data/m365_contact_sync_data.xml",
        "views/m365_tenant_views.xml",
        "views/m365_sync_run_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_partner_views.xml",
        "views/m365_menus.xml",
    ],
    "post_init_hook": "post_init_hook",
}
