"""A local S3-compatible server for the storage tests: moto in server mode, on 127.0.0.1, buckets with Object Lock.

What moto enforces, checked by ``tests/archive/test_storage.py``: a locked
version (COMPLIANCE, GOVERNANCE, legal hold) cannot be deleted, a
conditional PUT (``If-None-Match: *``) on an existing key is refused, a PUT
with retention needs a checksum header, and a COMPLIANCE version refuses
deletion even with the GOVERNANCE bypass header. What it does not (moto
5.2.5): it accepts a ``ChecksumSHA256`` that does not match the body, lets
a COMPLIANCE retention be shortened or turned into GOVERNANCE (which a
bypass then deletes), and checks no permissions (any caller may bypass
GOVERNANCE). Those are the store's own guarantees; the tests do not claim
them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

REGION = "us-east-1"
KEY_ENV, SECRET_ENV = "SCANNER_TEST_S3_KEY", "SCANNER_TEST_S3_SECRET"
KEY, SECRET = "khoa-thu-nghiem", "bi-mat-thu-nghiem-khong-duoc-in-ra"
_names = itertools.count(1)


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=KEY,
                            aws_secret_access_key=SECRET)  # fmt: skip

    def bucket(self) -> str:
        """A new bucket with Object Lock enabled (and so versioning), as an administrator would make it."""
        name = f"kho-luu-tru-{next(_names)}"
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        return name


def dossier_keys(found: list[dict[str, Any]]) -> list[str]:
    """The keys of dossier files among FOUND objects or versions, sorted: the audit checkpoints live beside them."""
    return sorted(o["Key"] for o in found if not o["Key"].startswith(".audit/"))


def running_s3() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
