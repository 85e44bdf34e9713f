"""A .bullet reader written only from docs/format.md, with struct, json and numpy: never bullet_native's readers.

Tests hold the library's files and the reference builder's fixtures against it, so the document, the writer and
the reader cannot drift apart unnoticed. Each function names the section of docs/format.md it follows.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

import numpy as np

from conftest import TENSOR_SUFFIXES

# Header: the leaf names a text-searching reader looks for, in the order the required keys come.
REQUIRED_NAMES = ["bullet_version", "model_name", "architecture", "hidden_size", "num_layers", "num_heads", "type",
                  "vocab_size", "max_context", "tokenizer_start", "weights_start"]
TASK_HEADS = ["gen_head.weight", "ner_head.weight", "cls_head.weight", "intent_head.weight", "sentiment_head.weight"]


class SpecError(ValueError):
    """The file breaks a rule that docs/format.md (Validation) makes an error."""


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64 (Weights block)."""
    h = 14695981039346656037
    for byte in data:
        h = ((h ^ byte) * 1099511628211) % 2**64
    return h


def align_up(offset: int, alignment: int) -> int:
    """The smallest multiple of alignment that is at least offset."""
    return -(-offset // alignment) * alignment


def text_search_number(text: str, key: str) -> int | None:
    """The number after the first `"key":` and optional spaces/newlines, as a text-searching reader reads it (Header)."""
    at = text.find(f'"{key}":')
    if at < 0:
        return None
    i = at + len(key) + 3
    while i < len(text) and text[i] in " \n\r\t":
        i += 1
    j = i + (text[i:i + 1] == "-")
    while j < len(text) and text[j].isdigit():
        j += 1
    return int(text[i:j]) if j > i else None


def tensor_shapes(d: int, layers: int, vocab: int) -> list[tuple[str, tuple[int, ...]]]:
    """Every required tensor with its shape, in the order of the table in Tensors."""
    shapes = [("tok_embeddings.weight", (vocab, d))]
    for i in range(layers):
        shapes += [(f"layers.{i}.{suffix}", shape(d)) for suffix, shape in TENSOR_SUFFIXES]
    return shapes + [("final_layernorm.weight", (d,)), ("output_head.weight", (vocab, d))]


def decode_bq4(raw: bytes, n: int) -> np.ndarray:
    """n float32 values from BQ4 blocks: value = (nibble - zero) * scale (BQ4 block)."""
    blocks = np.frombuffer(raw, np.uint8).reshape(-1, 20)
    scale = blocks[:, 0:2].copy().view("<f2").astype(np.float32)
    zero = blocks[:, 2].view(np.int8).astype(np.float32)[:, None]
    packed = blocks[:, 4:20]
    nibbles = np.stack([packed & 0xF, packed >> 4], axis=-1).reshape(-1, 32).astype(np.float32)
    return ((nibbles - zero) * scale).reshape(-1)[:n]


def encode(text: str, tokens: list[bytes], merges: list[tuple[bytes, bytes]]) -> list[int]:
    """Token ids by the encoding rule of Tokenizer block, step by step."""
    ids: dict[bytes, int] = {}
    for i, token in enumerate(tokens):
        ids.setdefault(token, i)
    data = text.encode("utf-8")
    pieces_of_text: list[list[bytes]] = []
    word = b""
    for byte in data:
        if byte == 0x20:
            if word:
                pieces_of_text.append([ch.encode("utf-8") for ch in word.decode("utf-8")])
                word = b""
            pieces_of_text.append([b" "])
        else:
            word += bytes([byte])
    if word:
        pieces_of_text.append([ch.encode("utf-8") for ch in word.decode("utf-8")])
    result = []
    for pieces in pieces_of_text:
        for a, b in merges:
            joined, i = [], 0
            while i < len(pieces):
                if i + 1 < len(pieces) and pieces[i] == a and pieces[i + 1] == b:
                    joined.append(a + b)
                    i += 2
                else:
                    joined.append(pieces[i])
                    i += 1
            pieces = joined
        result += [ids.get(piece, 0) for piece in pieces]
    return result


@dataclass
class Tensor:
    """One entry of the weights block."""
    index: int
    name_hash: int
    rank: int
    shape: tuple[int, ...]
    quant_type: int
    entry_offset: int
    data_offset: int
    data_bytes: int
    name: str | None = None


@dataclass
class SpecFile:
    """A file as docs/format.md describes it; `warnings` lists what Validation calls warnings."""
    data: bytes
    header_text: str
    header: dict
    dims: dict
    tokenizer_end: int
    tokens: list[bytes]
    scores: list[float]
    merges: list[tuple[bytes, bytes]]
    tensors: list[Tensor]
    used: dict[str, Tensor] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def values(self, name: str) -> np.ndarray:
        """The decoded values of a used tensor, shaped."""
        t = self.used[name]
        n = int(np.prod(t.shape))
        return decode_bq4(self.data[t.data_offset:t.data_offset + t.data_bytes], n).reshape(t.shape)


class _Cursor:
    """Reads little-endian fields up to a limit, refusing to run past it."""

    def __init__(self, data: bytes, position: int, limit: int, what: str):
        self.data, self.position, self.limit, self.what = data, position, limit, what

    def take(self, n: int) -> bytes:
        if self.position + n > self.limit:
            raise SpecError(f"{self.what} runs past offset {self.limit}")
        chunk = self.data[self.position:self.position + n]
        self.position += n
        return chunk

    def unpack(self, fmt: str):
        values = struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))
        return values[0] if len(values) == 1 else values


