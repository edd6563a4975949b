"""Build graphs: ``StateGraph``, ``START``, ``END``, ``MessagesState``, ``add_messages``."""

from pausegraph.constants import END, START
from pausegraph.graph._builder import StateGraph
from pausegraph.graph._compiled import CompiledStateGraph
from pausegraph.graph._messages import MessagesState, add_messages

__all__ = ["END", "START", "CompiledStateGraph", "MessagesState", "StateGraph", "add_messages"]
