"""What a shared library needs of others, read from its ELF64 bytes: the libraries it links (DT_NEEDED) and the
symbol versions it requires of them (its .gnu.version_r section).

A library that needs GLIBC_2.34 of libc.so.6 loads only where the C library provides that version; the dynamic
loader refuses it otherwise, unless the requirement is marked weak.
"""
from __future__ import annotations

import re
import struct
from typing import Iterator, NamedTuple

SHT_DYNAMIC = 6
SHT_GNU_VERNEED = 0x6FFFFFFE
DT_NEEDED = 1
VER_FLG_WEAK = 0x2


class VersionNeed(NamedTuple):
    """One required version: the library that must provide it, its name, its flags and where the flags are stored."""
    library: str
    version: str
    flags: int
    flags_offset: int

    @property
    def weak(self) -> bool:
        """A weak requirement does not stop the library from loading where the version is missing."""
        return bool(self.flags & VER_FLG_WEAK)


def section_headers(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Yields (type, offset, size, link) of each ELF64 little-endian section."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    for i in range(shnum):
        base = shoff + i * shentsize
        sh_type, = struct.unpack_from("<I", data, base + 4)
        sh_offset, sh_size = struct.unpack_from("<QQ", data, base + 0x18)
        sh_link, = struct.unpack_from("<I", data, base + 0x28)
        yield sh_type, sh_offset, sh_size, sh_link


def _string(data: bytes, start: int) -> str:
    return bytes(data[start:data.index(b"\0", start)]).decode()


def needed_libraries(data: bytes) -> list[str]:
    """The sonames the library links against (its DT_NEEDED entries), in order."""
    sections = list(section_headers(data))
    names = []
    for sh_type, offset, size, link in sections:
        if sh_type != SHT_DYNAMIC:
            continue
        strtab = sections[link][1]
        for entry in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, entry)
            if tag == DT_NEEDED:
                names.append(_string(data, strtab + value))
    return names


def version_needs(data: bytes) -> Iterator[VersionNeed]:
    """Every version requirement (Elf64_Verneed entries and their Elf64_Vernaux lists)."""
    sections = list(section_headers(data))
    for sh_type, offset, _, link in sections:
        if sh_type != SHT_GNU_VERNEED:
            continue
        strtab = sections[link][1]
        need = offset
        while True:
            _, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", data, need)
            library = _string(data, strtab + vn_file)
            aux = need + vn_aux
            for _ in range(vn_cnt):
                _, flags, _, name_off, vna_next = struct.unpack_from("<IHHII", data, aux)
                yield VersionNeed(library, _string(data, strtab + name_off), flags, aux + 4)
                if vna_next == 0:
                    break
                aux += vna_next
            if vn_next == 0:
                break
            need += vn_next


def highest(needs: Iterator[VersionNeed], prefix: str) -> tuple[int, ...] | None:
    """The highest non-weak version named PREFIX_x.y.z (e.g. prefix "GLIBC"), as a tuple of numbers, or None."""
    numbers = [tuple(int(n) for n in m.group(1).split("."))
               for need in needs if not need.weak
               for m in [re.fullmatch(re.escape(prefix) + r"_([0-9.]+)", need.version)] if m]
    return max(numbers, default=None)
