"""The functional API: write a workflow as a plain function instead of a graph.

``@entrypoint(checkpointer=...)`` turns a function into a workflow that can
pause on ``interrupt()`` and resume with ``Command(resume=...)``; ``@task``
functions called inside it run in parallel and are saved, so a resumed
workflow does not run finished work again. Names and behaviour follow
``langgraph.func``.
"""

from pausegraph.func._entrypoint import entrypoint
from pausegraph.func._task import task

__all__ = ["entrypoint", "task"]
