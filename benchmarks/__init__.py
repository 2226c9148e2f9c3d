"""Studies on headzoo's public API: each runs as ``python -m benchmarks.<name>`` from the repository root.

The studies never import each other; what several of them share (run records, statistics, pages, the held-out
sets and the plans that reports read) lives in :mod:`benchmarks.common`. Their output is committed under
``results/``; docs/benchmarks.md lists each study's command and page.
"""
