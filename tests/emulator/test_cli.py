"""The humanitec-emulator command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from provider.emulator.cli import main
from provider.emulator.receiver import Receiver, ThrowawayCA

TOKEN = "cli-secret-token"
LISTENING = re.compile(r"humanitec-emulator listening on (http://127\.0\.0\.1:(\d+))\n")
HOOK = {
    "id": "h",
    "url": "https://example.com",
    "triggers": [{"scope": "environment", "type": "created"}],
}


@contextmanager
def running(
    *args: str, stop: signal.Signals = signal.SIGTERM
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    command = [
        sys.executable,
        "-m",
        "provider.emulator.cli",
        "--port",
        "0",
        "--token",
        TOKEN,
        *args,
    ]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = LISTENING.fullmatch(line)
        assert match, f"unexpected first line {line!r}"
        assert int(match[2]) > 0
        yield match[1], process
    finally:
        if process.poll() is None:
            process.send_signal(stop)
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def api(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_prints_one_line_with_the_real_port_and_exits_0_on_signal(stop: signal.Signals) -> None:
    with running("--app", "org/app", stop=stop) as (url, process), api(url) as client:
        assert client.get("/orgs/org/apps/app/webhooks").json() == []
    assert process.returncode == 0


def test_never_prints_the_token(tmp_path: Path) -> None:
    with running("--app", "org/app", "--access-log") as (url, process), api(url) as client:
        client.get("/orgs/org/apps/app/webhooks")
        client.get("/orgs/org/apps/app/webhooks", headers={"Authorization": "Bearer wrong"})
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert TOKEN not in stdout + stderr
    assert "GET /orgs/org/apps/app/webhooks" in stderr  # the access log went to stderr
    assert stdout == ""  # the listening line was already read; nothing else on stdout


def test_state_file_keeps_webhooks_across_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.json"
    with (
        running("--app", "org/app", "--state-file", str(state_file)) as (url, _),
        api(url) as client,
    ):
        assert client.post("/orgs/org/apps/app/webhooks", json=HOOK).status_code == 201
        assert client.post("/orgs/org/apps", json={"id": "made-over-http"}).status_code == 201
    with running("--state-file", str(state_file)) as (url, _), api(url) as client:
        assert client.get("/orgs/org/apps/app/webhooks/h").json()["url"] == "https://example.com"
        assert client.get("/orgs/org/apps/made-over-http").status_code == 200
    assert [p.name for p in tmp_path.iterdir()] == ["emulator.json"]


@pytest.mark.parametrize("app", ["no-slash", "/app", "org/", "a/b/c"])
def test_bad_app_argument_is_a_usage_error(app: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--port", "0", "--token", TOKEN, "--app", app])
    assert caught.value.code == 2
    assert "ORG/APP" in capsys.readouterr().err


def test_corrupt_state_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text("{broken")
    assert main(["--port", "0", "--token", TOKEN, "--state-file", str(state_file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "humanitec-emulator:" in captured.err


def command(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_subcommands_cause_events_and_print_the_delivery_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = ThrowawayCA()
    ca_file = ca.write(tmp_path / "ca.pem")
    flags = ("--deploy-duration", "0.05", "--ca-file", str(ca_file), "--delivery-backoff", "0")
    with (
        Receiver(*ca.issue()) as receiver,
        running("--app", "org/app", *flags) as (url, _),
        api(url) as client,
    ):
        triggers = [{"scope": "environment", "type": "created"}]
        triggers.append({"scope": "deployment", "type": "finished"})
        hook = {"id": "h", "url": f"{receiver.url}/in", "triggers": triggers, "headers": {"K": "v"}}
        assert client.post("/orgs/org/apps/app/webhooks", json=hook).status_code == 201
        # The provider's variables name the emulator, so flags are not needed.
        for name, value in [("API_PREFIX", url), ("ORG", "org"), ("TOKEN", TOKEN)]:
            monkeypatch.setenv(f"HUMANITEC_{name}", value)

        status, out, _ = command(capsys, "env", "create", "dev", "--app", "app", "--type", "qa")
        assert status == 0
        assert json.loads(out)["type"] == "qa"
        status, out, _ = command(capsys, "deploy", "dev", "--app", "app", "--fail")
        assert (status, json.loads(out)["status"]) == (0, "in progress")
        status, out, _ = command(capsys, "deliveries", "--wait", "10", "--json")
        assert status == 0
        entries = json.loads(out)
        assert [(e["event"], e["outcome"], e["headers"]) for e in entries] == [
            ("environment.created", "delivered", {"K": "***"}),
            ("deployment.finished", "delivered", {"K": "***"}),
        ]
        assert [r.json()["event"] for r in receiver.received("/in")] == [
            "environment.created",
            "deployment.finished",
        ]
        status, out, _ = command(capsys, "deliveries")
        header, *rows = out.splitlines()
        assert header.split()[:4] == ["TIME", "EVENT", "APP", "WEBHOOK"]
        assert [row.split()[1:6] for row in rows] == [
            ["environment.created", "org/app", "h", "1", "delivered"],
            ["deployment.finished", "org/app", "h", "1", "delivered"],
        ]
        deployed = client.get("/orgs/org/apps/app/envs/dev/deploys").json()
        assert [d["status"] for d in deployed] == ["failed"]
        status, out, _ = command(capsys, "env", "delete", "dev", "--app", "app")
        assert (status, out) == (0, "deleted environment dev\n")
        status, out, _ = command(capsys, "env", "list", "--app", "app")
        assert (status, json.loads(out)) == (0, [])
        status, _, err = command(capsys, "deploy", "dev", "--app", "app")
        assert status == 1
        assert 'HTTP 404: {"error":"API-404","message":"Environment with id \\"dev\\"' in err


def test_subcommand_without_a_url_says_what_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("API_PREFIX", "ORG", "TOKEN"):
        monkeypatch.delenv(f"HUMANITEC_{name}", raising=False)
    status, _, err = command(capsys, "deliveries")
    assert status == 2
    assert "--url (or HUMANITEC_API_PREFIX)" in err
    assert "--token (or HUMANITEC_TOKEN)" in err


def test_subcommand_to_an_emulator_not_running_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        status, _, err = command(capsys, "deliveries", "--url", url, "--token", TOKEN)
    assert status == 1
    assert url in err


def test_missing_ca_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.pem"
    assert main(["--port", "0", "--token", TOKEN, "--ca-file", str(missing)]) == 1
    assert "humanitec-emulator:" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["starlette", "uvicorn"])
def test_without_the_emulator_extra_it_says_how_to_install_it(module: str) -> None:
    """A plain install has no server stack: a clear message, not a traceback."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"  # as if never installed
        "from provider.emulator.cli import main\n"
        "sys.exit(main(['--port', '0', '--token', 't']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"humanitec-emulator: its server stack ({module}) is not ")
    assert "pip install 'terraform-provider-humanitec[emulator]'" in done.stderr
    assert "Traceback" not in done.stderr
