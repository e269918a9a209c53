"""The agency key on a PKCS#11 token (USB token or HSM): the one place that talks to the token library.

Vietnamese CAs hand out signing keys on USB tokens whose labels are typed
in Vietnamese ("Kho lưu trữ Sở Tư pháp"). The same label can reach us in two
spellings: composed (NFC, what a Vietnamese keyboard on Windows sends and
what the configuration file holds after loading) and decomposed (NFD, what
some tools and macOS write into the token), and PKCS#11 compares the bytes.
Tokens and keys are therefore looked up here by walking the slots and the
key objects and comparing labels in NFC, never by handing the label to the
library; a key found by label is then used through its CKA_ID, which is
what pyHanko and the token agree on byte for byte. PKCS#11 labels are 32
bytes blank-padded, so a longer label is compared on what fits.

The PIN comes as a :class:`Secret` and goes only to ``C_Login``; the error
messages say "sai mã PIN" without it, and the token session is closed when
the signing is done.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import x509

from scanner.config import Secret
from scanner.errors import SigningError

log = logging.getLogger(__name__)

LABEL_BYTES = 32  # CK_TOKEN_INFO.label


@dataclass(frozen=True)
class TokenKey:
    """Where the key is: the PKCS#11 module, the token's label, and the key's id (preferred) or label."""

    module: Path
    token_label: str
    pin: Secret
    key_id: bytes | None = None
    key_label: str = ""


def same_label(stored: str, wanted: str, *, limit: int | None = None) -> bool:
    """Whether label STORED (as the token has it) is label WANTED, in NFC, blank padding aside.

    With LIMIT (bytes), a WANTED longer than the field is compared on the
    part that fits, cut at a character boundary, as the token would have
    stored it.
    """
    a = unicodedata.normalize("NFC", stored.rstrip(" \x00"))
    b = unicodedata.normalize("NFC", wanted.strip())
    if limit is not None and len(b.encode("utf-8")) > limit:
        b = b.encode("utf-8")[:limit].decode("utf-8", "ignore").rstrip()
        a = a.encode("utf-8")[:limit].decode("utf-8", "ignore").rstrip()
    return a == b


@contextmanager
def open_token(spec: TokenKey) -> Iterator[tuple[Any, x509.Certificate]]:
    """A pyHanko signer for the key in SPEC and its certificate; the session is closed afterwards."""
    from pkcs11 import Attribute, ObjectClass
    from pkcs11 import exceptions as p11
    from pyhanko.sign.pkcs11 import PKCS11Signer

    token = _find_token(spec)
    try:
        session = token.open(user_pin=spec.pin.reveal())
    except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange):
        raise SigningError(
            f"sai mã PIN của token '{spec.token_label}'",
            f"wrong PIN for token {spec.token_label!r}",
            code="sign-password",
        ) from None
    except p11.PinLocked:
        raise SigningError(
            f"token '{spec.token_label}' đã bị khóa PIN — liên hệ tổ chức cung cấp chứng thư để mở khóa",
            f"the PIN of token {spec.token_label!r} is locked",
            code="sign-password",
        ) from None
    except p11.PKCS11Error as exc:
        raise SigningError(
            f"không mở được phiên làm việc với token '{spec.token_label}' ({type(exc).__name__})",
            f"cannot open a session on token {spec.token_label!r} ({type(exc).__name__})",
        ) from None
    try:
        key_id = spec.key_id if spec.key_id is not None else _key_id_by_label(session, spec, Attribute, ObjectClass)
        signer = PKCS11Signer(session, key_id=key_id, cert_id=key_id, other_certs_to_pull=None)
        try:
            cert = signer.signing_cert
        except Exception as exc:  # noqa: BLE001 — pyHanko raises its own error types for a missing object
            log.info("no certificate with id %s on the token: %s", key_id.hex(), type(exc).__name__)
            raise SigningError(
                f"token '{spec.token_label}' không có khóa/chứng thư với key_id {key_id.hex()}",
                f"token {spec.token_label!r} has no key/certificate with id {key_id.hex()}",
            ) from None
        yield signer, cert
    finally:
        session.close()


@functools.cache
def _library(module: Path) -> Any:
    """The PKCS#11 module, loaded once per process (C_Initialize may run only once)."""
    import pkcs11

    try:
        return pkcs11.lib(str(module))
    except (OSError, RuntimeError, pkcs11.exceptions.PKCS11Error) as exc:
        raise SigningError(
            f"không nạp được thư viện PKCS#11 {module} ({type(exc).__name__}) — kiểm tra signing.pkcs11_module",
            f"cannot load the PKCS#11 module {module} ({type(exc).__name__}); check signing.pkcs11_module",
        ) from None


def _find_token(spec: TokenKey) -> Any:
    lib = _library(spec.module)
    seen: list[str] = []
    for slot in lib.get_slots(token_present=True):
        token = slot.get_token()
        label = _text(token.label)
        seen.append(label.rstrip())
        if same_label(label, spec.token_label, limit=LABEL_BYTES):
            return token
    present = ", ".join(f"'{s}'" for s in seen) or "không có token nào"
    raise SigningError(
        f"không tìm thấy token '{spec.token_label}' (đang cắm: {present})",
        f"token {spec.token_label!r} not found (present: {', '.join(seen) or 'none'})",
        code="sign-token",
    )


def _key_id_by_label(session: Any, spec: TokenKey, attribute: Any, object_class: Any) -> bytes:
    found: list[bytes] = []
    for key in session.get_objects({attribute.CLASS: object_class.PRIVATE_KEY}):
        if same_label(_text(key[attribute.LABEL]), spec.key_label):
            found.append(bytes(key[attribute.ID]))
    if len(found) == 1:
        return found[0]
    if not found:
        raise SigningError(
            f"token '{spec.token_label}' không có khóa bí mật nhãn '{spec.key_label}'",
            f"token {spec.token_label!r} has no private key labelled {spec.key_label!r}",
            code="sign-token",
        )
    raise SigningError(
        f"token '{spec.token_label}' có {len(found)} khóa nhãn '{spec.key_label}' — khai báo signing.key_id",
        f"token {spec.token_label!r} has {len(found)} keys labelled {spec.key_label!r}; set signing.key_id",
        code="sign-token",
    )


def _text(value: str | bytes) -> str:
    """A label as text: python-pkcs11 gives str, some versions bytes; invalid UTF-8 is kept visible."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
