"""Compatibility module: ``from pausegraph.graph.message import add_messages, MessagesState``."""

from pausegraph.graph._messages import REMOVE_ALL_MESSAGES, MessagesState, add_messages

__all__ = ["REMOVE_ALL_MESSAGES", "MessagesState", "add_messages"]
