"""PyTorch for the test_torch_* files, always in a fresh interpreter.

PyTorch's libtorch and the trainer's libtorch (TrainingSession) crash together in one process, and other test files
train in this pytest process, so no test here imports torch: `run_check` runs a function of torch_checks.py in a
child Python and returns its JSON result, and the `torch_python` fixture only asks a child whether torch imports.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKS = Path(__file__).with_name("torch_checks.py")


def child_env() -> dict[str, str]:
    """The environment of a child Python: this checkout's package first, one thread per process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "python"), env.get("PYTHONPATH")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _torch_imports(python: str) -> bool:
    return subprocess.run([python, "-c", "import torch"], capture_output=True, env=child_env()).returncode == 0


def _install_command() -> list[str] | None:
    """apt-get as root, or through passwordless sudo; None when neither is possible."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def _unavailable(reason: str) -> None:
    """Fails with the reason where PyTorch cannot be had: these tests are part of the suite, never skipped
    (``./build.sh test`` installs python3-torch first)."""
    pytest.fail(reason)


@pytest.fixture(scope="session")
def torch_python() -> str:
    """This interpreter, once it can import torch: installs Debian's python3-torch (~1 GB) if needed, else fails."""
    python = sys.executable
    if _torch_imports(python):
        return python
    prefix = _install_command()
    if prefix is None:
        _unavailable(f"PyTorch is not importable by {python} and python3-torch cannot be installed here "
                     "(apt-get needs root or passwordless sudo)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("installing Debian's python3-torch for the PyTorch tests (about 1 GB, once)")
    subprocess.run(prefix + ["apt-get", "update", "-qq"], env=env, capture_output=True)
    install = subprocess.run(prefix + ["apt-get", "install", "-y", "-qq", "python3-torch"], env=env, capture_output=True, text=True)
    if not _torch_imports(python):
        _unavailable(f"PyTorch is not importable by {python} even after apt-get install python3-torch "
                     f"(exit {install.returncode}: {install.stderr.strip()[-300:]})")
    return python


def run_check(python: str, name: str, cwd: Path, **arguments: Any) -> Any:
    """Runs torch_checks.<name>(**arguments) in a child Python (cwd: the test's folder) and returns its JSON result."""
    done = subprocess.run([python, str(CHECKS), name, json.dumps(arguments)], cwd=cwd, env=child_env(),
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"torch check {name} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
