"""Train the .bullet model data-parallel with PyTorch (DistributedDataParallel), then pack it into .bullet.

Every process holds the whole model; each step each process trains on its own share of the windows (DistributedSampler)
and DDP averages the gradients, so all processes keep identical weights. Backend gloo on CPU, nccl on CUDA.
Rank 0 writes the tokenizer, checkpoints and the final export: out/final/ (the builder's folder) and out/model.bullet,
packed by our builder and checked against the float model by our runtime (perplexity ratio).

    # one machine, 2 CPU processes (from the repository root)
    python3 -m torch.distributed.run --nproc_per_node 2 examples/train_ddp.py --text data.txt --out run

See README.md, "Bigger than one machine", for several machines and for a GPU (Colab).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler

# Run from a checkout: use the package beside this script (an installed bullet_native works the same).
CHECKOUT_PACKAGE = Path(__file__).resolve().parents[1] / "python"
if (CHECKOUT_PACKAGE / "bullet_native").is_dir():
    sys.path.insert(0, str(CHECKOUT_PACKAGE))

from bullet_native import Tokenizer  # noqa: E402
from bullet_native.torch import BulletConfig, BulletTransformer, export, from_bullet, from_checkpoint, to_bullet  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--text", required=True, help="training text (UTF-8); its last --val-fraction is held out")
    p.add_argument("--out", required=True, help="output folder (tokenizer, checkpoint/, final/, model.bullet)")
    p.add_argument("--tokenizer", help="a tokenizer.json or .bullet to use instead of training one on the text")
    p.add_argument("--vocab-size", type=int, default=0, help="train a BPE tokenizer of this size (0: one token per character)")
    p.add_argument("--init-from", help="continue from a .bullet, an exported folder or a trainer checkpoint (its shape and tokenizer)")
    p.add_argument("--hidden-size", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--tied-head", action="store_true")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=12, help="windows per process per step")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--checkpoint-every", type=int, default=0, help="rank 0 exports the model to out/checkpoint/ every N steps (0: never); --init-from continues from it "
                   "(the optimizer starts afresh)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per process (CPU)")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--log-ranks", action="store_true",
                   help="each rank writes out/rank<r>.json: the window indices it trained on and a hash of its final weights")
    return p.parse_args()


class Windows(Dataset):
    """Non-overlapping windows of context+1 tokens; item i is (i, inputs, targets)."""

    def __init__(self, tokens: torch.Tensor, context: int):
        self.tokens, self.context = tokens, context

    def __len__(self) -> int:
        return (len(self.tokens) - 1) // self.context

    def __getitem__(self, i: int):
        chunk = self.tokens[i * self.context:(i + 1) * self.context + 1]
        return i, chunk[:-1], chunk[1:]


def learning_rate(step: int, args: argparse.Namespace) -> float:
    """Linear warmup, then cosine decay to min_lr (the C# trainer's schedule)."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (args.lr - args.min_lr)


def load_tokenizer(args: argparse.Namespace, text: str, rank: int) -> Tokenizer:
    """Rank 0 makes the tokenizer; its tokenizer.json is sent to every rank (machines need not share a disk)."""
    path = Path(args.out) / "tokenizer.json"
    if rank == 0:
        if args.tokenizer:
            tokenizer = Tokenizer.load(args.tokenizer)
        elif args.init_from:
            tokenizer = Tokenizer.load(args.init_from)  # a .bullet's own, or the folder's tokenizer.json
        elif args.vocab_size:
            tokenizer = Tokenizer.train(text, vocab_size=args.vocab_size)
        else:
            tokenizer = Tokenizer.train(text, mode="char")
        tokenizer.save(path)
    payload = [path.read_bytes() if rank == 0 else None]
    dist.broadcast_object_list(payload, src=0)
    if rank == 0:
        return tokenizer
    with tempfile.TemporaryDirectory() as tmp:  # not out/: ranks on one machine would write the same file
        (Path(tmp) / "tokenizer.json").write_bytes(payload[0])
        return Tokenizer.load(Path(tmp) / "tokenizer.json")


def weights_hash(model: BulletTransformer) -> str:
    digest = hashlib.sha256()
    for tensor in model.bullet_tensors().values():
        digest.update(tensor.to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def main() -> None:
    args = parse_args()
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu")  # one GPU per process
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo")  # torchrun sets RANK, WORLD_SIZE, MASTER_ADDR/PORT
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # the same initial weights everywhere (DDP also copies rank 0's at the start)
    Path(args.out).mkdir(parents=True, exist_ok=True)

    text = Path(args.text).read_text(encoding="utf-8")
    tokenizer = load_tokenizer(args, text, rank)
    tokens = torch.from_numpy(tokenizer.encode(text, as_numpy=True).astype("int64"))
    split = int(len(tokens) * (1 - args.val_fraction))
    train_tokens, val_tokens = tokens[:split], tokens[split:]

    if args.init_from:
        model = (from_bullet if args.init_from.endswith(".bullet") else from_checkpoint)(args.init_from)[0]
        model.config.dropout = args.dropout
    else:
        model = BulletTransformer(BulletConfig(
            vocab_size=tokenizer.vocab_size, hidden_size=args.hidden_size, num_layers=args.layers, num_heads=args.heads,
            max_context=args.context, tied_head=args.tied_head, dropout=args.dropout))
    context = model.config.max_context
    model.to(device)
    # The only buffers are the constant RoPE tables: no need to broadcast them before every forward pass.
    ddp = DistributedDataParallel(model, device_ids=[device.index] if cuda else None, broadcast_buffers=False)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and n != "tok_embeddings.weight"]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and n != "tok_embeddings.weight")]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.99))

    windows = Windows(train_tokens, context)
    sampler = DistributedSampler(windows, num_replicas=world, rank=rank, shuffle=True, seed=args.seed, drop_last=True)
    loader = DataLoader(windows, batch_size=args.batch_size, sampler=sampler, drop_last=True)
    if len(loader) == 0:
        raise SystemExit(f"too little text: {len(windows)} windows of {context} tokens for {world} processes × batch {args.batch_size}")

    val = Windows(val_tokens, context)

    @torch.no_grad()
    def val_loss() -> float:
        """Loss on the first 32 held-out windows (rank 0 alone: the plain module, no collective)."""
        model.eval()
        _, x, y = zip(*(val[i] for i in range(min(len(val), 32))))
        loss = F.cross_entropy(model(torch.stack(x).to(device)).flatten(0, 1), torch.stack(y).to(device).flatten())
        model.train()
        return float(loss)

    seen: list[list[int]] = []
    step, epoch, train_seconds = 0, 0, 0.0
    model.train()
    while step < args.steps:
        sampler.set_epoch(epoch)  # a new shuffle each pass, the same on every rank, split between ranks
        for indices, x, y in loader:
            if step == args.steps:
                break
            started = time.perf_counter()
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, args)
            loss = F.cross_entropy(ddp(x.to(device)).flatten(0, 1), y.to(device).flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # DDP averages the gradients of all ranks here
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            train_seconds += time.perf_counter() - started
            step += 1
            if args.log_ranks:
                seen.append(indices.tolist())
            if rank == 0 and len(val) and (step % args.eval_every == 0 or step == args.steps):
                print(f"step {step}: train loss {loss.item():.4f}, val loss {val_loss():.4f}", flush=True)
            if rank == 0 and args.checkpoint_every and step % args.checkpoint_every == 0:
                export(model, tokenizer, Path(args.out) / "checkpoint")
        epoch += 1

    tokens_per_second = step * args.batch_size * context / train_seconds  # this rank's share
    total = torch.tensor([tokens_per_second], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    if args.log_ranks:
        (Path(args.out) / f"rank{rank}.json").write_text(json.dumps(
            {"rank": rank, "world_size": world, "windows": seen, "weights_sha256": weights_hash(model),
             "tokens_per_second": tokens_per_second}))
    if rank == 0:
        export(model, tokenizer, Path(args.out) / "final")
        val_text = tokenizer.decode(val_tokens[:8 * context].tolist()) if len(val_tokens) > 1 else None
        report = to_bullet(model, tokenizer, Path(args.out) / "model.bullet", val_text=val_text)
        summary = {"steps": step, "processes": world, "tokens_per_second": round(float(total), 1), "bullet": report["path"]}
        summary.update({k: report[k] for k in ("float_perplexity", "bq4_perplexity", "perplexity_ratio") if k in report})
        print(json.dumps(summary), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
