#!/usr/bin/python3
"""docs/format.md's model (Forward math) and nanoGPT's CPU shakespeare-char recipe in plain PyTorch: the peer for the training benches.

The model is bullet_native.torch's BulletTransformer (same architecture and init as the C# trainer: RMSNorm,
interleaved-pair RoPE, SwiGLU 4d, no biases, untied head); the recipe is nanoGPT's "baby" CPU run (4 layers, 4 heads,
width 128, context 64, batch 12, character vocabulary, AdamW lr 1e-3 with no decay on norms and embeddings, warmup 100
then cosine to 1e-4, clipping at 1), on the same split (first 90 % train, last 10 % validation).
With --steps it trains that many steps (bench train_shakespeare); with --time-budget it trains for that many seconds
of training time, the cosine following the share of the budget spent (bench speedrun), and then scores the whole
validation part in consecutive windows as our exporter's verification does: nats per character.
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
    parser.add_argument("--time-budget", type=float, help="train for this many seconds instead of --steps")
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
    split = len(ids) - round(0.1 * len(ids))
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

    @torch.no_grad()
    def score_validation():
        """Mean loss over every whole window of the validation part, consecutive back from its end (nats per character)."""
        model.eval()
        count = (len(val) - 1) // ctx
        total = 0.0
        for first in range(0, count, 32):
            starts = [len(val) - 1 - (w + 1) * ctx for w in range(first, min(count, first + 32))]
            x = torch.stack([val[s:s + ctx] for s in starts])
            y = torch.stack([val[s + 1:s + 1 + ctx] for s in starts])
            total += F.cross_entropy(model(x).view(-1, len(chars)), y.view(-1), reduction="sum").item()
        model.train()
        return total / (count * ctx)

    def rate_at(step, progress):
        if step < warmup:
            return lr * (step + 1) / warmup
        return min_lr + 0.5 * (1 + math.cos(math.pi * min(1.0, progress))) * (lr - min_lr)

    val_losses, train_seconds, step = {}, 0.0, 0
    start = time.perf_counter()
    while (train_seconds < args.time_budget) if args.time_budget else (step < args.steps):
        progress = train_seconds / args.time_budget if args.time_budget else (step - warmup) / (args.steps - warmup)
        for group in opt.param_groups:
            group["lr"] = rate_at(step, progress)
        t0 = time.perf_counter()
        x, y = windows(train)
        loss = F.cross_entropy(model(x).view(-1, len(chars)), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_seconds += time.perf_counter() - t0
        step += 1
        if not args.time_budget and (step % args.eval_every == 0 or step == args.steps):
            val_losses[step] = round(evaluate(), 4)
    result = {"steps": step, "tokens_per_sec": round(step * batch * ctx / train_seconds, 1), "train_sec": round(train_seconds, 2),
              "threads": args.threads, "torch": torch.__version__}
    if args.time_budget:
        result["val_nats_per_char"] = round(score_validation(), 5)
    else:
        result["val_loss"] = val_losses
    result["wall_sec"] = round(time.perf_counter() - start, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
