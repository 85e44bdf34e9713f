#!/usr/bin/env python3
"""Builds the bullet_native wheel from a built checkout (./build.sh first), offline, with the standard library only.

The wheel holds the Python packages bullet_native and bullet_dashboard (with its built UI) and, in bullet_native/,
libbullet_native.so with every native file it loads at run time: TorchSharp's libLibTorchSharp.so, libtorch and its
libgomp, and the MKL shim. The library finds libtorch beside its own real path, and the libtorch files find each
other through their $ORIGIN run paths, so the folder works wherever pip puts it.

The platform tag is linux_x86_64, not manylinux: the binaries need glibc 2.34 and, to train, libstdc++ from GCC 12
(GLIBCXX_3.4.30), which manylinux_2_35 would allow, but the library is compiled for x86-64-v3 (AVX2, FMA, BMI2)
and a manylinux tag promises the baseline x86-64 instruction set. The build fails if a binary links a library that
is neither bundled nor part of the system, or needs newer versions than REQUIRED states (the README states them).

usage: build_wheel.py [--out DIR] [--level N]
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from elf_needs import highest, needed_libraries, version_needs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / "python"
NATIVE = ROOT / "build-out" / "native"
PACKAGES = ("bullet_native", "bullet_dashboard")
TAG = "py3-none-linux_x86_64"

# Libraries every glibc system provides (the manylinux policies' own list, minus what we do not use).
SYSTEM_LIBRARIES = frozenset({"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
                              "ld-linux-x86-64.so.2", "libstdc++.so.6", "libgcc_s.so.1"})
# The newest (non-weak) symbol versions the shipped binaries may need; the README's requirements say the same.
REQUIRED = {"GLIBC": (2, 34), "GLIBCXX": (3, 4, 30), "CXXABI": (1, 3, 13)}
# A fixed timestamp for every entry, so the same inputs give the same wheel.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
CHUNK = 1 << 22


def native_files() -> list[Path]:
    """The shared libraries of the published native folder (not its XML docs or build stamp)."""
    files = sorted(p for p in NATIVE.iterdir() if p.is_file() and (p.suffix == ".so" or ".so." in p.name))
    if not any(p.name == "libbullet_native.so" for p in files):
        raise SystemExit(f"error: {NATIVE / 'libbullet_native.so'} is missing; run ./build.sh first")
    return files


def check_natives(files: list[Path]) -> dict[str, tuple[int, ...]]:
    """Checks that every linked library is bundled or a system one and that no binary needs more than REQUIRED;
    returns the newest versions found."""
    bundled = {p.name for p in files} | {"libgomp.so.1"}
    newest: dict[str, tuple[int, ...]] = {}
    for path in files:
        data = path.read_bytes()
        missing = [name for name in needed_libraries(data) if name not in bundled and name not in SYSTEM_LIBRARIES]
        if missing:
            raise SystemExit(f"error: {path.name} links {', '.join(missing)}, neither bundled nor a system library")
        needs = list(version_needs(data))
        for prefix, limit in REQUIRED.items():
            found = highest(needs, prefix)
            if found is not None and found > limit:
                raise SystemExit(f"error: {path.name} needs {prefix}_{'.'.join(map(str, found))}, newer than the "
                                 f"{prefix}_{'.'.join(map(str, limit))} the wheel promises (update REQUIRED and the README)")
            if found is not None:
                newest[prefix] = max(newest.get(prefix, found), found)
    return newest


def package_files() -> list[tuple[str, Path]]:
    """(path in the wheel, file) for the Python packages: sources and data, no caches, stamps or the library symlink."""
    if not (PYTHON / "bullet_dashboard" / "static" / "index.html").is_file():
        raise SystemExit("error: the dashboard UI is not built (python/bullet_dashboard/static); run ./build.sh first")
    entries = []
    for package in PACKAGES:
        for path in sorted((PYTHON / package).rglob("*")):
            relative = path.relative_to(PYTHON)
            if (path.is_dir() or path.is_symlink() or path.suffix == ".pyc"
                    or any(part == "__pycache__" or part.startswith(".") for part in relative.parts)):
                continue
            entries.append((relative.as_posix(), path))
    return entries


def metadata(project: dict, newest: dict[str, tuple[int, ...]]) -> str:
    """The METADATA file (core metadata 2.1) from pyproject.toml's [project] table."""
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}",
             f"Summary: {project['description']}", f"Requires-Python: {project['requires-python']}"]
    lines += [f"Requires-Dist: {dependency}" for dependency in project.get("dependencies", [])]
    for extra, dependencies in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {dependency}; extra == "{extra}"' for dependency in dependencies]
    glibc = ".".join(map(str, newest.get("GLIBC", ())))
    glibcxx = ".".join(map(str, newest.get("GLIBCXX", ())))
    lines += ["Description-Content-Type: text/markdown", "", f"# {project['name']}", "",
              f"{project['description']}.", "",
              f"Needs Linux on x86-64 with glibc {glibc} or newer and a CPU with x86-64-v3 (AVX2, FMA); training also "
              f"needs libstdc++ with GLIBCXX_{glibcxx} (GCC 12 or newer). numpy is optional (extra `numpy`); the "
              "dashboard (`python -m bullet_dashboard`) needs the extra `dashboard`.", ""]
    return "\n".join(lines)


