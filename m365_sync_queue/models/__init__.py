from . import m365_job, m365_job_outbox, res_config_settings
