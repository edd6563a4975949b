"""The public surface: what each public module exports, so nothing leaks or vanishes."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "pausegraph.graph": {
        "END",
        "START",
        "CompiledStateGraph",
        "MessagesState",
        "StateGraph",
        "add_messages",
    },
    "pausegraph.types": {
        "All",
        "CachePolicy",
        "Checkpointer",
        "Command",
        "Durability",
        "Interrupt",
        "PregelTask",
        "RetryPolicy",
        "Send",
        "StateSnapshot",
        "StateUpdate",
        "StreamMode",
        "StreamWriter",
        "get_stream_writer",
        "interrupt",
        "once",
    },
    "pausegraph.constants": {"END", "START", "TAG_HIDDEN"},
    "pausegraph.config": {"get_config", "get_store", "get_stream_writer"},
    "pausegraph.store": {"BaseStore", "InvalidNamespaceError", "Item", "SearchItem"},
    "pausegraph.store.memory": {"InMemoryStore"},
    "pausegraph.store.sqlite": {"SqliteStore"},
    "pausegraph.store.postgres": {"PostgresStore"},
    "pausegraph.cache": {"BaseCache"},
    "pausegraph.cache.memory": {"InMemoryCache"},
    "pausegraph.runtime": {"Runtime", "get_runtime"},
    "pausegraph.checkpoint.memory": {"InMemorySaver", "MemorySaver"},
    "pausegraph.checkpoint.sqlite": {"SqliteSaver"},
    "pausegraph.checkpoint.sqlite.aio": {"AsyncSqliteSaver"},
    "pausegraph.testing": {"make_checkpoint", "save_chain"},
    "pausegraph.graph.message": {"REMOVE_ALL_MESSAGES", "MessagesState", "add_messages"},
    "pausegraph.graph.state": {"CompiledStateGraph", "StateGraph"},
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_is_exactly_the_public_names(module: str) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == PUBLIC[module]
    for name in mod.__all__:
        assert getattr(mod, name) is not None or name in {"All"}


def test_the_conformance_suite_exports_only_tests() -> None:
    from pausegraph.testing import conformance

    assert len(conformance.__all__) >= 40
    for name in conformance.__all__:
        assert name.startswith("test_") and callable(getattr(conformance, name)), name


def test_errors_module_exports_the_whole_tree() -> None:
    from pausegraph import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert isinstance(cls, type) and issubclass(cls, BaseException)
    exported = {getattr(errors, n) for n in errors.__all__}
    assert errors.PauseGraphError in exported


def test_error_tree_shape() -> None:
    from pausegraph import errors as e

    assert issubclass(e.GraphBuildError, e.PauseGraphError) and issubclass(
        e.GraphBuildError, ValueError
    )
    for cls in (e.InvalidUpdateError, e.InvalidRouteError, e.EmptyInputError, e.InvalidConfigError):
        assert issubclass(cls, e.GraphRunError) and issubclass(cls, ValueError)
    assert issubclass(e.GraphRecursionError, RecursionError)
    for cls in (e.NothingToResumeError, e.InterruptMismatchError, e.ResumeValidationError):
        assert issubclass(cls, e.ResumeError)
    assert issubclass(e.UnknownInterruptError, KeyError)
    assert issubclass(e.CheckpointNotFoundError, e.StorageError) and issubclass(
        e.CheckpointNotFoundError, KeyError
    )
    assert issubclass(e.SerializationError, TypeError)
    assert issubclass(e.MissingDependencyError, ImportError)
    # Control flow is not an error: `except Exception` must not catch it.
    assert not issubclass(e.GraphInterrupt, Exception)
    assert issubclass(e.NodeInterrupt, e.GraphInterrupt)


def test_langgraph_import_paths_exist() -> None:
    """The imports LangGraph's human-in-the-loop docs use work with the prefix swapped."""
    from pausegraph.checkpoint.memory import InMemorySaver, MemorySaver
    from pausegraph.errors import GraphRecursionError, InvalidUpdateError, NodeInterrupt
    from pausegraph.graph import END, START, MessagesState, StateGraph, add_messages
    from pausegraph.types import Command, Interrupt, Send, interrupt

    assert MemorySaver is InMemorySaver
    assert (START, END) == ("__start__", "__end__")
    assert all(
        x is not None
        for x in (
            GraphRecursionError,
            InvalidUpdateError,
            NodeInterrupt,
            MessagesState,
            StateGraph,
            add_messages,
            Command,
            Interrupt,
            Send,
            interrupt,
        )
    )


def test_command_and_interrupt_reprs_match_langgraph() -> None:
    from pausegraph.types import Command, Interrupt, Send

    assert repr(Command(resume="x")) == "Command(resume='x')"
    assert repr(Command(update={"a": 1}, goto="b")) == "Command(update={'a': 1}, goto='b')"
    assert repr(Interrupt("q")) == "Interrupt(value='q', id='placeholder-id', response_schema=None)"
    assert repr(Send("w", {"i": 1})) == "Send(node='w', arg={'i': 1})"
    assert Command.PARENT == "__parent__"
    intr = Interrupt("q", "ab" * 16)
    assert (intr.resumable, intr.when, intr.interrupt_id) == (True, "during", "ab" * 16)


def test_importing_the_graph_api_leaves_storage_and_asyncio_for_later() -> None:
    # `import` has a 50 ms budget (bench/): the serializer, the saver capabilities
    # and asyncio load when a run first needs them, not with StateGraph.
    import subprocess
    import sys

    code = (
        "import sys; from pausegraph.graph import StateGraph; "
        "print(sorted(m for m in ('ormsgpack', 'asyncio', 'pausegraph.checkpoint.capabilities', "
        "'pausegraph.checkpoint.serde') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