def entry_points(project: dict) -> str:
    """entry_points.txt: the console scripts of pyproject.toml."""
    scripts = project.get("scripts", {})
    return "[console_scripts]\n" + "".join(f"{name} = {target}\n" for name, target in scripts.items())


def _record_hash(digest: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _info(name: str, executable: bool, level: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    # An entry made from a ZipInfo takes its level from the ZipInfo, not from the ZipFile (public as compress_level
    # from Python 3.13, which keeps this name working).
    info._compresslevel = level
    return info


def build(out_dir: Path, level: int) -> tuple[Path, dict[str, tuple[int, ...]]]:
    """Writes the wheel into out_dir (atomically); returns its path and the newest system versions it needs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    natives = native_files()
    newest = check_natives(natives)
    distribution = project["name"].replace("-", "_")
    dist_info = f"{distribution}-{project['version']}.dist-info"
    wheel_path = out_dir / f"{distribution}-{project['version']}-{TAG}.whl"
    files = package_files() + [(f"bullet_native/{p.name}", p) for p in natives]
    generated = {
        f"{dist_info}/METADATA": metadata(project, newest),
        f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: bullet build_wheel.py\nRoot-Is-Purelib: false\nTag: {TAG}\n",
        f"{dist_info}/entry_points.txt": entry_points(project),
        f"{dist_info}/top_level.txt": "".join(f"{package}\n" for package in PACKAGES),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    record = io.StringIO()
    with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".wheel-", suffix=".tmp", delete=False) as tmp:
        try:
            with zipfile.ZipFile(tmp, "w") as wheel:
                for name, path in files:
                    binary = path.suffix == ".so" or ".so." in path.name
                    info = _info(name, binary, level)
                    digest, size = hashlib.sha256(), 0
                    with path.open("rb") as source, wheel.open(info, "w", force_zip64=size_over_2g(path)) as target:
                        while chunk := source.read(CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            target.write(chunk)
                    record.write(f"{name},{_record_hash(digest.digest())},{size}\n")
                for name, text in generated.items():
                    data = text.encode("utf-8")
                    wheel.writestr(_info(name, False, level), data)
                    record.write(f"{name},{_record_hash(hashlib.sha256(data).digest())},{len(data)}\n")
                record.write(f"{dist_info}/RECORD,,\n")
                wheel.writestr(_info(f"{dist_info}/RECORD", False, level), record.getvalue())
            os.chmod(tmp.name, 0o644)
            os.replace(tmp.name, wheel_path)
        except BaseException:
            os.unlink(tmp.name)
            raise
    return wheel_path, newest


def size_over_2g(path: Path) -> bool:
    """Entries past 2 GiB need zip64 headers, which zipfile must know before it writes the entry."""
    return path.stat().st_size >= 1 << 31


def main(argv: list[str] | None = None) -> int:
    """Builds the wheel and prints its path, size and the system versions it needs."""
    parser = argparse.ArgumentParser(description="Build dist/bullet_native-<version>-py3-none-linux_x86_64.whl.")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the wheel (default dist/)")
    parser.add_argument("--level", type=int, default=1, choices=range(0, 10), metavar="0-9",
                        help="deflate level (default 1: libtorch_cpu.so shrinks from 461 to 133 MB in a third of the "
                             "CPU time level 6 takes to reach 115 MB; unpacking costs the same)")
    args = parser.parse_args(argv)
    path, newest = build(args.out, args.level)
    with zipfile.ZipFile(path) as wheel:
        unpacked = sum(info.file_size for info in wheel.infolist())
    needs = ", ".join(f"{prefix}_{'.'.join(map(str, version))}" for prefix, version in newest.items())
    print(f"{path} ({path.stat().st_size / 1e6:.0f} MB, {unpacked / 1e6:.0f} MB installed; needs {needs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
