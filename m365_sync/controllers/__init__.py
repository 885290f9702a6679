from . import admin_consent, oauth, webhook
