"""Fixtures shared by the TLS terminator's and the native server's tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from provider.plugin._certificate import ServerCertificate, make_server_certificate
from tests.goplugin import Identity, make_identity


@pytest.fixture(scope="module")
def terraform() -> Identity:
    """Terraform's own client certificate: ECDSA P-521 with SHA-512, as go-plugin makes it."""
    return make_identity(ec.SECP521R1())


@pytest.fixture(scope="module")
def server_certificate() -> ServerCertificate:
    return make_server_certificate()


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Short and private: a unix socket path must fit in 108 bytes, and the key is written here.
    path = Path(tempfile.mkdtemp(prefix="tls-"))
    yield path
    shutil.rmtree(path)
