"""The wheel as a user gets it: built from this checkout, installed by pip into a new virtual environment without
system site packages or network, and used from a folder outside the checkout."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest

from conftest import REPO, first_line
from dashboard.conftest import wait_until

sys.path.insert(0, str(REPO / "tools"))
import build_wheel  # noqa: E402

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VERSION = PROJECT["version"]
# Debian's packages, standing in for `pip install bullet-native[dashboard]` (no PyPI here).
DEBIAN_SITE_PACKAGES = "/usr/lib/python3/dist-packages"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: nothing pointing into this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BULLET_NATIVE_LIB", "VIRTUAL_ENV")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built once for this module with the tool `./build.sh wheel` runs."""
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, str(REPO / "tools" / "build_wheel.py"), "--out", str(out)],
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1 and str(wheels[0]) in built.stdout
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory) -> Path:
    """A new virtual environment (Debian's Python, no system site packages) with the wheel installed by pip, offline."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(root)], check=True, timeout=300, env=clean_env())
    installed = subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "--no-index", "--no-cache-dir",
                                "--disable-pip-version-check", str(wheel)],
                               capture_output=True, text=True, timeout=600, env=clean_env())
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return root


def run(venv: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs a program of the virtual environment (python, or a console script) from cwd; fails on a non-zero exit."""
    program = venv / "bin" / args[0]
    done = subprocess.run([str(program), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env=env or clean_env())
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done


def test_the_wheel_is_named_tagged_and_recorded_correctly(wheel: Path):
    assert wheel.name == f"bullet_native-{VERSION}-py3-none-linux_x86_64.whl"
    dist_info = f"bullet_native-{VERSION}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        record = archive.read(f"{dist_info}/RECORD").decode().splitlines()
        # Every file is listed once with its sha256 and size; RECORD itself without.
        assert sorted(line.split(",")[0] for line in record) == sorted(names)
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("/RECORD"):
                assert (digest, size) == ("", "")
                continue
            hasher, length = hashlib.sha256(), 0
            with archive.open(name) as member:
                while chunk := member.read(1 << 22):
                    hasher.update(chunk)
                    length += len(chunk)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hasher.digest()).rstrip(b"=").decode() and int(size) == length, name
        libtorch = archive.getinfo("bullet_native/libtorch_cpu.so")
        assert libtorch.compress_type == zipfile.ZIP_DEFLATED and libtorch.compress_size < libtorch.file_size / 2
        wheel_file = archive.read(f"{dist_info}/WHEEL").decode()
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert "Root-Is-Purelib: false" in wheel_file and "Tag: py3-none-linux_x86_64" in wheel_file
    assert "bullet-builder = bullet_native.legacy_builder:main" in entry_points
    requirements = [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    assert requirements and all("; extra == " in r for r in requirements), "nothing may be required outright"
    extras = PROJECT["optional-dependencies"]
    assert all(f'{dependency}; extra == "{extra}"' in requirements for extra, listed in extras.items() for dependency in listed)
    assert 'fastapi>=0.92,<0.100; extra == "dashboard"' in requirements and 'numpy; extra == "numpy"' in requirements

    # The library with everything it loads at run time beside it, and the dashboard with its built UI.
    natives = {p.name for p in build_wheel.native_files()}
    assert {"libbullet_native.so", "libLibTorchSharp.so", "libtorch_cpu.so", "libc10.so", "libbullet_mkl_intel.so"} <= natives
    assert {f"bullet_native/{name}" for name in natives} <= names
    assert "bullet_dashboard/static/index.html" in names and "bullet_dashboard/datasets/children_stories.txt" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]


def test_the_readme_states_what_the_binaries_need():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    newest = build_wheel.check_natives(build_wheel.native_files())
    glibc, glibcxx = (".".join(map(str, newest[prefix])) for prefix in ("GLIBC", "GLIBCXX"))
    assert newest["GLIBC"] == build_wheel.REQUIRED["GLIBC"] and newest["GLIBCXX"] == build_wheel.REQUIRED["GLIBCXX"]
    assert f"glibc {glibc}" in readme and f"GLIBCXX_{glibcxx}" in readme and "x86-64-v3" in readme


