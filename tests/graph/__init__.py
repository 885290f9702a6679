"""Tests of m365_graph: pure unit tests, sandbox integration tests, a property test."""
