"""A local test PKI with its services on 127.0.0.1: the world a PAdES B-T/LT/LTA signature needs.

A root CA issues an intermediate ("agency CA") and a time-stamping
authority; the intermediate issues the agency's signing certificate, which
names an OCSP responder (AIA) and a CRL (CRL distribution point); the
intermediate names the root's CRL. One small HTTP server on an ephemeral
port answers all of it:

* ``POST /ocsp`` — OCSP for any certificate issued here, signed by its issuer
  (no delegated responder), echoing the request's nonce;
* ``GET /crl/<ca>.crl`` — a fresh CRL of that CA;
* ``POST /tsa`` — RFC 3161 timestamps from the TSA certificate (pyHanko's
  test-grade TSA logic behind a real HTTP endpoint).

``revoke`` makes the next OCSP answer and CRL say "revoked". ``hits`` counts
the requests, so a test can prove that a verification fetched nothing.
Everything is built with ``cryptography`` in memory, 2048-bit RSA so the
whole PKI takes about a second.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

SIGNER_NAME = "Sở Tư pháp tỉnh Khánh Hòa"
SIGNER_CODE = "000.00.12.H32"
VALIDITY = timedelta(days=365)
REVINFO_VALIDITY = timedelta(days=7)


@dataclass
class Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey
    issuer: Issued | None = None  # None: self-signed

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


@dataclass
class TestPki:
    """The certificates and keys of the test PKI and the address of its services."""

    base_url: str
    root: Issued
    agency_ca: Issued
    signer: Issued
    tsa: Issued
    revoked: dict[int, datetime] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    def by_serial(self, serial: int) -> Issued | None:
        for item in (self.root, self.agency_ca, self.signer, self.tsa):
            if item.cert.serial_number == serial:
                return item
        return None

    def revoke(self, item: Issued) -> None:
        self.revoked[item.cert.serial_number] = datetime.now(UTC) - timedelta(minutes=5)

    def write_root(self, path: Path) -> Path:
        path.write_bytes(self.root.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def write_pkcs12(self, path: Path, password: str) -> Path:
        """The agency's key and certificate with the intermediate, as a CA would hand it over."""
        bundle = pkcs12.serialize_key_and_certificates(
            b"agency",
            self.signer.key,
            self.signer.cert,
            [self.agency_ca.cert],
            serialization.BestAvailableEncryption(password.encode()),
        )
        path.write_bytes(bundle)
        return path

    # --- the services -------------------------------------------------------------------------

    def ocsp_response(self, body: bytes) -> bytes:
        request = ocsp.load_der_ocsp_request(body)
        item = self.by_serial(request.serial_number)
        if item is None or item.issuer is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(
                serialization.Encoding.DER
            )
        now = datetime.now(UTC)
        revoked_at = self.revoked.get(request.serial_number)
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=item.cert,
            issuer=item.issuer.cert,
            algorithm=request.hash_algorithm,
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD,
            this_update=now - timedelta(minutes=1),
            next_update=now + REVINFO_VALIDITY,
            revocation_time=revoked_at,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked_at else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, item.issuer.cert)
        for ext in request.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        response = builder.sign(item.issuer.key, hashes.SHA256())
        return response.public_bytes(serialization.Encoding.DER)

    def crl(self, name: str) -> bytes | None:
        ca = {"root": self.root, "agency-ca": self.agency_ca}.get(name)
        if ca is None:
            return None
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca.cert.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + REVINFO_VALIDITY)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        )
        for serial, when in self.revoked.items():
            item = self.by_serial(serial)
            if item is not None and item.issuer is ca:
                builder = builder.add_revoked_certificate(
                    x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
                )
        return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def timestamp(self, body: bytes) -> bytes:
        key = asn1_keys.PrivateKeyInfo.load(
            self.tsa.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        tsa_cert = asn1_x509.Certificate.load(self.tsa.der)
        stamper = DummyTimeStamper(tsa_cert, key, certs_to_embed=[tsa_cert])
        return stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()


def _name(common_name: str, organisation: str = "") -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _issue(
    subject: x509.Name,
    issuer: Issued | None,
    *,
    ca: bool,
    base_url: str,
    crl: str | None = None,
    ocsp_url: bool = False,
    tsa: bool = False,
) -> Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC).replace(microsecond=0)
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca and issuer else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca and not tsa,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
    )
    if crl:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(f"{base_url}/crl/{crl}.crl")], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if ocsp_url:
        access = x509.AccessDescription(
            x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(f"{base_url}/ocsp")
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    if tsa:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return Issued(cert=builder.sign(signing_key, hashes.SHA256()), key=key, issuer=issuer)


def build_pki(base_url: str) -> TestPki:
    root = _issue(_name("CA gốc thử nghiệm", "Test PKI"), None, ca=True, base_url=base_url)
    agency_ca = _issue(_name("CA cơ quan thử nghiệm", "Test PKI"), root, ca=True, base_url=base_url, crl="root")
    signer = _issue(
        _name(SIGNER_NAME, SIGNER_NAME), agency_ca, ca=False, base_url=base_url, crl="agency-ca", ocsp_url=True
    )
    tsa = _issue(_name("TSA thử nghiệm", "Test PKI"), root, ca=False, base_url=base_url, crl="root", tsa=True)
    return TestPki(base_url=base_url, root=root, agency_ca=agency_ca, signer=signer, tsa=tsa)


def _handler(pki_box: list[TestPki]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 — keep pytest's output clean
            return

        def _reply(self, body: bytes | None, content_type: str) -> None:
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 — the name http.server calls
            pki = pki_box[0]
            pki.hits[self.path] += 1
            name = self.path.removeprefix("/crl/").removesuffix(".crl")
            self._reply(pki.crl(name) if self.path.startswith("/crl/") else None, "application/pkix-crl")

        def do_POST(self) -> None:  # noqa: N802
            pki = pki_box[0]
            pki.hits[self.path] += 1
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/ocsp":
                self._reply(pki.ocsp_response(body), "application/ocsp-response")
            elif self.path == "/tsa":
                self._reply(pki.timestamp(body), "application/timestamp-reply")
            else:
                self._reply(None, "")

    return Handler


@contextmanager
def running_pki() -> Iterator[TestPki]:
    """A fresh test PKI whose services answer on 127.0.0.1 until the block ends."""
    box: list[TestPki] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    box.append(build_pki(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, name="test-pki", daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
