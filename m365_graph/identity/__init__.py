"""m365_graph.identity."""
