"""m365_graph.sync — the decisions of every feature; no I/O (rank 2).

Contacts (:mod:`.contacts`), workload math (:mod:`.workload`), the personal pull
(:mod:`.pull`, the Odoo-facing mapping of Graph events to ``calendar.event``
values), upload payloads (:mod:`.push`), the outbox's rules (:mod:`.outbox`),
project activities (:mod:`.activities`), recurrences (:mod:`.recurrence`) and
personal-sync settings (:mod:`.personal`) — pure functions over typed values.

Imports ``core/`` (types, errors, time zones, text, config) and
``identity.permissions`` only; never the client, HTTP, the paging/delta/``$batch``
bases or the MSAL modules, and never ``resources/``, which sits above it and
applies these decisions.
"""
