"""Serving the emulated tenant: the ``Sandbox`` object, the HTTPS server and its TLS material.

What belongs here: process and network concerns only — starting and stopping
the background server thread, the WSGI entry that splits requests between the
identity platform and Graph v1.0, trustme certificates, the test helpers that
mint tokens. It is the top layer: it builds the tenant (``tenant/``), hands the
handlers of ``identity/`` and ``graph/`` a narrow
:class:`~m365_sandbox.tenant.handler_context.HandlerContext`, and nothing below
imports it.
"""