def read(data: bytes) -> SpecFile:
    """Parses and validates a whole file image, section by section."""
    # Layout and Header.
    if len(data) < 8 or data[:1] != b"{":
        raise SpecError("not a .bullet file")
    header_end = data.find(b"\0\0\0\0")
    if header_end < 0:
        raise SpecError("the header has no terminator")
    text = data[:header_end].decode("utf-8")
    header = json.loads(text)
    dims = {"hidden_size": header["dimensions"]["hidden_size"], "num_layers": header["dimensions"]["num_layers"],
            "num_heads": header["dimensions"]["num_heads"], "vocab_size": header["vocab_size"],
            "max_context": header["max_context"], "tokenizer_start": header["file_offsets"]["tokenizer_start"],
            "weights_start": header["file_offsets"]["weights_start"]}
    if header["quantization"]["type"] != "BQ4":
        raise SpecError("quantization.type is not BQ4")
    d, heads = dims["hidden_size"], dims["num_heads"]
    if d <= 0 or d % 32 or d > 16383 or d % heads or (d // heads) % 2 or not 1 <= dims["vocab_size"] <= 65535:
        raise SpecError(f"invalid dimensions {dims}")
    warnings = []
    if header["bullet_version"] != "1.0" or header["architecture"] != "bullet-hybrid-transformer":
        warnings.append("unknown version or architecture")
    for key, value in dims.items():
        if text_search_number(text, key) != value:
            warnings.append(f'a text search for "{key}": reads another number')
    tokenizer_start, weights_start = dims["tokenizer_start"], dims["weights_start"]
    if tokenizer_start % 4096 or not header_end + 4 <= tokenizer_start < len(data):
        raise SpecError(f"tokenizer_start {tokenizer_start}")
    if weights_start % 64 or not tokenizer_start + 12 <= weights_start < len(data):
        raise SpecError(f"weights_start {weights_start}")
    if any(data[header_end + 4:tokenizer_start]):
        warnings.append("non-zero bytes after the header")

    # Tokenizer block.
    cursor = _Cursor(data, tokenizer_start, weights_start, "the tokenizer block")
    if cursor.take(4) != b"BULK":
        raise SpecError("no BULK")
    tokens, scores = [], []
    for _ in range(cursor.unpack("I")):
        score, length = cursor.unpack("fH")
        scores.append(score)
        tokens.append(cursor.take(length))
    merges = [(cursor.take(cursor.unpack("H")), cursor.take(cursor.unpack("H"))) for _ in range(cursor.unpack("I"))]
    if len(tokens) != dims["vocab_size"]:
        raise SpecError(f"{len(tokens)} tokens for vocab_size {dims['vocab_size']}")
    tokenizer_end = cursor.position
    if any(data[tokenizer_end:weights_start]):
        warnings.append("non-zero bytes after the tokenizer block")

    # Weights block.
    cursor = _Cursor(data, weights_start, len(data) - 4, "the weights block")
    if cursor.take(4) != b"BWT0":
        raise SpecError("no BWT0")
    tensors = []
    for index in range(cursor.unpack("I")):
        entry_offset = cursor.position
        name_hash, rank, s0, s1, s2, s3, quant_type, data_bytes = cursor.unpack("QB4HBI")
        if not 1 <= rank <= 4:
            raise SpecError(f"tensor {index} has rank {rank}")
        cursor.take(align_up(cursor.position, 32) - cursor.position)
        data_offset = cursor.position
        cursor.take(data_bytes)
        tensors.append(Tensor(index, name_hash, rank, (s0, s1, s2, s3)[:rank], quant_type, entry_offset, data_offset,
                              data_bytes))
    if data[cursor.position:] != b"END!":
        raise SpecError("the footer is not END! at the end of the file")

    # Tensors and Validation: names by hash, then the required set.
    spec = SpecFile(data, text, header, dims, tokenizer_end, tokens, scores, merges, tensors, warnings=warnings)
    required = tensor_shapes(d, dims["num_layers"], dims["vocab_size"])
    names = {fnv1a64(name.encode()): name for name, _ in required} | {fnv1a64(h.encode()): h for h in TASK_HEADS}
    for t in tensors:
        t.name = names.get(t.name_hash)
        if t.name is None:
            warnings.append(f"tensor {t.index} has an unknown name")
        elif t.quant_type != 0:
            warnings.append(f"{t.name} is not BQ4")
        elif t.data_bytes != -(-int(np.prod(t.shape)) // 32) * 20:
            warnings.append(f"{t.name} has {t.data_bytes} bytes for its shape")
        elif t.name in spec.used:
            warnings.append(f"{t.name} appears twice")
        else:
            spec.used[t.name] = t
    for name, shape in required:
        found = spec.used.get(name)
        if found is None:
            raise SpecError(f"{name} is missing")
        if name in ("tok_embeddings.weight", "output_head.weight") and found.shape[1:] == shape[1:] and found.shape[0] > shape[0]:
            warnings.append(f"{name} has {found.shape[0]} rows for a vocabulary of {shape[0]}")
        elif found.shape != shape:
            raise SpecError(f"{name} has shape {found.shape}, expected {shape}")
    return spec
