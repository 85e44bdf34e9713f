"""Drop-in replacements for the old bullet-builder: the BulletBuilder class with its method names."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

from .arrays import float32_bytes
from .bullet_file import build_bullet
from .safetensors_file import write_safetensors


class BulletBuilder:
    """The old builder's Python class: load_vocab, load_merges, set_metadata, add_tensor, build."""

    def __init__(self, out_path: str | os.PathLike[str]):
        """Starts a build that will write ``out_path``."""
        self.out_path = Path(out_path)
        self._vocab: Path | None = None
        self._merges: Path | None = None
        self._metadata: dict[str, int] | None = None
        self._tensors: dict[str, tuple[tuple[int, ...], Any]] = {}
        self.report: dict[str, Any] | None = None

    def load_vocab(self, path: str | os.PathLike[str]) -> None:
        """Uses a vocab.txt (one ``token`` or ``token score`` per line) as the vocabulary."""
        self._vocab = Path(path)

    def load_merges(self, path: str | os.PathLike[str]) -> None:
        """Uses a merges.txt (one ``a b`` per line) as the merge list."""
        self._merges = Path(path)

    def set_metadata(self, hidden: int, layers: int, heads: int, max_context: int) -> None:
        """Sets the model dimensions written into the header."""
        self._metadata = {"hidden_size": int(hidden), "num_layers": int(layers), "num_heads": int(heads), "max_context": int(max_context)}

    def add_tensor(self, name: str, shape: Sequence[int], data: Any) -> None:
        """Adds a float tensor by its .bullet name; ``data`` is a numpy array or a flat sequence of numbers."""
        self._tensors[name] = (tuple(int(s) for s in shape), data)

    def build(self) -> dict[str, Any]:
        """Writes the .bullet file (random test weights if no tensor was added) and returns the build report."""
        if self._vocab is None:
            raise ValueError("call load_vocab(path) before build()")
        if self._metadata is None:
            raise ValueError("call set_metadata(hidden, layers, heads, max_context) before build()")
        with tempfile.TemporaryDirectory(prefix="bullet-builder-") as tmp:
            folder = Path(tmp)
            (folder / "config.json").write_text(json.dumps(self._metadata), encoding="utf-8")
            if self._tensors:
                write_safetensors(folder / "model.safetensors",
                                  {name: (shape, float32_bytes(data)) for name, (shape, data) in self._tensors.items()})
            options: dict[str, Any] = {"vocab_txt": self._vocab}
            if self._merges is not None:
                options["merges_txt"] = self._merges
            if not self._tensors:
                options["random_weights"] = True
            self.report = build_bullet(folder, self.out_path, **options)
        return self.report
