"""Warm start, end to end: a real warm process, real launchers, real Terraform.

Launches by Terraform go through the installed launcher, as in production. The other tests
run the launcher with go-plugin's environment themselves and talk to the provider over real
mutual TLS (a P-256 client certificate: grpcio cannot present Terraform's P-521 one). Every
test has its own socket directory and stops its warm processes (tests/warm.py).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from provider import __version__
from provider.cli import PROVIDER_ADDRESS
from provider.emulator.server import EmulatorServer
from provider.install import install_into_mirror
from provider.plugin.cookie import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE
from provider.warm.client import start_server
from provider.warm.protocol import installation_key
from provider.warm.server import KEY_CHECK_SECONDS
from tests.goplugin import Identity, make_identity
from tests.plugin.test_serve import Launched, get_schema, secure_channel, shutdown
from tests.warm import alive, stop_warm_processes, warm_pids

from .checks import new_app
from .configs import config, webhook
from .conftest import TOKEN, new_workspace
from .harness import Terraform, Workspace, available_terraforms

TIMEOUT = 60.0
SERVED = "served by warm process"
SERVED_BY = re.compile(SERVED + r" (\d+), child (\d+)")
CHILD_END = re.compile(
    r"child (\d+): exit 0 \(cpu ([\d.]+) s user, ([\d.]+) s system; max rss ([\d.]+) MiB\)"
)
PACKAGE_DIR = str(Path(__file__).resolve().parents[2] / "provider")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def sockets(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.sock")) if directory.is_dir() else []


def listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def wait_until_warm(directory: Path) -> int:
    """Wait for a warm process to listen in ``directory``; its pid."""
    wait_for(lambda: any(listening(s) for s in sockets(directory)), "a warm process")
    (pid,) = warm_pids(directory)
    return pid


# --- launching by hand -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> str:
    mirror = tmp_path_factory.mktemp("warm-mirror")
    installed = install_into_mirror(mirror, source=PROVIDER_ADDRESS, version=__version__)
    return str(installed.launcher)


@pytest.fixture(scope="module")
def client() -> Identity:
    return make_identity(ec.SECP256R1())


@dataclass
class Launch:
    """A launcher run by hand: its handshake, and (once read) what it said on stderr."""

    launched: Launched
    stderr: str = ""

    @property
    def process(self) -> subprocess.Popen[str]:
        return self.launched.process

    def served_by(self) -> tuple[int, int] | None:
        """(warm process, child) from the launcher's log line, if a warm process served it."""
        found = SERVED_BY.search(self.stderr)
        return (int(found[1]), int(found[2])) if found else None

    def finish(self, client: Identity) -> int:
        """Ask for the schema, shut down as Terraform does, and return the exit status."""
        with secure_channel(self.launched, client) as channel:
            assert get_schema(channel).resource_schemas["humanitec_webhook"]
            shutdown(channel)
        self.stderr += self.process.communicate(timeout=TIMEOUT)[1]
        return self.process.returncode


