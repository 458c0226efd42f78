"""Two machines, one lock file: installs from different virtualenvs and mirrors hash alike."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from provider import __version__
from provider.install import HOME_VARIABLE

from .conftest import PROVIDER_BLOCK
from .harness import available_terraforms

TERRAFORM = available_terraforms()[0]  # heavy: the bundled Terraform only


def another_virtualenv(root: Path) -> Path:
    """This virtualenv under another path: its own pyvenv.cfg, the same packages.

    ``sys.prefix`` follows the pyvenv.cfg beside the interpreter, so the install run
    with it records paths under ``root``, as a second machine's virtualenv would.
    """
    venv = Path(sys.prefix)
    (root / "bin").mkdir(parents=True)
    (root / "pyvenv.cfg").write_bytes((venv / "pyvenv.cfg").read_bytes())
    (root / "lib").symlink_to(venv / "lib")
    python = root / "bin" / "python"
    python.symlink_to(os.path.realpath(sys.executable))
    return python


def test_installs_from_two_virtualenvs_give_one_lock_file_hash(tmp_path: Path) -> None:
    checkout = str(Path(__file__).resolve().parents[2])
    pythons = [Path(sys.executable), another_virtualenv(tmp_path / "venv2")]
    hashes, recorded = [], []
    for index, python in enumerate(pythons):
        machine = tmp_path / f"machine{index}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "HUMANITEC_"))}
        env.update(
            HOME=str(machine),
            PYTHONPATH=checkout,
            CHECKPOINT_DISABLE="1",
            TF_IN_AUTOMATION="1",
            **{HOME_VARIABLE: str(machine / "installations")},
        )
        install = [str(python), "-c", "import sys, provider.cli; sys.exit(provider.cli.main())"]
        subprocess.run([*install, "install"], env=env, check=True, capture_output=True)
        recorded.append((machine / "installations" / __version__ / "python").read_text())
        work = machine / "work"
        work.mkdir()
        (work / "main.tf").write_text(PROVIDER_BLOCK, encoding="utf-8")
        TERRAFORM.run(["init", "-no-color", "-input=false"], work, env)
        schema = TERRAFORM.run(["providers", "schema", "-json"], work, env)
        assert '"humanitec_webhook"' in schema.stdout, schema
        lock = (work / ".terraform.lock.hcl").read_text(encoding="utf-8")
        hashes.append(re.findall(r'"(h1:[^"]+)"', lock))
    assert recorded == [f"{pythons[0]}\n", f"{pythons[1]}\n"]
    assert len(hashes[0]) == 1
    assert hashes[0] == hashes[1]
