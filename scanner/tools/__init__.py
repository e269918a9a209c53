"""Thin wrappers around the external programs the stages use, one module each.

Each wrapper builds the command, checks the program once, and turns failures
into the project's own exceptions; nothing else runs these programs.
"""
