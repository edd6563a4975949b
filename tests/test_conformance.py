"""The saver conformance suite (``pausegraph.testing.conformance``) over every saver.

The ``saver`` fixture (``tests/conftest.py``) runs each test on memory and
SQLite always, and on Postgres and Redis when their servers are up.
"""

from pausegraph.testing.conformance import *  # noqa: F403
