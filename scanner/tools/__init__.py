"""Thin wrappers around the external programs the stages use, one module each.

Each wrapper describes its program once (:class:`runner.Program`), runs it
through :mod:`scanner.tools.runner` (the only caller of ``subprocess`` for
them) and turns failures into the project's own exceptions, sorted by whose
fault they are; :func:`check_programs` tells at start-up what is missing.
"""

from __future__ import annotations

from scanner.tools.check import ProgramProblem, check_programs, require_programs

__all__ = ["ProgramProblem", "check_programs", "require_programs"]
