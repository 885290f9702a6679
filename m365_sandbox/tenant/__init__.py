"""The emulated tenant itself, independent of HTTP: the bottom layer.

What belongs here: the directory, apps and grants (``tenant_state``), the
mailboxes and their events (``mailbox_store``), recurrence expansion, time-zone
lookup, seeds, the fault plan and concurrency limiter (``fault_injection``:
what the tests set up on a tenant, consumed by the serving layers), the request
log, the error types the tenant's data raises (``service_errors``), and the
narrow :class:`~m365_sandbox.tenant.handler_context.HandlerContext` handed to
the Graph and identity handlers. Nothing here imports ``graph/``, ``identity/``
or ``server/``.
"""