def test_the_installed_wheel_trains_exports_and_generates_without_numpy(venv: Path, tmp_path: Path):
    no_numpy = subprocess.run([str(venv / "bin" / "python"), "-c", "import numpy"], capture_output=True, env=clean_env())
    assert no_numpy.returncode != 0
    text = (REPO / "python" / "bullet_dashboard" / "datasets" / "children_stories.txt").read_text(encoding="utf-8")
    (tmp_path / "stories.txt").write_text(text[:30_000], encoding="utf-8")
    config = {"tokenizer": "char", "vocab_size": 0, "hidden_size": 32, "num_layers": 1, "max_seq_len": 32,
              "batch_size": 8, "eval_every": 10, "eval_batches": 2, "sample_every": 0, "attention_every": 0}

    trained = run(venv, "python", "-m", "bullet_native", "train", "--data", "stories.txt", "--out", "stories.bullet",
                  "--steps", "20", "--config", json.dumps(config), cwd=tmp_path)
    assert "step 20/20" in trained.stdout and "wrote " in trained.stdout
    generated = run(venv, "python", "-m", "bullet_native", "generate", "stories.bullet", "Once upon a time",
                    "--max-tokens", "24", "--seed", "3", cwd=tmp_path)
    assert len(generated.stdout.strip()) > 0 and "24 tokens" in generated.stderr
    inspected = json.loads(run(venv, "python", "-m", "bullet_native", "inspect", "stories.bullet", cwd=tmp_path).stdout)
    assert inspected["header"]["hidden_size"] == 32 and "training_metrics" in inspected["header"]["extra"]

    # The Python API from the same install: the library and libtorch load from the package folder, and arrays
    # come back as lists.
    probe = run(venv, "python", "-c", """
import json, os
import bullet_native as bn
with bn.TrainingSession({"preset": "tiny", "total_steps": 3, "eval_every": 3, "sample_every": 0, "attention_every": 0,
                         "tokenizer": "char", "vocab_size": 0, "hidden_size": 32, "num_layers": 1, "max_seq_len": 16},
                        text=open("stories.txt").read()) as session:
    outcome = session.run(progress=False)
    weights = session.weights()
with bn.Model("stories.bullet") as model:
    attention = model.attention("Once")
torch_files = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libtorch_cpu.so" in line})
print(json.dumps({"library": str(bn.library_path()), "symlink": bn.library_path().is_symlink(), "version": bn.version(),
                  "reason": outcome["reason"], "torch": torch_files, "weights": type(weights["tok_embeddings.weight"]).__name__,
                  "attention": type(attention).__name__}))
""", cwd=tmp_path)
    facts = json.loads(probe.stdout)
    package = next((venv / "lib").glob("python3*/site-packages/bullet_native"))
    assert facts["library"] == str(package / "libbullet_native.so") and not facts["symlink"]
    assert facts["torch"] == [str(package / "libtorch_cpu.so")]
    assert facts["version"] == VERSION and facts["reason"] == "completed"
    assert facts["weights"] == facts["attention"] == "list"

    # The old builder's console script.
    (tmp_path / "vocab.txt").write_text("<unk>\n \n" + "".join(f"{c}\n" for c in "abcdefghij"), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("", encoding="utf-8")
    built = run(venv, "bullet-builder", "vocab.txt", "merges.txt", "random.bullet", "--hidden", "32", "--layers", "1",
                "--heads", "2", cwd=tmp_path)
    assert "random test weights" in built.stdout and "vocab 12" in built.stdout


def answers(client: httpx.Client) -> bool:
    """True once the server accepts connections (it prints its URL before it listens)."""
    try:
        client.get("/api/status")
        return True
    except httpx.TransportError:
        return False


def test_the_installed_dashboard_names_its_extra_and_serves_its_ui_with_it(venv: Path, tmp_path: Path):
    missing = subprocess.run([str(venv / "bin" / "python"), "-m", "bullet_dashboard", "--help"], cwd=tmp_path,
                             capture_output=True, text=True, env=clean_env(), timeout=120)
    assert missing.returncode == 1 and "pip install 'bullet-native[dashboard]'" in missing.stderr

    requires = run(venv, "python", "-c", "import importlib.metadata as m; print('\\n'.join(m.requires('bullet-native')))",
                   cwd=tmp_path).stdout.splitlines()
    extra = [r.split(";")[0].strip() for r in requires if 'extra == "dashboard"' in r]
    assert sorted(extra) == ["fastapi>=0.92,<0.100", "pydantic>=1.10,<2", "python-multipart", "uvicorn"]

    server = subprocess.Popen([str(venv / "bin" / "python"), "-m", "bullet_dashboard", "--port", "0",
                               "--data-dir", str(tmp_path / "data")],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=clean_env(PYTHONPATH=DEBIAN_SITE_PACKAGES))
    try:
        line = first_line(server, "Bullet Dashboard: http://127.0.0.1:")
        url = line.split()[2].rstrip("/")
        static = REPO / "python" / "bullet_dashboard" / "static"
        script = re.search(r'src="(/assets/[^"]+\.js)"', (static / "index.html").read_text(encoding="utf-8")).group(1)
        with httpx.Client(base_url=url, timeout=60) as client:
            wait_until(lambda: answers(client), timeout=60, what="the installed server to answer")
            page = client.get("/")
            assert page.status_code == 200 and f'src="{script}"' in page.text
            assert client.get(script).content == (static / script.lstrip("/")).read_bytes()
            assert client.get("/api/status").status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
