from . import m365_job_absences, m365_job_work_location
