"""Checks of a signed file by programs that share no code with pyHanko: OpenSSL and poppler's pdfsig.

A signature that only pyHanko accepts would be worth little to the
archive's future readers; these helpers cut the signed bytes and the CMS
blob out of the file with plain byte arithmetic and hand them to OpenSSL.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.sign.conftest import signature_der, signed_bytes

HAVE_OPENSSL = shutil.which("openssl") is not None
HAVE_PDFSIG = shutil.which("pdfsig") is not None


def openssl_cms_verify(pdf: Path, ca: Path, work: Path, *, which: int = 0) -> subprocess.CompletedProcess[str]:
    """``openssl cms -verify`` of signature WHICH (file order) of PDF over its byte ranges, trusting CA."""
    data = pdf.read_bytes()
    sig, content = work / f"sig-{which}.der", work / f"signed-{which}.bin"
    sig.write_bytes(signature_der(data, which))
    content.write_bytes(signed_bytes(data, which))
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig), "-content", str(content)]
        + ["-CAfile", str(ca), "-purpose", "any", "-out", str(work / "out.bin")],
        capture_output=True,
        text=True,
        check=False,
    )


def openssl_ts_verify(pdf: Path, ca: Path, work: Path, *, which: int = -1) -> subprocess.CompletedProcess[str]:
    """``openssl ts -verify`` of the document timestamp WHICH of PDF against the bytes it covers."""
    data = pdf.read_bytes()
    token, content = work / f"ts-{which}.der", work / f"ts-signed-{which}.bin"
    token.write_bytes(signature_der(data, which))
    content.write_bytes(signed_bytes(data, which))
    return subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(content), "-in", str(token), "-token_in", "-CAfile", str(ca)],
        capture_output=True,
        text=True,
        check=False,
    )


def pdfsig(pdf: Path) -> str:
    return subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, check=False).stdout
