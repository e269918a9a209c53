"""`scanner` as it will run once intake opens files in the judge's child: a preview for the benchmark only.

Until the lead wires :func:`scanner.capture.judge.open_isolated` into
``Intake.prepare`` (and ``peek_receipt_isolated`` into ``Intake.peek_receipt``),
``python -m benchmarks.hostile.wired ARGS`` runs the normal CLI with those two
methods replaced, so ``benchmarks/hostile/run.py --wired`` can measure the
service as it will be. Nothing in the product imports this module.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scanner import jsonio
from scanner.capture.barcodes import Receipt
from scanner.capture.judge import open_isolated, peek_receipt_isolated
from scanner.cli import main
from scanner.errors import InputError
from scanner.pipeline.intake import Intake
from scanner.pipeline.job import PreparedSource


def _peek_receipt(self: Intake, path: Path) -> Receipt | None:
    return peek_receipt_isolated(path, self.limits)


def _prepare(self: Intake, job_id: str, index: int, counter: str) -> PreparedSource | None:
    folder = self.folder(job_id)
    done = folder.load_prepared(index)
    if done is not None:
        return done
    src = next((s for s in folder.sources() if s.path.name.startswith(f"{index:03d}")), None)
    if src is None or not src.path.exists():
        return None
    try:
        opened = open_isolated(src, folder.pages, self.limits)
    except InputError as exc:
        self.reject(job_id, src, exc, counter)
        return None
    prepared = PreparedSource(index=index, pages=opened.pages, codes=opened.codes, signed=opened.signed)
    folder.prepared.mkdir(parents=True, exist_ok=True)
    jsonio.save(folder.prepared_at(index), prepared)
    return prepared


if __name__ == "__main__":
    Intake.peek_receipt = _peek_receipt  # type: ignore[method-assign]
    Intake.prepare = _prepare  # type: ignore[method-assign]
    sys.exit(main())
