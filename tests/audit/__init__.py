"""Tests of the audit: verification, timelines, rule checks, exports and the ``grid-events audit`` command line."""
