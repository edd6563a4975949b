"""pausegraph: stateful graphs whose runs pause for a person and resume durably.

The public API lives in submodules, named as in LangGraph so that switching is a
change of import prefix: :mod:`pausegraph.graph`, :mod:`pausegraph.types`,
:mod:`pausegraph.errors`, :mod:`pausegraph.checkpoint.memory`,
:mod:`pausegraph.checkpoint.sqlite`.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
