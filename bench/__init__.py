"""Side-by-side benchmark of pausegraph against LangGraph.

Run ``python -m bench`` from the repository root (or ``python bench/run.py``).
Each (implementation, workload) pair runs in its own subprocess, using the same
interpreter, so imports never interfere; see :mod:`bench.cli`.
"""
