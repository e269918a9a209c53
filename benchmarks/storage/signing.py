"""Bytes a signature adds to each archived document, as the pipeline signs it (PAdES B-B, visible mark).

    python -m benchmarks.storage.signing

The storage benchmark measures unsigned one-page PDFs; every archived
document is also signed once, whatever its page count, so a province's
storage is pages × bytes per page plus documents × this overhead. A blank
PDF/A page is signed with a development identity (``scanner.sign.devpki``)
the way ``Pipeline.sign`` does by default (``[signing] level = "B-B"``, the
"SAO Y" mark) and, for comparison, without the mark; the difference in size
is written to ``benchmarks/storage/signing.json`` for ``benchmarks/capacity.py``.
B-T and later levels add a timestamp token and revocation data on top: those
need a TSA and responders, so they are not measured here.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from scanner.config import Secret
from scanner.sign.devpki import create_dev_identity
from scanner.sign.mark import VisibleMark
from scanner.sign.pades import sign_pdf
from tests.sign.conftest import make_pdfa


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("signing.json"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="signing-bench-") as tmp:
        work = Path(tmp)
        password = Secret("benchmark-only")
        identity = create_dev_identity(work / "keys", agency_code="000.00.00.H48", agency_name="Đo đạc",
                                       password=password)  # fmt: skip
        src = make_pdfa(work / "page.pdf")
        out = {"date": time.strftime("%Y-%m-%d"), "level": "B-B", "unsigned_bytes": src.stat().st_size}
        for label, mark in (("visible_mark", VisibleMark(agency="Ủy ban nhân dân xã Đo Đạc")), ("invisible", None)):
            signed = sign_pdf(src, work / f"{label}.pdf", pkcs12=identity.pkcs12, password=password, mark=mark)
            out[f"{label}_overhead_bytes"] = signed.path.stat().st_size - src.stat().st_size
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
