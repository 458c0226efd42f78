"""Client certificates shaped like the ones Terraform's go-plugin presents (AutoMTLS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Identity:
    cert_pem: bytes
    key_pem: bytes


def make_identity(curve: ec.EllipticCurve) -> Identity:
    """A certificate shaped like go-plugin's generateCert() (mtls.go), on the given curve.

    Terraform's own is ECDSA P-521 signed with SHA-512; grpcio's client can only present
    P-256 (BoringSSL has no P-521), so gRPC-level tests use that curve.
    """
    digest: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 = hashes.SHA256()
    if isinstance(curve, ec.SECP521R1):
        digest = hashes.SHA512()
    elif isinstance(curve, ec.SECP384R1):
        digest = hashes.SHA384()
    key = ec.generate_private_key(curve)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=True,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    eku = [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(seconds=30))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .sign(key, digest)
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Identity(cert.public_bytes(serialization.Encoding.PEM), key_pem)
