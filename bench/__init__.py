"""Benchmarks, each run as `carebridge bench SUBJECT`: a table of measures next to a baseline measured
in the same run, or `--json` for machines. Speed and quality targets live here, never in tests."""
