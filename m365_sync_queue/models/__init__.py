from . import m365_job, m365_job_busy, res_config_settings
