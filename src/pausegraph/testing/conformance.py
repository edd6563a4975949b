"""The conformance suite every checkpoint saver must pass, as pytest tests.

A backend's test module imports the tests and provides a ``saver`` fixture
that yields a fresh, set-up saver (an empty store) for each test::

    import pytest
    from pausegraph.testing.conformance import *  # noqa: F403

    @pytest.fixture
    def saver(tmp_path):
        with MySaver.from_conn_string(...) as saver:
            saver.setup()
            yield saver

What runs:

* the base contract (:class:`~pausegraph.checkpoint.base.BaseCheckpointSaver`):
  round trips of partial checkpoints, namespaces, pending writes, history
  order, paging and filters, deletion, writes from worker threads, async twins;
* each optional capability the saver offers (the others skip, with the reason):
  the waiting index, thread leases (also folded into loads and writes),
  batched writes, the request log, listing and pruning;
* whole graph runs that pause and resume, sync and under asyncio.

The async tests need ``pytest-asyncio``; the suite never sleeps longer than
a fraction of a second.
"""

from __future__ import annotations

from pausegraph.testing._batches import *  # noqa: F403
from pausegraph.testing._batches import __all__ as _batches
from pausegraph.testing._contract import *  # noqa: F403
from pausegraph.testing._contract import __all__ as _contract
from pausegraph.testing._maintenance import *  # noqa: F403
from pausegraph.testing._maintenance import __all__ as _maintenance
from pausegraph.testing._runs import *  # noqa: F403
from pausegraph.testing._runs import __all__ as _runs
from pausegraph.testing._waiting import *  # noqa: F403
from pausegraph.testing._waiting import __all__ as _waiting

__all__ = sorted([*_batches, *_contract, *_maintenance, *_runs, *_waiting])
