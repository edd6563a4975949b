"""Compatibility module: ``from pausegraph.graph.state import StateGraph, CompiledStateGraph``."""

from pausegraph.graph._builder import StateGraph
from pausegraph.graph._compiled import CompiledStateGraph

__all__ = ["CompiledStateGraph", "StateGraph"]
