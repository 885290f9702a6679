"""Benchmarks of m365_sync's Graph client against the sandbox with simulated latency.

Why this package exists: speed is measured here, never asserted in tests
(docs/architecture.md, "Rules that hold everywhere"). ``python -m bench`` runs
every benchmark; each module also runs alone (``python -m bench.graph_calendar --help``).
"""
