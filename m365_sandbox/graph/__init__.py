"""Microsoft Graph v1.0 as the emulated tenant answers it.

What belongs here: the router and per-request pipeline, OData query handling
(``$select``, ``$top``, paging and delta tokens, ``Prefer``), ``$filter``
expressions, ``$batch``, the request/response types, and the handlers of the
Graph resources (users, rooms, calendars, events). Handlers receive a
:class:`~m365_sandbox.tenant.handler_context.HandlerContext`, never the
``Sandbox``. Modules here import ``tenant/`` and ``identity/`` (tokens and their
permissions) — never ``server/``.
"""
