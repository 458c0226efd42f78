"""A fresh self-signed ECDSA P-256 server certificate, made with the standard library only.

go-plugin's AutoMTLS wants a new server certificate at every launch, and Terraform launches the
provider 3-5 times per command. Measured on 2 vCPUs with grpc and protobuf already imported,
importing ``cryptography`` (x509 + ec) adds ~40 ms to a launch; this module adds ~13 ms: ~4 ms of
big-int arithmetic (key generation and one signature, Jacobian coordinates) and ~8 ms of stdlib
imports (hashlib, secrets, dataclasses, datetime) that the rest of the provider mostly makes anyway.

What it guarantees:

- The private key is uniform in [1, n-1], drawn from ``secrets`` (the OS CSPRNG), and exists only in
  this process (and, briefly, in the 0600 file the TLS terminator loads it from).
- The signature is ECDSA with SHA-256 (FIPS 186-4), with a fresh ``secrets`` nonce.
- The certificate is X.509 v3: serial a random positive 127-bit integer, issuer = subject =
  ``O=terraform-provider-humanitec, CN=localhost``, valid from now-30 s to now+365 days, SAN
  ``DNS:localhost`` (Go ignores the CN), EKU serverAuth + clientAuth, KeyUsage digitalSignature
  (critical), BasicConstraints CA:FALSE (critical).

It is not constant-time: big-int arithmetic leaks timing. That is acceptable because the only
secret operations done here are key generation and one signature, both finished before any
listener exists; the TLS handshakes that use the key later run inside OpenSSL.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = [
    "ServerCertificate",
    "forget_prepared_certificate",
    "make_server_certificate",
    "prepare_server_certificate",
]

_BACKDATE = timedelta(seconds=30)  # as go-plugin: tolerate small clock differences
_LIFETIME = timedelta(days=365)  # outlives any provider process; the key never leaves it

# NIST P-256 (FIPS 186-4 D.1.2.3): y^2 = x^3 - 3x + b over GF(p), base point G of prime order n.
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5

_Jacobian = tuple[int, int, int]  # (X, Y, Z) stands for (X/Z^2, Y/Z^3); Z == 0 is infinity


@dataclass(frozen=True)
class ServerCertificate:
    """A self-signed certificate and its private key.

    ``der`` is what the go-plugin handshake line carries (base64, no padding); ``cert_pem`` and
    ``key_pem`` (PKCS#8 ``PRIVATE KEY``) are what ``ssl.SSLContext.load_cert_chain`` reads.
    """

    der: bytes
    cert_pem: bytes
    key_pem: bytes = field(repr=False)  # secret: keep it out of logs and tracebacks


_prepared: list[ServerCertificate] = []


def prepare_server_certificate() -> None:
    """Make the next :func:`make_server_certificate` answer ahead of time.

    For a fork server: prepared before a fork, the child's handshake does not wait for the
    key generation. The parent must then :func:`forget_prepared_certificate`, so that each
    key serves one process only.
    """
    _prepared[:] = [make_server_certificate()]


def forget_prepared_certificate() -> None:
    _prepared.clear()


def make_server_certificate(*, now: datetime | None = None) -> ServerCertificate:
    """Make a new key pair and a self-signed certificate for ``localhost``, valid from ``now``-30 s.

    ``now`` must be timezone-aware (default: the current time); tests inject it. Takes ~4 ms,
    unless one was prepared (then that one, once).
    """
    if now is None and _prepared:
        return _prepared.pop()
    now = datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    secret = _random_scalar()
    public = _point_bytes(*_to_affine(_multiply_base(secret)))
    algorithm = _seq(_OID_EC_PUBLIC_KEY, _OID_P256)
    name = _seq(
        _tlv(0x31, _seq(_OID_ORGANIZATION, _tlv(0x0C, b"terraform-provider-humanitec"))),
        _tlv(0x31, _seq(_OID_COMMON_NAME, _tlv(0x0C, b"localhost"))),
    )
    extensions = _seq(
        _extension(_OID_SUBJECT_ALT_NAME, _seq(_tlv(0x82, b"localhost"))),
        _extension(_OID_EXT_KEY_USAGE, _seq(_OID_SERVER_AUTH, _OID_CLIENT_AUTH)),
        _extension(_OID_KEY_USAGE, _tlv(0x03, b"\x07\x80"), critical=True),  # digitalSignature
        _extension(_OID_BASIC_CONSTRAINTS, _seq(), critical=True),  # CA:FALSE
    )
    tbs = _seq(
        _tlv(0xA0, _int(2)),  # version v3
        _int(1 + secrets.randbelow((1 << 127) - 1)),
        _seq(_OID_ECDSA_WITH_SHA256),
        name,
        _seq(_time(now - _BACKDATE), _time(now + _LIFETIME)),
        name,
        _seq(algorithm, _tlv(0x03, b"\x00" + public)),
        _tlv(0xA3, extensions),
    )
    r, s = _sign(secret, tbs)
    der = _seq(tbs, _seq(_OID_ECDSA_WITH_SHA256), _tlv(0x03, b"\x00" + _seq(_int(r), _int(s))))
    ec_private_key = _seq(
        _int(1), _tlv(0x04, secret.to_bytes(32, "big")), _tlv(0xA1, _tlv(0x03, b"\x00" + public))
    )
    pkcs8 = _seq(_int(0), algorithm, _tlv(0x04, ec_private_key))
    return ServerCertificate(der, _pem("CERTIFICATE", der), _pem("PRIVATE KEY", pkcs8))


# --- ECDSA over P-256 --------------------------------------------------------------------------


def _random_scalar() -> int:
    return 1 + secrets.randbelow(_N - 1)


def _sign(secret: int, message: bytes) -> tuple[int, int]:
    # A fresh nonce from the OS CSPRNG rather than RFC 6979: the key comes from the same CSPRNG,
    # so deterministic nonces would not protect it from a bad RNG, and the key signs exactly one
    # message, so a nonce can never repeat under it. HMAC-DRBG would be code with no benefit.
    digest = int.from_bytes(hashlib.sha256(message).digest(), "big")  # n is 256 bits: no truncation
    while True:
        nonce = _random_scalar()
        r = _to_affine(_multiply_base(nonce))[0] % _N
        s = pow(nonce, -1, _N) * (digest + r * secret) % _N
        if r and s:
            return r, s


def _multiply_base(k: int) -> _Jacobian:
    """k*G, left to right, one doubling per bit and one mixed addition per set bit."""
    acc: _Jacobian = (1, 1, 0)
    for bit in bin(k)[2:]:
        acc = _double(acc)
        if bit == "1":
            acc = _add_affine(acc, _GX, _GY)
    return acc


def _double(p: _Jacobian) -> _Jacobian:
    # dbl-2001-b (a = -3), from the Explicit-Formulas Database.
    x, y, z = p
    if z == 0 or y == 0:
        return (1, 1, 0)
    delta = z * z % _P
    gamma = y * y % _P
    beta = x * gamma % _P
    alpha = 3 * (x - delta) * (x + delta) % _P
    x3 = (alpha * alpha - 8 * beta) % _P
    z3 = ((y + z) ** 2 - gamma - delta) % _P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % _P
    return (x3, y3, z3)


def _add_affine(p: _Jacobian, x2: int, y2: int) -> _Jacobian:
    # madd-2007-bl: Jacobian p plus affine (x2, y2).
    x1, y1, z1 = p
    if z1 == 0:
        return (x2, y2, 1)
    z1z1 = z1 * z1 % _P
    h = (x2 * z1z1 - x1) % _P
    r = 2 * (y2 * z1 * z1z1 - y1) % _P
    if h == 0:
        return _double(p) if r == 0 else (1, 1, 0)
    hh = h * h % _P
    i = 4 * hh % _P
    j = h * i % _P
    v = x1 * i % _P
    x3 = (r * r - j - 2 * v) % _P
    y3 = (r * (v - x3) - 2 * y1 * j) % _P
    z3 = ((z1 + h) ** 2 - z1z1 - hh) % _P
    return (x3, y3, z3)


def _to_affine(p: _Jacobian) -> tuple[int, int]:
    x, y, z = p
    if z == 0:
        raise ArithmeticError("point at infinity")
    z_inv = pow(z, -1, _P)
    z_inv2 = z_inv * z_inv % _P
    return x * z_inv2 % _P, y * z_inv2 * z_inv % _P


def _point_bytes(x: int, y: int) -> bytes:
    # A fault here would yield a certificate Terraform rejects; checking costs microseconds.
    if (y * y - x * x * x + 3 * x - _B) % _P:
        raise ArithmeticError("public key is not on P-256")
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")  # SEC 1 uncompressed


# --- DER ---------------------------------------------------------------------------------------


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _int(value: int) -> bytes:
    """A non-negative INTEGER: minimal big-endian, with a 0x00 prefix when the top bit is set."""
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    body = bytearray()
    for arc in (40 * first + second, *rest):
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | arc & 0x7F)
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _time(t: datetime) -> bytes:
    t = t.astimezone(UTC)
    if 1950 <= t.year < 2050:  # RFC 5280 4.1.2.5: UTCTime until 2049, GeneralizedTime after
        return _tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


def _extension(oid: bytes, value: bytes, *, critical: bool = False) -> bytes:
    return _seq(oid, b"\x01\x01\xff" if critical else b"", _tlv(0x04, value))


def _pem(label: str, der: bytes) -> bytes:
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


_OID_EC_PUBLIC_KEY = _oid("1.2.840.10045.2.1")
_OID_P256 = _oid("1.2.840.10045.3.1.7")
_OID_ECDSA_WITH_SHA256 = _oid("1.2.840.10045.4.3.2")
_OID_COMMON_NAME = _oid("2.5.4.3")
_OID_ORGANIZATION = _oid("2.5.4.10")
_OID_KEY_USAGE = _oid("2.5.29.15")
_OID_SUBJECT_ALT_NAME = _oid("2.5.29.17")
_OID_BASIC_CONSTRAINTS = _oid("2.5.29.19")
_OID_EXT_KEY_USAGE = _oid("2.5.29.37")
_OID_SERVER_AUTH = _oid("1.3.6.1.5.5.7.3.1")
_OID_CLIENT_AUTH = _oid("1.3.6.1.5.5.7.3.2")
