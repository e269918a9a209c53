"""Barcodes on pages: the receipt's QR code and separator sheets.

The one-stop system prints a QR code top-left on the receipt (giấy tiếp nhận
và hẹn trả kết quả, Thông tư 01/2023/TT-VPCP) holding at least the dossier
code. Its payload encoding is not fixed by any text we could read, so three
forms are accepted: a JSON object, ``key=value`` lines (or ``;``/``&``
separated, as in a URL query) and a bare dossier code. Keys are matched
loosely (``maHoSo``, ``ma_ho_so``, ``dossier_code``…), because each provincial
system names them its own way.

zxing-cpp finds codes in any orientation and on skewed pages; the page is
read at its scanned resolution because a receipt's QR modules are under a
millimetre.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import zxingcpp
from PIL import Image

from scanner.codes import DOSSIER_CODE, PROCEDURE_CODE, parse_dossier_code


@dataclass(frozen=True)
class Receipt:
    """What a receipt's QR code says about the dossier it starts."""

    dossier_code: str
    procedure_code: str = ""
    owner_id: str = ""
    document_name: str = ""
    raw: str = ""


_KEYS = {
    "dossier_code": ("dossiercode", "mahoso", "hoso", "sohoso", "code", "ma"),
    "procedure_code": ("procedurecode", "matthc", "mathutuc", "thutuc", "tthc", "procedure"),
    "owner_id": ("ownerid", "madinhdanh", "sodinhdanh", "dinhdanh", "cccd", "cmnd", "applicantid", "masothue", "owner"),
    "document_name": ("documentname", "tengiayto", "tenvanban", "ten", "name"),
}


def _norm_key(key: str) -> str:
    decomposed = unicodedata.normalize("NFD", key.replace("đ", "d").replace("Đ", "D"))
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in decomposed if not unicodedata.combining(c)).lower())


def _pairs(text: str) -> dict[str, str] | None:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return None
        return {str(k): str(v) for k, v in data.items() if isinstance(v, str | int)} if isinstance(data, dict) else None
    if "://" in stripped:
        return dict(parse_qsl(urlsplit(stripped).query))
    if "=" in stripped or ":" in stripped:
        out: dict[str, str] = {}
        for part in re.split(r"[\n;&|]+", stripped):
            key, sep, value = part.partition("=") if "=" in part else part.partition(":")
            if sep:
                out[key.strip()] = value.strip()
        return out or None
    return None


def parse_receipt(text: str) -> Receipt | None:
    """The receipt described by a QR payload, or None if the payload names no valid dossier code."""
    text = unicodedata.normalize("NFC", text)
    if parse_dossier_code(text.strip()):
        return Receipt(dossier_code=text.strip(), raw=text)
    pairs = _pairs(text)
    if not pairs:
        return None
    found: dict[str, str] = {}
    for key, value in pairs.items():
        nk = _norm_key(key)
        for field, names in _KEYS.items():
            if field not in found and nk in names:
                found[field] = value.strip()
    code = found.get("dossier_code", "")
    if not parse_dossier_code(code):
        # A payload whose code key is unknown still counts when exactly one value is a dossier code.
        codes = [v for v in pairs.values() if DOSSIER_CODE.fullmatch(v.strip()) and parse_dossier_code(v.strip())]
        if len(codes) != 1:
            return None
        code = codes[0].strip()
    procedure = found.get("procedure_code", "")
    return Receipt(
        dossier_code=code,
        procedure_code=procedure if PROCEDURE_CODE.fullmatch(procedure) else "",
        owner_id=found.get("owner_id", ""),
        document_name=found.get("document_name", ""),
        raw=text,
    )


def read_codes(image: Path | Image.Image | np.ndarray) -> list[str]:
    """The texts of every QR code and barcode on a page image."""
    if isinstance(image, Path):
        with Image.open(image) as im:
            grey = im.convert("L")
            grey.load()
        image = grey
    found = zxingcpp.read_barcodes(image)
    return [unicodedata.normalize("NFC", b.text) for b in found if b.valid and b.text]
