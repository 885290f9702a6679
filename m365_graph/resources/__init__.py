"""m365_graph.resources."""
