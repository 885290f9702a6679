{
    "name": "Microsoft 365 Sync — Time Off and Work Location",
    "summary": "Validated time off and work locations to Outlook (out of office, working "
    "elsewhere), Outlook absences back to Odoo as time off to approve",
    "version": "19.0.1.0.0",
    "category": "Human Resources",
    "author": "m365_sync developers",
    "license": "LGPL-3",
    "depends": ["m365_sync", "hr_holidays", "hr_homeworking"],
    "external_dependencies": {"python": ["m365-sync-graph"]},
    "data": [
        "security/ir.model.access.csv",
        "security/m365_hr_rules.xml",
        "data/ir_cron.xml",
        "views/m365_work_location_event_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "auto_install": True,
}
