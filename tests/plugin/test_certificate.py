"""The stdlib-only server certificate, checked against an independent X.509/ECDSA implementation."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

from provider.plugin._certificate import (
    ServerCertificate,
    forget_prepared_certificate,
    make_server_certificate,
    prepare_server_certificate,
)
from tests.fresh import fresh_python


def _parse(certificate: ServerCertificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.der)


def _verified_public_key(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    """The certificate's key, after checking that it made the certificate's signature."""
    public_key = cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    return public_key


def test_certificate_has_the_fields_go_plugin_needs() -> None:
    cert = _parse(make_server_certificate())

    assert cert.version == x509.Version.v3
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "localhost"
    organization = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert organization == "terraform-provider-humanitec"
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
    public_key = cert.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP256R1)
    assert 0 < cert.serial_number < 2**127

    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == ["localhost"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical
    assert key_usage.value.digital_signature
    assert not key_usage.value.key_cert_sign
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical
    assert not basic.value.ca


@pytest.mark.parametrize(
    "now",
    [
        datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC),
        datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC),  # notAfter needs GeneralizedTime
        datetime(2031, 5, 6, 9, 8, 9, 999_999, tzinfo=timezone(timedelta(hours=2))),
    ],
    ids=["utc-time", "generalized-time-after-2049", "other-zone-microseconds-dropped"],
)
def test_validity_follows_the_injected_clock(now: datetime) -> None:
    cert = _parse(make_server_certificate(now=now))

    whole_seconds = now.replace(microsecond=0)
    assert cert.not_valid_before_utc == whole_seconds - timedelta(seconds=30)
    assert cert.not_valid_after_utc == whole_seconds + timedelta(days=365)


def test_validity_starts_just_before_now_by_default() -> None:
    before = datetime.now(UTC)
    cert = _parse(make_server_certificate())
    after = datetime.now(UTC)

    backdate = timedelta(seconds=30)
    assert before.replace(microsecond=0) - backdate <= cert.not_valid_before_utc <= after - backdate


def test_naive_clock_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_server_certificate(now=datetime(2031, 1, 1))


def test_fifty_certificates_all_verify_and_match_their_keys() -> None:
    # r, s and the serial vary in length and top bit: a DER INTEGER bug shows up within 50 tries.
    serials = set()
    for _ in range(50):
        certificate = make_server_certificate()
        cert = _parse(certificate)
        public_key = _verified_public_key(cert)
        key = serialization.load_pem_private_key(certificate.key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        derived = ec.derive_private_key(key.private_numbers().private_value, ec.SECP256R1())
        assert derived.public_key().public_numbers() == public_key.public_numbers()
        assert ssl.PEM_cert_to_DER_cert(certificate.cert_pem.decode()) == certificate.der
        serials.add(cert.serial_number)
    assert len(serials) == 50


def test_openssl_accepts_the_key_and_certificate_pair(tmp_path: Path) -> None:
    certificate = make_server_certificate()
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.cert_pem)
    key_file.write_bytes(certificate.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)

    context.load_cert_chain(cert_file, key_file)

    assert certificate.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8
    other = make_server_certificate()
    key_file.write_bytes(other.key_pem)
    with pytest.raises(ssl.SSLError, match="KEY_VALUES_MISMATCH"):
        context.load_cert_chain(cert_file, key_file)


def test_repr_does_not_show_the_private_key() -> None:
    certificate = make_server_certificate()

    assert "key_pem" not in repr(certificate)
    assert certificate.key_pem.decode() not in repr(certificate)


def test_importing_and_using_it_does_not_load_cryptography() -> None:
    printed = fresh_python(
        "from provider.plugin._certificate import make_server_certificate",
        "make_server_certificate()",
        "print('cryptography' in sys.modules)",
    )
    assert printed == "False\n", "cryptography was imported"


def test_a_prepared_certificate_is_handed_out_once_and_can_be_forgotten() -> None:
    prepare_server_certificate()
    first = make_server_certificate()
    assert make_server_certificate().key_pem != first.key_pem  # used up: a fresh key next
    prepare_server_certificate()
    forget_prepared_certificate()  # what a fork server's parent does after the fork
    assert make_server_certificate().key_pem != first.key_pem
