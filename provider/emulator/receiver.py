"""A webhook receiver for trying webhooks locally: HTTPS on loopback, recording what arrives.

The demo and the end-to-end tests point webhooks at it and start the emulator with
``--ca-file`` set to the receiver's throwaway CA, so the emulator verifies it exactly as
it would a public receiver::

    ca = ThrowawayCA()
    with Receiver(*ca.issue()) as receiver:   # https://127.0.0.1:PORT
        ca.write(tmp / "ca.pem")              # give this to --ca-file
        ...
        receiver.received("/hooks/deploy")    # [Received(path, headers, body), ...]

``receiver.answer(path, 503, 503)`` scripts the next answers for a path (then 200), to
try retries. Making certificates needs the ``cryptography`` package (in the ``dev``
extra); it is imported only by :class:`ThrowawayCA`.
"""

from __future__ import annotations

import json
import ssl
import tempfile
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = ["Received", "Receiver", "ThrowawayCA"]

_MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Received:
    """One request as it arrived; header names are lower-case."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ThrowawayCA:
    """A certificate authority made for one run, whose key never leaves this process."""

    def __init__(self, name: str = "humanitec-emulator throwaway CA") -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        public = self._key.public_key()
        self._cert = (
            _builder(self._name, self._name, public)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.cert_pem = self._cert.public_bytes(serialization.Encoding.PEM)
        """The CA certificate (PEM): what ``--ca-file`` needs."""

    def write(self, path: Path) -> Path:
        """Write the CA certificate to ``path`` and return it."""
        path.write_bytes(self.cert_pem)
        return path

    def issue(self, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> tuple[bytes, bytes]:
        """A server certificate for ``hosts`` signed by this CA: ``(cert_pem, key_pem)``."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
        ca_key_id = self._cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        cert = (
            _builder(subject, self._name, key.public_key())
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id.value),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), key_pem


class Receiver:
    """An HTTPS server on a free loopback port, on a thread; a context manager.

    Records every POST and answers it with the next scripted status for its path, else
    200. ``url`` is valid from construction. Without a certificate it serves plain HTTP
    (for trying ``--allow-http``).
    """

    def __init__(
        self,
        cert_pem: bytes | None = None,
        key_pem: bytes | None = None,
        *,
        host: str = "127.0.0.1",
    ) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._script: defaultdict[str, deque[int]] = defaultdict(deque)
        context = None
        if cert_pem is not None and key_pem is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with tempfile.TemporaryDirectory(prefix="receiver-") as tmp:
                # load_cert_chain reads files only; they live just long enough to be read.
                (Path(tmp) / "cert.pem").write_bytes(cert_pem)
                (Path(tmp) / "key.pem").write_bytes(key_pem)
                context.load_cert_chain(Path(tmp) / "cert.pem", Path(tmp) / "key.pem")
        self._server = ThreadingHTTPServer((host, 0), _handler_for(self))
        self._server.daemon_threads = True
        if context is not None:
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        scheme = "http" if context is None else "https"
        port = self._server.server_address[1]
        self.url = f"{scheme}://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"receiver {self.url}", daemon=True
        )

    def answer(self, path: str, *statuses: int) -> None:
        """Answer the next requests to ``path`` with ``statuses``, in order."""
        with self._lock:
            self._script[path].extend(statuses)

    def received(self, path: str | None = None) -> list[Received]:
        """What arrived (at ``path``, or anywhere), in order of arrival."""
        with self._lock:
            return [r for r in self._received if path is None or r.path == path]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the port; idempotent."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, received: Received) -> int:
        with self._lock:
            self._received.append(received)
            script = self._script[received.path]
            return script.popleft() if script else 200


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length", "0") or 0), _MAX_BODY)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = receiver._record(Received(self.path, headers, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the caller reads ``received()``."""

    return Handler


def _builder(subject: Any, issuer: Any, public_key: Any) -> Any:
    from cryptography import x509

    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
    )


def _key_usage(*, ca: bool) -> Any:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
