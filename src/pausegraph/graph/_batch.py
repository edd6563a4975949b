"""LangChain runnable methods of a graph: ``batch`` / ``abatch`` and ``with_config``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["BatchAPI", "merge_configs"]

_DEFAULT_CONCURRENCY = 8


def _configs(
    inputs: Sequence[Any], config: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
) -> list[Mapping[str, Any] | None]:
    """One config per input: the same one for all, or the list given (same length)."""
    if config is None or isinstance(config, Mapping):
        return [config] * len(inputs)
    configs: list[Mapping[str, Any] | None] = list(config)
    if len(configs) != len(inputs):
        raise ValueError(
            f"batch() got {len(inputs)} inputs but {len(configs)} configs; pass one config "
            "for all inputs, or one per input."
        )
    return configs


def _concurrency(configs: list[Mapping[str, Any] | None]) -> int:
    limits = [c["max_concurrency"] for c in configs if c and c.get("max_concurrency")]
    return max(1, min(limits)) if limits else _DEFAULT_CONCURRENCY


def merge_configs(
    base: Mapping[str, Any] | None, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``extra`` over ``base``, as LangChain merges configs.

    ``configurable`` and ``metadata`` are merged key by key, ``tags`` joined;
    any other key of ``extra`` replaces ``base``'s.
    """
    out = dict(base or {})
    for key, value in (extra or {}).items():
        if key in ("configurable", "metadata"):
            out[key] = {**(out.get(key) or {}), **(value or {})}
        elif key == "tags":
            out[key] = sorted({*(out.get(key) or ()), *(value or ())})
        else:
            out[key] = value
    return out


class BatchAPI:
    """``batch``, ``abatch`` and ``with_config`` on top of ``invoke`` and ``ainvoke``."""

    bound_config: dict[str, Any] | None = None
    """Set by :meth:`with_config`: merged under each run's own config."""

    def with_config(self, config: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        """A copy of this graph whose runs use ``config`` (and ``kwargs`` as config keys).

        As LangChain's ``Runnable.with_config``: the config of each call is merged
        over it (``configurable`` and ``metadata`` key by key, ``tags`` joined).
        """
        import copy

        bound = copy.copy(self)
        bound.bound_config = merge_configs(merge_configs(self.bound_config, config), kwargs or None)
        return bound

    def invoke(self, input: Any, config: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError  # pragma: no cover - provided by the graph

    async def ainvoke(
        self, input: Any, config: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        raise NotImplementedError  # pragma: no cover - provided by the graph

    def batch(
        self,
        inputs: Sequence[Any],
        config: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Invoke the graph once per input, in parallel threads; results in input order.

        Args:
            config: One config for every input, or a list with one per input
                (``max_concurrency`` bounds the threads; 8 by default).
            return_exceptions: Put a run's exception in its place instead of raising it.
            kwargs: Passed to each :meth:`invoke`.

        Raises:
            ValueError: ``config`` is a list of another length than ``inputs``.
            Exception: The first failed run's error, unless ``return_exceptions``.
        """
        inputs = list(inputs)
        configs = _configs(inputs, config)

        def one(index: int) -> Any:
            try:
                return self.invoke(inputs[index], configs[index], **kwargs)
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        if len(inputs) <= 1:
            return [one(i) for i in range(len(inputs))]
        from concurrent.futures import ThreadPoolExecutor

        # A pool of its own: each run may use the shared pool for its parallel nodes.
        with ThreadPoolExecutor(max_workers=_concurrency(configs)) as pool:
            return list(pool.map(one, range(len(inputs))))

    async def abatch(
        self,
        inputs: Sequence[Any],
        config: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async :meth:`batch`: the runs go concurrently on this event loop."""
        import asyncio  # only async callers pay for it

        inputs = list(inputs)
        configs = _configs(inputs, config)
        limit = asyncio.Semaphore(_concurrency(configs))

        async def one(index: int) -> Any:
            async with limit:
                return await self.ainvoke(inputs[index], configs[index], **kwargs)

        return list(
            await asyncio.gather(
                *(one(i) for i in range(len(inputs))), return_exceptions=return_exceptions
            )
        )
