"""m365_graph.core."""
