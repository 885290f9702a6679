from . import mail_activity_schedule
