"""m365_graph.core — the lowest layer: talking to Graph, and the vocabulary.

``GraphClient`` (:mod:`.client`: one pooled, CA-pinned HTTPS session, ``Prefer``
headers, retries honouring ``Retry-After``, the per-mailbox limiter, counters)
with its paging, delta-round and ``$batch`` methods (base classes in
:mod:`.paging`, :mod:`.delta`, :mod:`.batch`, which do not import the client);
the error taxonomy (:mod:`.errors`), typed results (:mod:`.types`), retry policy
and circuit breaker (:mod:`.retry`), time zones, text decoding, tenant settings
(:mod:`.config`) and :mod:`.secretbox`.

``secretbox`` (encryption at rest of the addon's secrets) is here rather than in
``identity/``: it is a dependency-free primitive (Fernet with a key from the
server configuration) that knows nothing of Microsoft's identity platform.

Imports nothing from the other layers.
"""
