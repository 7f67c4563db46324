"""``python -m grid_events.transport``: run the outbox relay (see :mod:`grid_events.transport.cli`)."""

from __future__ import annotations

import sys

from grid_events.transport.cli import main

sys.exit(main())
