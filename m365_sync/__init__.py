from . import controllers, models, wizard


def post_init_hook(env):
    """Give every existing company its (unconfigured) Microsoft 365 tenant record.

    Settings edit the current company's tenant through related fields, so the
    record must exist before an administrator opens the settings page.
    """
    env["res.company"].search([])._m365_ensure_tenant()