def plugin_env(warm_dir: Path, client: Identity, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    env.update(
        {
            MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE,
            "PLUGIN_PROTOCOL_VERSIONS": "6,5",
            "PLUGIN_CLIENT_CERT": client.cert_pem.decode(),
            "HUMANITEC_PROVIDER_WARM_DIR": str(warm_dir),
            "TF_LOG_PROVIDER": "debug",
        }
    )
    env.update(extra)
    return env


def launch(launcher: str, env: dict[str, str]) -> Launch:
    process = subprocess.Popen(
        [launcher], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("1|6|"):
        process.kill()
        raise AssertionError(f"no handshake line: {line!r}; {process.communicate()[1]}")
    return Launch(Launched(process, line.rstrip("\n").split("|")))


def read_until_served(started: Launch) -> tuple[int, int]:
    """The launcher writes its "served by" line before the child starts: it is there."""
    assert started.process.stderr is not None
    while (line := started.process.stderr.readline()) and SERVED not in line:
        started.stderr += line
    started.stderr += line
    served = started.served_by()
    assert served, started.stderr
    return served


@pytest.fixture
def warm(launcher: str, warm_dir: Path, client: Identity) -> int:
    """A running warm process in ``warm_dir`` (started by a first launch); its pid."""
    first = launch(launcher, plugin_env(warm_dir, client))
    assert first.finish(client) == 0
    assert first.served_by() is None, "the first launch cannot have been warm"
    return wait_until_warm(warm_dir)


def test_a_later_launch_is_served_by_a_fork_of_the_warm_process(
    launcher: str, warm_dir: Path, client: Identity, warm: int
) -> None:
    started = launch(launcher, plugin_env(warm_dir, client))
    server, child = read_until_served(started)
    assert server == warm
    status = Path(f"/proc/{child}/status").read_text(encoding="ascii")
    assert f"PPid:\t{warm}\n" in status  # a fork of the warm process, not a new interpreter
    assert started.finish(client) == 0
    assert sockets(warm_dir), "the warm process keeps serving"


def test_the_warm_process_logs_each_childs_cpu_and_peak_rss(
    launcher: str, warm_dir: Path, client: Identity, warm: int
) -> None:
    started = launch(launcher, plugin_env(warm_dir, client))
    _, child = read_until_served(started)
    assert started.finish(client) == 0  # the warm process logs the end before it reports it
    (log,) = warm_dir.glob("*.log")
    ends = {int(m[1]): m for m in CHILD_END.finditer(log.read_text(encoding="utf-8"))}
    user, system, rss = (float(x) for x in ends[child].groups()[1:])
    assert 0 < user + system < 10, ends[child][0]  # a TLS handshake and a schema: some ms
    assert 10 < rss < 1000, ends[child][0]  # a fork holds the warm process's imports


def test_launches_at_once_each_log_at_their_own_level_to_their_own_stderr(
    launcher: str, warm_dir: Path, client: Identity, warm: int
) -> None:
    chatty = launch(launcher, plugin_env(warm_dir, client, TF_LOG_PROVIDER="debug"))
    quiet = launch(launcher, plugin_env(warm_dir, client, TF_LOG_PROVIDER="info"))
    children = {read_until_served(chatty)[1], read_until_served(quiet)[1]}
    assert len(children) == 2
    assert all(alive(c) for c in children)  # both running at once
    assert chatty.finish(client) == 0
    assert quiet.finish(client) == 0
    assert '"@level": "debug"' in chatty.stderr  # e.g. the TLS terminator's "listening on"
    assert '"@level": "debug"' not in quiet.stderr
    assert SERVED in quiet.stderr  # the launcher's own line is at info level


def test_the_directory_and_its_files_are_the_owners_only(warm_dir: Path, warm: int) -> None:
    assert warm_dir.stat().st_mode & 0o777 == 0o700
    for path in warm_dir.iterdir():
        assert path.stat().st_uid == os.getuid()
        assert path.stat().st_mode & 0o077 == 0, path


def test_a_directory_others_can_read_means_no_warm_start(
    launcher: str, warm_dir: Path, client: Identity
) -> None:
    warm_dir.mkdir()
    warm_dir.chmod(0o755)
    for _ in range(2):
        started = launch(launcher, plugin_env(warm_dir, client))
        assert started.finish(client) == 0
        assert started.served_by() is None
        assert "not a private one of ours" in started.stderr
    assert list(warm_dir.iterdir()) == []


def test_switched_off_no_warm_process_starts_and_launches_serve_in_process(
    launcher: str, warm_dir: Path, client: Identity
) -> None:
    for _ in range(2):
        started = launch(launcher, plugin_env(warm_dir, client, HUMANITEC_PROVIDER_WARM="0"))
        assert started.finish(client) == 0
        assert started.served_by() is None
        assert "provider.warm" not in started.stderr
    time.sleep(1)  # a server would have made its directory by now
    assert not warm_dir.exists()


def test_an_idle_warm_process_exits_on_its_own(
    launcher: str, warm_dir: Path, client: Identity
) -> None:
    # 3 s, not less: the test must see it listen before it goes, on a loaded machine too.
    first = launch(launcher, plugin_env(warm_dir, client, HUMANITEC_PROVIDER_WARM_IDLE="3"))
    assert first.finish(client) == 0
    pid = wait_until_warm(warm_dir)
    wait_for(lambda: not alive(pid), "the idle warm process to exit")
    assert sockets(warm_dir) == []
    assert warm_pids(warm_dir) == []  # it emptied its lock file


def test_killing_the_launcher_kills_its_child(
    launcher: str, warm_dir: Path, client: Identity, warm: int
) -> None:
    started = launch(launcher, plugin_env(warm_dir, client))
    _, child = read_until_served(started)
    assert alive(child)
    started.process.kill()
    started.process.communicate(timeout=TIMEOUT)
    wait_for(lambda: not alive(child), "the child to follow its launcher")
    assert alive(warm)
    after = launch(launcher, plugin_env(warm_dir, client))  # and the warm process still serves
    assert after.finish(client) == 0
    assert after.served_by() is not None


def test_a_signal_to_the_launcher_reaches_the_child_and_its_end_is_the_launchers(
    launcher: str, warm_dir: Path, client: Identity, warm: int
) -> None:
    started = launch(launcher, plugin_env(warm_dir, client))
    _, child = read_until_served(started)
    started.process.send_signal(signal.SIGINT)  # ignored, as go-plugin does (Ctrl-C)
    time.sleep(0.3)
    assert alive(child)
    started.process.send_signal(signal.SIGTERM)
    started.process.communicate(timeout=TIMEOUT)
    assert started.process.returncode == -signal.SIGTERM
    assert not alive(child)


def test_a_killed_warm_process_takes_its_children_and_the_next_launch_serves_in_process(
    launcher: str, warm_dir: Path, client: Identity, warm: int
) -> None:
    started = launch(launcher, plugin_env(warm_dir, client))
    _, child = read_until_served(started)
    os.kill(warm, signal.SIGKILL)
    started.stderr += started.process.communicate(timeout=TIMEOUT)[1]
    assert started.process.returncode == 1
    assert "did not report how it ended" in started.stderr
    assert not alive(child)
    after = launch(launcher, plugin_env(warm_dir, client))  # its socket is left, dead
    assert after.finish(client) == 0
    assert after.served_by() is None
    assert "starting one" in after.stderr


@pytest.mark.parametrize("warm_start", ["1", "0"])
def test_the_launcher_exits_with_the_status_the_provider_ended_with(
    launcher: str, warm_dir: Path, client: Identity, warm: int, warm_start: str
) -> None:
    env = plugin_env(
        warm_dir, client, PLUGIN_PROTOCOL_VERSIONS="4", HUMANITEC_PROVIDER_WARM=warm_start
    )
    done = subprocess.run([launcher], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 1
    assert "speaks only version 6" in done.stderr
    assert (SERVED in done.stderr) is (warm_start == "1")


# --- a broken, stale or strange warm process ---------------------------------------------------


@pytest.fixture(scope="module")
def socket_name(launcher: str, client: Identity) -> str:
    """The file name this installation's socket has (found by starting a warm process once)."""
    directory = Path(tempfile.mkdtemp(prefix="tphw-"))
    try:
        first = launch(launcher, plugin_env(directory, client))
        assert first.finish(client) == 0
        wait_until_warm(directory)
        (found,) = sockets(directory)
        return found.name
    finally:
        stop_warm_processes(directory)
        shutil.rmtree(directory, ignore_errors=True)


def dead_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as bound:
        bound.bind(str(path))  # closed without a listener: the file stays, connect is refused


def stranger(answer: bytes | None) -> Callable[[Path], None]:
    """A listener that answers ``answer`` to each request (None: accepts, then never reads)."""

    def start(path: Path) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen()
        held: list[socket.socket] = []

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                if answer is None:
                    held.append(conn)  # the launcher waits for "started", then gives up
                    continue
                conn.recv(1 << 16)
                conn.sendall(answer)
                conn.close()

        threading.Thread(target=serve, daemon=True).start()

    return start


def other_installation(path: Path) -> None:
    """A real warm process of another installation (this test's sys.path), at our path."""
    key = installation_key(PACKAGE_DIR, sys.path)
    assert start_server(str(path.parent), key, {})
    theirs = path.parent / f"{key}.sock"
    wait_for(lambda: listening(theirs), "the other installation's warm process")
    theirs.rename(path)


def test_a_warm_process_whose_installation_changed_stops(
    warm_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade (here: a package added to a directory on its sys.path) retires it."""
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])
    key = installation_key(PACKAGE_DIR, sys.path)
    warm_dir.mkdir(mode=0o700)
    assert start_server(str(warm_dir), key, {})
    wait_for(lambda: listening(warm_dir / f"{key}.sock"), "the warm process")
    (pid,) = warm_pids(warm_dir)
    (site / "upgraded-9.9.dist-info").mkdir()
    wait_for(
        lambda: not alive(pid), "the stale warm process to stop", timeout=KEY_CHECK_SECONDS + 20
    )
    assert "the installation changed" in (warm_dir / f"{key}.log").read_text(encoding="utf-8")
    assert sockets(warm_dir) == []


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (dead_socket, "no warm process yet"),
        (stranger(b"HTTP/1.1 400 Bad Request\r\n\r\n"), "did not start a child"),
        (stranger(None), "did not start a child"),
        (other_installation, "(error key)"),
    ],
    ids=["dead-socket", "garbage", "hung", "other-installation"],
)
def test_a_broken_or_stale_warm_process_never_makes_a_launch_worse(
    launcher: str,
    warm_dir: Path,
    client: Identity,
    socket_name: str,
    make: Callable[[Path], None],
    said: str,
) -> None:
    warm_dir.mkdir(mode=0o700)
    path = warm_dir / socket_name
    make(path)
    started = launch(launcher, plugin_env(warm_dir, client))
    assert started.finish(client) == 0
    assert started.served_by() is None
    assert said in started.stderr


# --- with real Terraform -----------------------------------------------------------------------

OTHER_TOKEN = "e2e-other-token-9876543210"
ON_BUNDLED = pytest.mark.parametrize(
    "terraform", available_terraforms()[:1], indirect=True, ids=lambda t: t.name
)


def warm_workspace(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    path: Path,
    env: dict[str, str],
    warm_dir: Path,
    app_id: str,
) -> Workspace:
    log = path.parent / f"{path.name}.log"
    workspace = new_workspace(terraform, initialised, cli_config, path, env)
    workspace.env.update(HUMANITEC_PROVIDER_WARM_DIR=str(warm_dir), TF_LOG_PATH=str(log))
    workspace.write(config(webhook(webhook_id="warm-hook", app_id=app_id)))
    return workspace


def terraform_log(workspace: Workspace) -> str:
    return Path(workspace.env["TF_LOG_PATH"]).read_text(encoding="utf-8", errors="replace")


@ON_BUNDLED
def test_terraform_is_served_by_warm_children_end_to_end(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    tmp_path: Path,
    workspace_env: dict[str, str],
    warm_dir: Path,
    api: httpx.Client,
    app_id: str,
) -> None:
    workspace = warm_workspace(
        terraform, initialised, cli_config, tmp_path / "ws", workspace_env, warm_dir, app_id
    )
    workspace.env["TF_LOG"] = "debug"
    workspace.run("validate", "-no-color")  # its launch starts the warm process
    server = wait_until_warm(warm_dir)
    Path(workspace.env["TF_LOG_PATH"]).unlink()

    workspace.apply()
    log = terraform_log(workspace)
    launches = log.count("provider: plugin started")
    served = re.findall(SERVED + r" (\d+)", log)
    assert launches >= 3, log[-3000:]
    assert served == [str(server)] * launches  # every launch of the command, by this process
    response = api.get(f"/apps/{app_id}/webhooks/warm-hook")
    assert response.status_code == 200, response.text
    assert workspace.plan_exit_code() == 0


@pytest.fixture(scope="module")
def other_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(token=OTHER_TOKEN) as server:
        yield server


@ON_BUNDLED
def test_two_runs_at_once_never_see_each_others_settings_or_logs(
    terraform: Terraform,
    initialised: Path,
    cli_config: Path,
    tmp_path: Path,
    emulator: EmulatorServer,
    other_emulator: EmulatorServer,
    warm_dir: Path,
) -> None:
    runs = []
    for name, server, token, tf_log in (
        ("a", emulator, TOKEN, "debug"),
        ("b", other_emulator, OTHER_TOKEN, "json"),
    ):
        org = f"org-{name}-{uuid.uuid4().hex[:8]}"
        with httpx.Client(
            base_url=f"{server.url}/orgs/{org}",
            headers={"Authorization": f"Bearer {token}"},
            trust_env=False,
        ) as api:
            app = new_app(api)
        env = {
            "HUMANITEC_API_PREFIX": server.url,
            "HUMANITEC_ORG": org,
            "HUMANITEC_TOKEN": token,
            "TF_LOG": tf_log,
        }
        workspace = warm_workspace(
            terraform, initialised, cli_config, tmp_path / name, env, warm_dir, app
        )
        runs.append((workspace, server, token, org, app))
    runs[0][0].run("validate", "-no-color")
    wait_until_warm(warm_dir)
    for workspace, *_ in runs:
        Path(workspace.env["TF_LOG_PATH"]).unlink(missing_ok=True)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda run: run[0].apply(), runs))

    (a, _, _, org_a, _), (b, _, _, org_b, _) = runs
    log_a, log_b = terraform_log(a), terraform_log(b)
    assert SERVED in log_a, log_a[-3000:]
    assert SERVED in log_b, log_b[-3000:]
    assert log_b.startswith("{")  # TF_LOG=json: Terraform's own format, per run
    assert f"orgs/{org_a}/" in log_a  # the provider's debug records of its API calls
    assert f"orgs/{org_b}/" in log_b
    assert org_b not in log_a
    assert org_a not in log_b
    everything = log_a + log_b + "".join(r.output for r in results)
    assert TOKEN not in everything
    assert OTHER_TOKEN not in everything
    for _, server, token, org, app in runs:  # each run's webhook went to its own API and org
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False
        ) as api:
            assert api.get(f"/orgs/{org}/apps/{app}/webhooks/warm-hook").status_code == 200
            other = org_b if org == org_a else org_a
            assert api.get(f"/orgs/{other}/apps").json() == []
