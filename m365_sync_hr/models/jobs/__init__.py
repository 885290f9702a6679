from . import m365_job_absences, m365_job_auto_replies, m365_job_work_location
