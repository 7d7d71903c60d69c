"""Benchmarks: each module is a script (``.venv/bin/python bench/NAME.py``); see bench/README.md."""
