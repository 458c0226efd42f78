"""The provider process as Terraform sees it: handshake, mutual TLS, lifecycle.

Each test launches the real console script with the environment go-plugin
gives it, and talks to it over real TLS and gRPC.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provider.plugin._proto import grpc_controller_pb2, tfplugin6_pb2
from provider.plugin.serve import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, handshake_line
from tests.goplugin import Identity, make_identity

PROVIDER = str(Path(sys.executable).parent / "terraform-provider-humanitec")
TIMEOUT = 20


@dataclass
class Launched:
    process: subprocess.Popen[str]
    handshake: list[str]

    @property
    def address(self) -> str:
        return self.handshake[3]

    @property
    def server_cert_der(self) -> bytes:
        raw = self.handshake[5]
        return base64.b64decode(raw + "=" * (-len(raw) % 4))


def plugin_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    env.update(extra)
    return env


def launch(env: dict[str, str]) -> Launched:
    process = subprocess.Popen(
        [PROVIDER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.endswith("\n"), f"no handshake line; stderr: {process.stderr}"
    return Launched(process, line.rstrip("\n").split("|"))


@pytest.fixture
def p256_client() -> Identity:
    return make_identity(ec.SECP256R1())


@pytest.fixture
def launched(p256_client: Identity) -> Iterator[Launched]:
    env = plugin_env(
        **{
            MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE,
            "PLUGIN_PROTOCOL_VERSIONS": "6,5",
            "PLUGIN_CLIENT_CERT": p256_client.cert_pem.decode(),
        }
    )
    started = launch(env)
    yield started
    if started.process.poll() is None:
        started.process.kill()
    started.process.communicate(timeout=TIMEOUT)


def secure_channel(launched: Launched, client: Identity | None) -> grpc.Channel:
    server_pem = serialization.Encoding.PEM
    cert = x509.load_der_x509_certificate(launched.server_cert_der).public_bytes(server_pem)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=cert,
        private_key=client.key_pem if client else None,
        certificate_chain=client.cert_pem if client else None,
    )
    return grpc.secure_channel(
        launched.address, credentials, options=[("grpc.ssl_target_name_override", "localhost")]
    )


def get_schema(channel: grpc.Channel) -> tfplugin6_pb2.GetProviderSchema.Response:
    call = channel.unary_unary(
        "/tfplugin6.Provider/GetProviderSchema",
        request_serializer=tfplugin6_pb2.GetProviderSchema.Request.SerializeToString,
        response_deserializer=tfplugin6_pb2.GetProviderSchema.Response.FromString,
    )
    response: tfplugin6_pb2.GetProviderSchema.Response = call(
        tfplugin6_pb2.GetProviderSchema.Request(), timeout=TIMEOUT
    )
    return response


def shutdown(channel: grpc.Channel) -> None:
    call = channel.unary_unary(
        "/plugin.GRPCController/Shutdown",
        request_serializer=grpc_controller_pb2.Empty.SerializeToString,
        response_deserializer=grpc_controller_pb2.Empty.FromString,
    )
    # The process may exit before the answer is sent: go-plugin ignores that too.
    with contextlib.suppress(grpc.RpcError):
        call(grpc_controller_pb2.Empty(), timeout=TIMEOUT)


def test_handshake_line_has_protocol_6_and_an_unpadded_certificate(launched: Launched) -> None:
    core, app, network, address, protocol, cert = launched.handshake
    assert (core, app, network, protocol) == ("1", "6", "tcp", "grpc")
    assert address.startswith("127.0.0.1:")
    assert not cert.endswith("=")
    parsed = x509.load_der_x509_certificate(launched.server_cert_der)
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert isinstance(parsed.public_key(), ec.EllipticCurvePublicKey)


def test_terraforms_client_certificate_gets_the_schema(
    launched: Launched, p256_client: Identity
) -> None:
    with secure_channel(launched, p256_client) as channel:
        schema = get_schema(channel)
    assert "humanitec_webhook" in schema.resource_schemas
    assert schema.server_capabilities.plan_destroy
    assert schema.server_capabilities.get_provider_schema_optional
    names = [a.name for a in schema.provider.block.attributes]
    assert names == [
        "api_prefix",
        "host",
        "org_id",
        "token",
        "disable_ssl_certificate_verification",
        "config",
    ]


@pytest.mark.parametrize("client", ["none", "other"], ids=["no-certificate", "other-certificate"])
def test_clients_without_terraforms_certificate_are_refused(
    launched: Launched, client: str
) -> None:
    stranger = make_identity(ec.SECP256R1()) if client == "other" else None
    with secure_channel(launched, stranger) as channel, pytest.raises(grpc.RpcError) as error:
        get_schema(channel)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE


def test_unserved_rpcs_answer_unimplemented(launched: Launched, p256_client: Identity) -> None:
    with secure_channel(launched, p256_client) as channel:
        call = channel.unary_unary(
            "/tfplugin6.Provider/GetFunctions",
            request_serializer=tfplugin6_pb2.GetFunctions.Request.SerializeToString,
            response_deserializer=tfplugin6_pb2.GetFunctions.Response.FromString,
        )
        with pytest.raises(grpc.RpcError) as error:
            call(tfplugin6_pb2.GetFunctions.Request(), timeout=TIMEOUT)
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_garbage_request_bytes_become_a_diagnostic(
    launched: Launched, p256_client: Identity
) -> None:
    with secure_channel(launched, p256_client) as channel:
        call = channel.unary_unary(
            "/tfplugin6.Provider/ValidateResourceConfig",
            request_serializer=None,
            response_deserializer=tfplugin6_pb2.ValidateResourceConfig.Response.FromString,
        )
        response = call(b"\xff\xff\xff garbage", timeout=TIMEOUT)
    assert [d.summary for d in response.diagnostics] == ["Invalid Request"]


def test_shutdown_ends_the_process_and_removes_its_directory(
    launched: Launched, p256_client: Identity
) -> None:
    pid = launched.process.pid
    private_dirs = list(
        Path(os.environ.get("TMPDIR", "/tmp")).glob(f"terraform-provider-humanitec-{pid}-*")
    )
    assert len(private_dirs) == 1
    assert private_dirs[0].stat().st_mode & 0o777 == 0o700
    with secure_channel(launched, p256_client) as channel:
        shutdown(channel)
    assert launched.process.wait(timeout=5) == 0
    assert not private_dirs[0].exists()


def test_sigint_is_ignored(launched: Launched, p256_client: Identity) -> None:
    launched.process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    assert launched.process.poll() is None
    with secure_channel(launched, p256_client) as channel:
        assert "humanitec_webhook" in get_schema(channel).resource_schemas


@pytest.mark.parametrize("args", [[], ["--debug"]], ids=["launched", "debug"])
def test_exits_when_terraform_dies(p256_client: Identity, tmp_path: Path, args: list[str]) -> None:
    parent = tmp_path / "parent.py"
    parent.write_text(
        "import os, subprocess, sys\n"
        f"p = subprocess.Popen({[PROVIDER, *args]!r}, stdout=subprocess.PIPE, text=True)\n"
        "sys.stdout.write(str(p.pid) + '\\n' + p.stdout.readline()); sys.stdout.flush()\n"
        "os._exit(0)\n"
    )
    env = plugin_env(
        **{
            MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE,
            "PLUGIN_CLIENT_CERT": p256_client.cert_pem.decode(),
        }
    )
    out = subprocess.run(
        [sys.executable, str(parent)], env=env, capture_output=True, text=True, timeout=TIMEOUT
    ).stdout
    pid = int(out.splitlines()[0])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.1)
    assert not _running(pid)


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_without_the_magic_cookie_it_explains_itself() -> None:
    done = subprocess.run(
        [PROVIDER], env=plugin_env(), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Terraform starts it" in done.stderr


def test_refuses_terraform_without_protocol_6(p256_client: Identity) -> None:
    env = plugin_env(**{MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE, "PLUGIN_PROTOCOL_VERSIONS": "4,5"})
    done = subprocess.run([PROVIDER], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "speaks only version 6" in done.stderr


def test_without_client_certificate_it_serves_plaintext_on_a_unix_socket() -> None:
    """Terraform with TF_DISABLE_PLUGIN_TLS sends no certificate and expects none back."""
    started = launch(plugin_env(**{MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE}))
    try:
        assert started.handshake[2] == "unix"
        assert started.handshake[5] == ""
        with grpc.insecure_channel(f"unix:{started.address}") as channel:
            assert "humanitec_webhook" in get_schema(channel).resource_schemas
            shutdown(channel)
        assert started.process.wait(timeout=5) == 0
    finally:
        if started.process.poll() is None:
            started.process.kill()
        started.process.communicate(timeout=TIMEOUT)


@contextlib.contextmanager
def debug_mode() -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """A ``--debug`` process and its reattach config; killed if a test leaves it running."""
    process = subprocess.Popen(
        [PROVIDER, "--debug"], env=plugin_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        setting = next(line for line in lines if "TF_REATTACH_PROVIDERS=" in line)
        reattach = json.loads(setting.split("=", 1)[1].strip().strip("'"))
        yield process, reattach["registry.terraform.io/humanitec/humanitec"]
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=TIMEOUT)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_debug_mode_prints_reattach_settings_and_serves_until_signalled(
    signum: signal.Signals,
) -> None:
    with debug_mode() as (process, config):
        assert config["ProtocolVersion"] == 6
        assert config["Test"] is True
        assert config["Pid"] == process.pid
        with grpc.insecure_channel(f"unix:{config['Addr']['String']}") as channel:
            assert "humanitec_webhook" in get_schema(channel).resource_schemas
        process.send_signal(signum)
        assert process.wait(timeout=5) == 0
        assert not Path(config["Addr"]["String"]).exists()


def test_debug_mode_stops_on_shutdown_like_a_launched_provider() -> None:
    with debug_mode() as (process, config):
        with grpc.insecure_channel(f"unix:{config['Addr']['String']}") as channel:
            shutdown(channel)
        assert process.wait(timeout=5) == 0
        assert not Path(config["Addr"]["String"]).exists()


def test_debug_mode_stop_signals_reach_one_thread_that_waits_for_them() -> None:
    """A handler-based stop hung when the kernel gave SIGINT to a gRPC thread.

    Python then flagged it for the main thread, asleep in a wait nothing woke.
    Now every thread blocks the stop signals except the one in sigwait (the
    kernel unblocks them for a thread while it waits for them).
    """
    stop = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    with debug_mode() as (process, _):
        masks = [
            int((task / "status").read_text().split("SigBlk:\t", 1)[1].split()[0], 16)
            for task in Path(f"/proc/{process.pid}/task").iterdir()
        ]
        assert len(masks) > 2
        assert sum(mask & stop != stop for mask in masks) == 1
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0


@pytest.mark.parametrize(
    ("der", "expected"),
    [(b"\x01\x02", "AQI"), (b"\x01\x02\x03", "AQID"), (None, "")],
    ids=["needs-padding", "no-padding", "no-certificate"],
)
def test_handshake_line_uses_unpadded_base64(der: bytes | None, expected: str) -> None:
    assert handshake_line("tcp", "127.0.0.1:1", der) == f"1|6|tcp|127.0.0.1:1|grpc|{expected}\n"
