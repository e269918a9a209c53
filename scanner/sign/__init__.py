"""The sign stage: the agency's PAdES signature on finished PDF/A files, and its verification.

``sign_pdf`` signs (PAdES B-B to B-LTA, with a PKCS#12 file or a PKCS#11
token, invisibly or with the visible "SAO Y" mark), ``verify_pdf`` reports on
every signature of a file, ``create_dev_identity`` makes the test identity that
``scanner init`` configures until the agency's real certificate arrives.
"""

from __future__ import annotations

from scanner.sign.devpki import DevIdentity, create_dev_identity
from scanner.sign.mark import VisibleMark
from scanner.sign.pades import LEVELS, SUPPORTED_LEVELS, certificate_warning, open_identity, sign_pdf
from scanner.sign.token import TokenKey
from scanner.sign.verify import SignatureReport, verify_pdf

__all__ = [
    "LEVELS",
    "SUPPORTED_LEVELS",
    "DevIdentity",
    "SignatureReport",
    "TokenKey",
    "VisibleMark",
    "certificate_warning",
    "open_identity",
    "create_dev_identity",
    "sign_pdf",
    "verify_pdf",
]
