"""Testing helpers for checkpoint savers, and the conformance suite they must pass.

:mod:`pausegraph.testing.conformance` holds the suite (pytest tests over a
``saver`` fixture you provide); the helpers here build the checkpoints it
saves, for a backend's own tests too. Needs ``pytest`` (and
``pytest-asyncio`` for the async tests).

Example:
    >>> from pausegraph.testing import make_checkpoint, save_chain
    >>> first = make_checkpoint({"a": 1})
    >>> second = make_checkpoint({"b": 2}, first)  # stores only b; reads a from first
"""

from __future__ import annotations

import pytest

# Before the suite's modules are imported, so failures show the compared values.
pytest.register_assert_rewrite(
    "pausegraph.testing._batches",
    "pausegraph.testing._contract",
    "pausegraph.testing._maintenance",
    "pausegraph.testing._runs",
    "pausegraph.testing._waiting",
)

from pausegraph.testing._factories import make_checkpoint, save_chain  # noqa: E402

__all__ = ["make_checkpoint", "save_chain"]
