"""Contacts synchronised from the Microsoft 365 directory.

Contact sync (``m365.job.contacts``) links a partner to a directory user by its
Graph user id and keeps the fields it owns up to date. This file adds what that
needs on ``res.partner``:

* ``m365_mobile``, labelled *Mobile*: Odoo 19 dropped the partner's mobile field
  (only *Phone* is left), but a directory user has both a business phone and a
  mobile number and both are worth having on the contact. The field is prefixed
  so that it can never collide with a ``mobile`` column another module (or a
  later Odoo) adds; it is an ordinary, editable field shown under *Phone*.
* the Graph fields, read-only on the form in a *Microsoft 365* group: user id,
  user principal name, department, office location, user type, account enabled,
  and the tenant that linked the partner;
* ``m365_sync_state`` (administrators only, never on a view): the directory
  properties last read — later delta rounds send only what changed — and the
  values the sync last wrote, which is how it knows whether a value in Odoo is
  its own (and may be cleared) or was typed by someone (and stays).
"""

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    m365_mobile = fields.Char(
        string="Mobile",
        help="Mobile phone number. Filled from Microsoft 365 for contacts synchronised "
        "from the directory; can be edited like the phone.",
    )
    m365_user_id = fields.Char(
        string="Microsoft 365 user ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The Graph id of the directory user this contact is synchronised from.",
    )
    m365_tenant_id = fields.Many2one(
        "m365.tenant",
        string="Microsoft 365 tenant",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        groups="base.group_user",
        help="The tenant whose contact sync linked this contact.",
    )
    m365_upn = fields.Char(string="User principal name", readonly=True, copy=False)
    m365_department = fields.Char(string="Department", readonly=True, copy=False)
    m365_office_location = fields.Char(string="Office location", readonly=True, copy=False)
    m365_user_type = fields.Selection(
        [("member", "Member"), ("guest", "Guest")],
        string="User type",
        readonly=True,
        copy=False,
    )
    m365_account_enabled = fields.Boolean(
        string="Account enabled",
        readonly=True,
        copy=False,
        help="Whether the Microsoft 365 account may sign in. Disabled and deleted "
        "accounts archive the contact.",
    )
    m365_sync_state = fields.Json(
        string="Microsoft 365 sync state",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Technical: the directory properties last read and the values the sync wrote.",
    )

    _m365_user_company_uniq = models.UniqueIndex(
        "(m365_user_id, COALESCE(company_id, 0)) WHERE m365_user_id IS NOT NULL",
        "A Microsoft 365 user is synchronised to one contact per company.",
    )
