"""The TLS server context every server of ours uses: Terraform's certificate, and only it.

Apart from :mod:`._tls` (grpcio's terminator, which needs asyncio) so that the native server's
launch imports only ``ssl``.
"""

from __future__ import annotations

import os
import secrets
import ssl
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provider.plugin._certificate import ServerCertificate

__all__ = ["describe_error", "server_context"]


def server_context(
    certificate: ServerCertificate, client_certificate_pem: str, workdir: Path
) -> ssl.SSLContext:
    """TLS 1.2+ with h2, our certificate, and only ``client_certificate_pem`` trusted.

    Raises ``ValueError`` or ``ssl.SSLError`` when ``client_certificate_pem`` holds no
    certificate, and ``OSError`` when the key file cannot be written in ``workdir``.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=client_certificate_pem)
    context.set_alpn_protocols(["h2"])  # Terraform >= 1.15 refuses a connection without it
    context.num_tickets = 0  # nobody resumes sessions: don't pay for tickets on each connection
    context.options |= ssl.OP_NO_TICKET
    # OpenSSL reads keys only from files: 0600, O_EXCL, in the private workdir, gone at once.
    path = workdir / f"server-{secrets.token_hex(8)}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(certificate.cert_pem + certificate.key_pem)
        context.load_cert_chain(path)
    finally:
        path.unlink()
    return context


def describe_error(exc: BaseException) -> str:
    """The exception's class and OpenSSL reason: enough to debug, nothing from the peer."""
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    return f"{type(exc).__name__}({reason})" if reason else type(exc).__name__
