"""The benchmark scripts (run as ``python benchmarks/NAME.py``) and what they share with the tests.

A package installed with the project (``pip install -e .``), so a script, a test or a shell anywhere
imports ``benchmarks.common``, ``benchmarks.corpora`` and ``benchmarks.servers`` by name, from any
folder, with no change to the import path.
"""
