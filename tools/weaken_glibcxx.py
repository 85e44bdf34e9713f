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

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def section_headers(data):
    """Yields (type, offset, size, link) of each ELF64 little-endian section."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise SystemExit("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        base = shoff + i * shentsize
        sh_type, = struct.unpack_from("<I", data, base + 4)
        sh_offset, sh_size = struct.unpack_from("<QQ", data, base + 0x18)
        sh_link, = struct.unpack_from("<I", data, base + 0x28)
        yield sh_type, sh_offset, sh_size, sh_link


def weaken(data, version):
    """Sets VER_FLG_WEAK on every vernaux entry named `version`; returns (found, changed) counts."""
    sections = list(section_headers(data))
    found = changed = 0
    for sh_type, offset, _, link in sections:
        if sh_type != SHT_GNU_VERNEED:
            continue
        strtab = sections[link][1]
        need = offset
        while True:
            _, vn_cnt, _, vn_aux, vn_next = struct.unpack_from("<HHIII", data, need)
            aux = need + vn_aux
            for _ in range(vn_cnt):
                _, flags, _, name_off, vna_next = struct.unpack_from("<IHHII", data, aux)
                name_start = strtab + name_off
                name = bytes(data[name_start:data.index(b"\0", name_start)]).decode()
                if name == version:
                    found += 1
                    if not flags & VER_FLG_WEAK:
                        struct.pack_into("<H", data, aux + 4, flags | VER_FLG_WEAK)
                        changed += 1
                if vna_next == 0:
                    break
                aux += vna_next
            if vn_next == 0:
                break
            need += vn_next
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
