"""m365_graph.sync."""
