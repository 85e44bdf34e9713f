"""The transformer of docs/format.md (Forward math) as a PyTorch module whose parameter names are its tensor names.

It computes what every .bullet reader computes — RMSNorm (eps 1e-5), pairwise-interleaved RoPE (theta 10000),
causal attention, SwiGLU with hidden 4d, no biases, a tied or untied head — so weights trained here pack into
.bullet with nothing renamed or reordered, and a .bullet's weights load back into it.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# Shapes: B batch, T time (positions), C channels (hidden size d), H heads, D head size (C/H), V vocab.

NORM_EPS = 1e-5
ROPE_THETA = 10000.0
FUSED_ATTENTION = hasattr(F, "scaled_dot_product_attention")  # PyTorch 2: one fused kernel


@dataclass
class BulletConfig:
    """The model's shape, with the keys of the builder's config.json (max_context is the trainer's max_seq_len)."""

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    max_context: int
    tied_head: bool = False
    dropout: float = 0.0
    model_name: str = "bullet-model"

    def __post_init__(self) -> None:
        d, h = self.hidden_size, self.num_heads
        problems = []
        if not 2 <= self.vocab_size <= 65535:
            problems.append(f"vocab_size {self.vocab_size} must be between 2 and 65535")
        if d <= 0 or d % 32:
            problems.append(f"hidden_size {d} must be a positive multiple of 32")
        if self.num_layers <= 0:
            problems.append(f"num_layers {self.num_layers} must be at least 1")
        if h <= 0 or d % h or (d // h) % 2:
            problems.append(f"num_heads {h} must divide hidden_size {d} into an even head size")
        if self.max_context < 2:
            problems.append(f"max_context {self.max_context} must be at least 2")
        if not 0 <= self.dropout < 1:
            problems.append(f"dropout {self.dropout} must be in [0, 1)")
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "BulletConfig":
        """From a builder config.json, an unpacked .bullet's, or a trainer config (max_seq_len); unknown keys are ignored."""
        max_context = values.get("max_context", values.get("max_seq_len"))
        missing = [k for k in ("vocab_size", "hidden_size", "num_layers", "num_heads") if k not in values]
        if max_context is None:
            missing.append("max_context")
        if missing:
            raise ValueError(f"the config has no {', '.join(missing)}")
        return cls(vocab_size=int(values["vocab_size"]), hidden_size=int(values["hidden_size"]),
                   num_layers=int(values["num_layers"]), num_heads=int(values["num_heads"]), max_context=int(max_context),
                   tied_head=bool(values.get("tied_head", False)), dropout=float(values.get("dropout", 0.0)),
                   model_name=str(values.get("model_name") or "bullet-model"))

    def to_dict(self) -> dict[str, Any]:
        """The builder's config.json (plus tied_head and dropout, which it ignores)."""
        return asdict(self)

    @property
    def head_size(self) -> int:
        """Width of one attention head."""
        return self.hidden_size // self.num_heads


def tensor_names(config: BulletConfig) -> list[str]:
    """Every tensor name (docs/format.md, Tensors) of a model of this shape, in the order .bullet files store them."""
    names = ["tok_embeddings.weight"]
    for i in range(config.num_layers):
        names += [f"layers.{i}.{suffix}" for suffix in (
            "norm.attn.weight", "attention.query.weight", "attention.key.weight", "attention.value.weight",
            "attention.output.weight", "norm.ffn.weight", "ffn.w1.weight", "ffn.w3.weight", "ffn.w2.weight")]
    return names + ["final_layernorm.weight", "output_head.weight"]


class RMSNorm(nn.Module):
    """x / sqrt(mean(x²) + 1e-5) · weight over the last dimension."""

    def __init__(self, size: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + NORM_EPS) * self.weight


class BlockNorms(nn.Module):
    """The two RMSNorms of a block, so their names are `norm.attn` and `norm.ffn`."""

    def __init__(self, size: int):
        super().__init__()
        self.attn = RMSNorm(size)
        self.ffn = RMSNorm(size)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE on x [B, T, H, D]: pair (2i, 2i+1) becomes (a cos - b sin, a sin + b cos); cos, sin are [T, 1, D/2]."""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), -1).flatten(-2)


class Attention(nn.Module):
    """Causal multi-head self-attention with RoPE on q and k; no biases."""

    def __init__(self, config: BulletConfig):
        super().__init__()
        d = config.hidden_size
        self.config = config  # shared with the whole model, so a changed dropout reaches every layer
        self.heads = config.num_heads
        self.query = nn.Linear(d, d, bias=False)
        self.key = nn.Linear(d, d, bias=False)
        self.value = nn.Linear(d, d, bias=False)
        self.output = nn.Linear(d, d, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """x [B, T, C] to [B, T, C]; mask [T, T] is True above the diagonal (None with the fused kernel)."""
        b, t, c = x.shape
        q = rotate(self.query(x).view(b, t, self.heads, -1), cos, sin).transpose(1, 2)  # [B, H, T, D]
        k = rotate(self.key(x).view(b, t, self.heads, -1), cos, sin).transpose(1, 2)
        v = self.value(x).view(b, t, self.heads, -1).transpose(1, 2)
        if FUSED_ATTENTION:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
            y = scores.masked_fill(mask, float("-inf")).softmax(-1) @ v
        y = self.output(y.transpose(1, 2).reshape(b, t, c))
        return F.dropout(y, self.config.dropout, self.training)


class FeedForward(nn.Module):
    """SwiGLU: w2(silu(w1 x) · w3 x), hidden 4d."""

    def __init__(self, config: BulletConfig):
        super().__init__()
        d = config.hidden_size
        self.config = config
        self.w1 = nn.Linear(d, 4 * d, bias=False)
        self.w3 = nn.Linear(d, 4 * d, bias=False)
        self.w2 = nn.Linear(4 * d, d, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(self.w2(F.silu(self.w1(x)) * self.w3(x)), self.config.dropout, self.training)


class Block(nn.Module):
    """One pre-norm block: x + attention(norm.attn(x)), then x + ffn(norm.ffn(x))."""

    def __init__(self, config: BulletConfig):
        super().__init__()
        self.norm = BlockNorms(config.hidden_size)
        self.attention = Attention(config)
        self.ffn = FeedForward(config)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.attention(self.norm.attn(x), cos, sin, mask)
        return x + self.ffn(self.norm.ffn(x))


class BulletTransformer(nn.Module):
    """The docs/format.md model; ``state_dict()`` keys are exactly its tensor names (a tied head appears under both names)."""

    def __init__(self, config: BulletConfig):
        super().__init__()
        self.config = config
        d = config.hidden_size
        self.tok_embeddings = nn.Embedding(config.vocab_size, d)
        self.layers = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.final_layernorm = RMSNorm(d)
        self.output_head = nn.Linear(d, config.vocab_size, bias=False)
        if config.tied_head:
            self.output_head.weight = self.tok_embeddings.weight
        # The RoPE angles in float64, as the C# runtime computes them, then stored as float32; not saved in state_dict.
        hd = config.head_size
        angles = torch.arange(config.max_context, dtype=torch.float64)[:, None] \
            * ROPE_THETA ** (-2 * torch.arange(hd // 2, dtype=torch.float64) / hd)
        self.register_buffer("rope_cos", angles.cos().float()[:, None, :], persistent=False)
        self.register_buffer("rope_sin", angles.sin().float()[:, None, :], persistent=False)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """GPT-2's initialization, as the C# trainer's (Model/BulletTransformer.cs): N(0, 0.02) for embeddings and
        projections, the two projections that write into the residual stream (attention.output, ffn.w2) scaled by
        1/sqrt(2·layers) so the residual stream's variance does not grow with depth, RMSNorm weights 1. At these
        widths it trains stably from step 0 with lr up to ~1e-3, where PyTorch's default uniform(±1/sqrt(in)) makes
        early logits too large. Draws from torch's global generator (torch.manual_seed)."""
        residual_std = 0.02 / math.sqrt(2 * self.config.num_layers)
        for name, weight in self.named_parameters():  # a tied head is visited once, as the embedding
            if weight.dim() == 1:
                weight.fill_(1.0)
            elif name.endswith(("attention.output.weight", "ffn.w2.weight")):
                weight.normal_(0.0, residual_std)
            else:
                weight.normal_(0.0, 0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids [B, T] (int64) to logits [B, T, V]."""
        t = tokens.shape[1]
        if t > self.config.max_context:
            raise ValueError(f"sequence of {t} tokens is longer than max_context {self.config.max_context}")
        x = F.dropout(self.tok_embeddings(tokens), self.config.dropout, self.training)
        cos, sin = self.rope_cos[:t], self.rope_sin[:t]
        # Only the pre-2.0 attention needs it; made per call, not kept as a buffer, because DDP's gloo backend cannot
        # broadcast bool buffers.
        mask = None if FUSED_ATTENTION else torch.ones(t, t, dtype=torch.bool, device=tokens.device).triu(1)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.output_head(self.final_layernorm(x))

    def bullet_names(self) -> list[str]:
        """The tensor names of this model, in file order (the keys of ``state_dict()``, reordered)."""
        return tensor_names(self.config)

    def bullet_tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor by its docs/format.md name, in file order, detached (a tied head's tensor under both names)."""
        state = self.state_dict()
        return {name: state[name].detach() for name in self.bullet_names()}


def from_config(config: "str | os.PathLike[str] | dict[str, Any] | BulletConfig") -> BulletTransformer:
    """A freshly initialized model from a config.json path, a dict of its keys, or a BulletConfig."""
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as f:
            config = json.load(f)
    if isinstance(config, dict):
        config = BulletConfig.from_dict(config)
    return BulletTransformer(config)
