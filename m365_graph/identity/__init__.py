"""m365_graph.identity — who we are to Microsoft 365 (rank 1, above ``core/``).

MSAL token providers, app-only and delegated (:mod:`.auth`), the auth-code flow
with PKCE (:mod:`.authflow`), reading a token's claims (:mod:`.claims`), the
feature → Graph permission table (:mod:`.permissions`), "Test connection"
(:mod:`.connection`) and ``GraphClient.for_app``/``for_account``
(:mod:`.clients`: the constructors from a ``TenantConfig``, which ``core/`` cannot
have since it may not import the providers).

Imports only ``core/``.
"""
