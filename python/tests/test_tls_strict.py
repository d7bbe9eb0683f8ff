"""TLS strictness (issue 10, item 5): host names match subjectAltName only, and
the CA path and client certificate files are checked when the Client is built.

The servers are Python's ssl module on loopback ports, each with a certificate
made here (cryptography, the library trustme builds on): one CA, a leaf with
only ``CN=localhost`` and no subjectAltName (what browsers refuse, RFC 6125
§6.4.4), the same with ``DNS:localhost`` (accepted), and one naming 127.0.0.1
only as CN and dNSName (an IP literal needs an iPAddress SAN).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from servers import Nginx, RawServer, read_head

from fasthttp import Client
from fasthttp import errors as E

Key = ec.EllipticCurvePrivateKey


def _cert(cn: str, key: Key, issuer: x509.Certificate | None, issuer_key: Key,
          san: list[x509.GeneralName] | None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder()
         .subject_name(name)
         .issuer_name(issuer.subject if issuer else name)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None),
                        critical=True))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class Certs:
    def __init__(self, d: Path) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert("fasthttp strict-TLS test CA", ca_key, None, ca_key, None)
        self.dir = d
        self.ca = d / "ca.pem"
        self.ca.write_bytes(_pem(ca))
        self.leaf_key = ec.generate_private_key(ec.SECP256R1())
        (d / "leaf.key").write_bytes(_key_pem(self.leaf_key))
        ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        leaves = {
            "cn_only": ("localhost", None),
            "san": ("localhost", [x509.DNSName("localhost")]),
            "ip_as_dns": ("127.0.0.1", [x509.DNSName("127.0.0.1")]),
            "ip_san": ("127.0.0.1", [ip]),
        }
        for name, (cn, san) in leaves.items():
            (d / f"{name}.pem").write_bytes(_pem(_cert(cn, self.leaf_key, ca, ca_key, san)))


class TLSServer:
    """Answers every request with 200 "ok" over TLS with one certificate; counts
    completed handshakes."""

    def __init__(self, certs: Certs, leaf: str) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certs.dir / f"{leaf}.pem", certs.dir / "leaf.key")
        self.handshakes = 0
        self.raw = RawServer(self._handle)
        self.port = self.raw.port

    def _handle(self, conn: socket.socket) -> None:
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused the certificate
        self.handshakes += 1
        if read_head(tls):  # type: ignore[arg-type]
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        tls.close()

    def close(self) -> None:
        self.raw.close()


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return Certs(tmp_path_factory.mktemp("strict-tls"))


@pytest.fixture
def serve(certs: Certs) -> Iterator[dict[str, TLSServer]]:
    """One server per leaf certificate: cn_only, san, ip_as_dns, ip_san."""
    servers = {leaf: TLSServer(certs, leaf) for leaf in ("cn_only", "san", "ip_as_dns", "ip_san")}
    yield servers
    for s in servers.values():
        s.close()


# ---- host name matching --------------------------------------------------------------------


def test_cn_only_certificate_refused(certs: Certs, serve: dict[str, TLSServer]) -> None:
    cn_only = serve["cn_only"]
    with Client(verify=str(certs.ca)) as c, pytest.raises(E.CertificateError) as info:
        c.get(f"https://localhost:{cn_only.port}/")
    assert "hostname mismatch" in str(info.value)
    assert cn_only.handshakes == 0


def test_san_certificate_of_the_same_ca_accepted(certs: Certs,
                                                 serve: dict[str, TLSServer]) -> None:
    with Client(verify=certs.ca) as c:  # a Path works as well as a str
        r = c.get(f"https://localhost:{serve['san'].port}/")
    assert r.status_code == 200 and r.content == b"ok"


def test_cn_only_refused_asyncio(certs: Certs, serve: dict[str, TLSServer]) -> None:
    url = f"https://localhost:{serve['cn_only'].port}/"

    async def main() -> None:
        async with Client(verify=str(certs.ca)) as c:
            with pytest.raises(E.CertificateError, match="hostname mismatch"):
                await c.get(url)
            ok = await c.get(f"https://localhost:{serve['san'].port}/")
            assert ok.status_code == 200

    asyncio.run(main())


def test_ip_literal_needs_an_ip_san(certs: Certs, serve: dict[str, TLSServer]) -> None:
    with Client(verify=str(certs.ca)) as c:
        with pytest.raises(E.CertificateError, match="IP address mismatch"):
            c.get(f"https://127.0.0.1:{serve['ip_as_dns'].port}/")
        assert c.get(f"https://127.0.0.1:{serve['ip_san'].port}/").status_code == 200


# ---- files checked when the Client is built --------------------------------------------------


def test_missing_ca_path(tmp_path: Path) -> None:
    path = str(tmp_path / "none.pem")
    with pytest.raises(FileNotFoundError) as info:
        Client(verify=path)
    assert str(info.value).startswith("[Errno 2] verify: ")
    assert path in str(info.value) and "does not exist" in str(info.value)


def test_ca_file_that_is_not_pem(tmp_path: Path, certs: Certs) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a certificate\n")
    for bad in (notes, certs.dir / "leaf.key"):
        with pytest.raises(ValueError, match=r"verify: CA file '.*' holds no PEM certificate"):
            Client(verify=str(bad))


def test_ca_directory(tmp_path: Path, nginx: Nginx) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="verify: CA directory .* no hashed certificate"):
        Client(verify=str(empty))
    hashed = tmp_path / "hashed"
    hashed.mkdir()
    subject_hash = subprocess.run(
        ["openssl", "x509", "-noout", "-subject_hash", "-in", nginx.ca_file],
        check=True, capture_output=True, text=True).stdout.strip()
    (hashed / f"{subject_hash}.0").write_bytes(Path(nginx.ca_file).read_bytes())
    with Client(verify=str(hashed)) as c:
        assert c.get(nginx.https + "/json").status_code == 200


def test_client_certificate_files(tmp_path: Path, nginx: Nginx) -> None:
    missing = str(tmp_path / "client.pem")
    with pytest.raises(FileNotFoundError, match=r"cert: client certificate '.*' does not exist"):
        Client(cert=missing)
    with pytest.raises(FileNotFoundError, match=r"cert: client key '.*' does not exist"):
        Client(cert=(nginx.client_cert, missing))
    with pytest.raises(IsADirectoryError, match="cert: .* is a directory"):
        Client(cert=str(tmp_path))
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    with pytest.raises(ValueError, match=r"cert: cannot load client certificate '.*notes.txt'"):
        Client(cert=str(notes))
    other = Path(nginx.dir, "server.key")  # a key of another certificate
    with pytest.raises(ValueError, match="cert: .* the key does not match the certificate"):
        Client(cert=(nginx.client_cert, str(other)))
    # A certificate file without the key, used for both.
    with pytest.raises(ValueError, match="cert: .*holds no PEM private key"):
        Client(cert=nginx.client_cert)
    with pytest.raises(ValueError, match="cert: the path contains a NUL character"):
        Client(cert="a\0b")
    # What works: (cert, key), one file with both, and os.PathLike paths.
    Client(cert=(nginx.client_cert, nginx.client_key)).close()
    Client(cert=Path(nginx.client_pem)).close()
    Client(cert=(Path(nginx.client_pem), None)).close()


def test_ca_path_that_is_not_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it must not block the constructor
    with pytest.raises(OSError, match="verify: CA file '.*' is not a regular file"):
        Client(verify=str(fifo))
