"""The grid_events service: projections from JetStream and their read API."""
