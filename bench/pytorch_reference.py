#!/usr/bin/python3
"""The bullet-format.md §6 model and the shakespeare-char recipe in plain PyTorch: the peer for bench train_shakespeare.

Same architecture (RMSNorm, interleaved-pair RoPE, SwiGLU 4d, no biases, untied head), init, data split (first 90 %
train, last 10 % val, character vocabulary), AdamW (no decay on norms and embeddings), warmup + cosine, clipping.
Prints one JSON object. Run with Debian's /usr/bin/python3 and python3-torch; never a product dependency.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm_attn, self.norm_ffn = RMSNorm(d), RMSNorm(d)
        self.query, self.key, self.value, self.output = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.w1, self.w3 = nn.Linear(d, 4 * d, bias=False), nn.Linear(d, 4 * d, bias=False)
        self.w2 = nn.Linear(4 * d, d, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, d = x.shape
        h = self.norm_attn(x)
        q = rotate(self.query(h).view(b, t, self.heads, -1), cos, sin).transpose(1, 2)
        k = rotate(self.key(h).view(b, t, self.heads, -1), cos, sin).transpose(1, 2)
        v = self.value(h).view(b, t, self.heads, -1).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        y = scores.masked_fill(mask[:t, :t], float("-inf")).softmax(-1) @ v
        x = x + self.output(y.transpose(1, 2).reshape(b, t, d))
        h = self.norm_ffn(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


def rotate(x, cos, sin):
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), -1).flatten(-2)


class Model(nn.Module):
    def __init__(self, vocab, d, layers, heads, ctx):
        super().__init__()
        self.tok_embeddings = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.final_layernorm = RMSNorm(d)
        self.output_head = nn.Linear(d, vocab, bias=False)
        hd = d // heads
        angles = torch.arange(ctx)[:, None] * 10000.0 ** (-2 * torch.arange(hd // 2) / hd)
        self.register_buffer("cos", angles.cos()[:, None, :], persistent=False)
        self.register_buffer("sin", angles.sin()[:, None, :], persistent=False)
        self.register_buffer("mask", torch.ones(ctx, ctx, dtype=torch.bool).triu(1), persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 1:
                nn.init.ones_(p)
            elif name.endswith(("output.weight", "w2.weight")) and "output_head" not in name:
                nn.init.normal_(p, 0, 0.02 / math.sqrt(2 * layers))
            else:
                nn.init.normal_(p, 0, 0.02)

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.tok_embeddings(tokens)
        for layer in self.layers:
            x = layer(x, self.cos[:t], self.sin[:t], self.mask)
        return self.output_head(self.final_layernorm(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--eval-batches", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1337)

    text = open(args.data, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text])
    split = int(0.9 * len(ids))
    train, val = ids[:split], ids[split:]
    batch, ctx, lr, min_lr, warmup = 12, 64, 1e-3, 1e-4, 100

    model = Model(len(chars), 128, 4, 4, ctx)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and n != "tok_embeddings.weight"]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and n != "tok_embeddings.weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.99))

    def windows(data, gen=None):
        starts = torch.randint(len(data) - ctx, (batch,), generator=gen)
        return torch.stack([data[s:s + ctx] for s in starts]), torch.stack([data[s + 1:s + 1 + ctx] for s in starts])

    @torch.no_grad()
    def evaluate():
        model.eval()
        gen = torch.Generator().manual_seed(7)
        losses = [F.cross_entropy(model(x).view(-1, len(chars)), y.view(-1)).item()
                  for x, y in (windows(val, gen) for _ in range(args.eval_batches))]
        model.train()
        return sum(losses) / len(losses)

    val_losses, train_seconds = {}, 0.0
    start = time.perf_counter()
    for step in range(args.steps):
        if step < warmup:
            rate = lr * (step + 1) / warmup
        else:
            rate = min_lr + 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / (args.steps - warmup)))) * (lr - min_lr)
        for group in opt.param_groups:
            group["lr"] = rate
        t0 = time.perf_counter()
        x, y = windows(train)
        loss = F.cross_entropy(model(x).view(-1, len(chars)), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_seconds += time.perf_counter() - t0
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            val_losses[step + 1] = round(evaluate(), 4)
    print(json.dumps({"val_loss": val_losses, "tokens_per_sec": round(args.steps * batch * ctx / train_seconds, 1),
                      "wall_sec": round(time.perf_counter() - start, 2), "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
