#!/usr/bin/env python3
"""Marks a shared library's GLIBCXX_3.4.32 version requirement weak, in place, so it loads on Debian 12.

TorchSharp's libLibTorchSharp.so is linked against GCC 13's libstdc++ and records a need for
GLIBCXX_3.4.32, which Debian 12 (GCC 12, up to GLIBCXX_3.4.30) lacks. The only symbol bound to that
version is one nothing calls, so a weak requirement (VER_FLG_WEAK in its .gnu.version_r entry) lets
the dynamic loader accept the library. Running the script again changes nothing.

usage: weaken_glibcxx.py LIBRARY.so [VERSION]
"""
import os
import struct
import sys

from elf_needs import VER_FLG_WEAK, version_needs


def weaken(data, version):
    """Sets VER_FLG_WEAK on every requirement named `version`; returns (found, changed) counts."""
    found = changed = 0
    for need in version_needs(data):
        if need.version == version:
            found += 1
            if not need.weak:
                struct.pack_into("<H", data, need.flags_offset, need.flags | VER_FLG_WEAK)
                changed += 1
    return found, changed


def main(argv):
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__.strip().splitlines()[-1])
    path, version = argv[1], argv[2] if len(argv) == 3 else "GLIBCXX_3.4.32"
    with open(path, "rb") as f:
        data = bytearray(f.read())
    found, changed = weaken(data, version)
    if changed:
        # Write beside and rename, so a reader never sees a half-written library.
        tmp = path + ".weaken.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, os.stat(path).st_mode)
        os.replace(tmp, path)
    print(f"{path}: {version} required {found}x, newly marked weak {changed}x")


if __name__ == "__main__":
    main(sys.argv)
