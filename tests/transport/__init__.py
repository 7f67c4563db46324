"""Tests of grid_events.transport against real nats-server processes."""
