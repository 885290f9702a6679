{
    "name": "Microsoft 365 Sync — Job Queue",
    "summary": "Runs the Microsoft 365 sync's units of work as OCA queue_job jobs, "
    "spread over several Odoo servers within Microsoft Graph's limits",
    "version": "19.0.1.1.0",
    "category": "Productivity",
    "author": "m365_sync developers",
    "license": "LGPL-3",
    "depends": ["m365_sync", "queue_job"],
    "data": [
        "data/queue_job_channel_data.xml",
        "data/queue_job_function_data.xml",
        "views/res_config_settings_views.xml",
    ],
    "auto_install": True,
}
