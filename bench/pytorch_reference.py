#!/usr/bin/python3
"""docs/format.md's model (Forward math) and the shakespeare-char recipe in plain PyTorch: the peer for bench train_shakespeare.

The model is bullet_native.torch's BulletTransformer (same architecture and init as the C# trainer: RMSNorm,
interleaved-pair RoPE, SwiGLU 4d, no biases, untied head); the recipe is the same data split (first 90 % train, last
10 % val, character vocabulary), AdamW (no decay on norms and embeddings), warmup + cosine, clipping.
Prints one JSON object. Run with Debian's /usr/bin/python3 and python3-torch; never a product dependency.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

# The model lives once, in the repository's Python package; this script runs without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from bullet_native.torch.model import BulletConfig, BulletTransformer  # noqa: E402


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

    model = BulletTransformer(BulletConfig(vocab_size=len(chars), hidden_size=128, num_layers=4, num_heads=4, max_context=ctx))
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
