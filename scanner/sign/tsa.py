"""The time-stamping authority (RFC 3161 over HTTP): the one place that talks to it.

PAdES B-T and above put a TSA's timestamp on the signature, proving it
existed at that moment; B-LTA adds one over the whole document. pyHanko's
own HTTP clients would do, but they report a TSA that is down as a bare
``IOError``, which the signing step cannot tell from a disk error; here a
failure becomes a :class:`SigningError` that tells the clerk the TSA is
unreachable (the job then waits for the next attempt instead of being
quarantined). Plain ``urllib`` is enough for one POST per signature.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper

from scanner.errors import SigningError

log = logging.getLogger(__name__)

TIMEOUT = 30.0


class HttpTimeStamper(TimeStamper):
    """RFC 3161 requests to URL, with a nonce, over HTTP(S) POST."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT) -> None:
        super().__init__(include_nonce=True)
        self.url = url
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        body = await asyncio.to_thread(self._post, req.dump())
        try:
            return tsp.TimeStampResp.load(body)
        except ValueError:
            raise _unusable(
                self.url, "câu trả lời không phải RFC 3161", "the answer is not an RFC 3161 response"
            ) from None

    def _post(self, data: bytes) -> bytes:
        request = urllib.request.Request(
            self.url,
            data=data,
            headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read()
        except urllib.error.HTTPError as exc:
            raise _unusable(self.url, f"mã lỗi HTTP {exc.code}", f"HTTP status {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            log.info("TSA %s unreachable: %s", _host(self.url), reason)
            raise _unusable(self.url, "không kết nối được", f"unreachable ({reason})") from None
        return body


def _host(url: str) -> str:
    """The TSA's scheme://host:port only: a URL may carry credentials, which never go into a message."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}"


def _unusable(url: str, vi: str, en: str) -> SigningError:
    return SigningError(
        f"máy chủ dấu thời gian (TSA) {_host(url)}: {vi} — chưa ký được mức có dấu thời gian, sẽ thử lại",
        f"time-stamping authority {_host(url)}: {en}",
        code="sign-tsa",
    )
