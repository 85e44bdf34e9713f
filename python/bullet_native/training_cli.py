"""`python -m bullet_native train`: train a model on a text file and write a verified .bullet."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._native import BulletError
from .training import TrainingSession, presets


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _progress(event: dict) -> str:
    """One line per evaluation: step, losses, tokens/s, ETA."""
    return (f"step {event['step']}/{event['total_steps']}  train {event['train_loss']:.4f}  val {event['val_loss']:.4f}"
            f" ({event['val_bpc']:.3f} bits/char)  {event['tokens_per_sec']:,.0f} tok/s"
            f"  trained {_duration(event['training_sec'])}  ETA {_duration(event['eta_sec'])}")


def main_train(argv: list[str] | None = None) -> int:
    """Trains on --data (a preset, or without one a shape chosen for the text and this machine), prints progress per
    evaluation, exports --out."""
    parser = argparse.ArgumentParser(prog="python -m bullet_native train", description=__doc__)
    parser.add_argument("--preset", choices=sorted(presets()),
                        help="starting config (default: none; the trainer chooses shape and recipe for the text and machine)")
    parser.add_argument("--data", required=True, help="UTF-8 text file to train on")
    parser.add_argument("--out", required=True, help="the .bullet file to write")
    parser.add_argument("--config", help="JSON file or JSON text of config keys over the preset")
    parser.add_argument("--steps", type=int, help="total optimizer steps")
    parser.add_argument("--time-budget", type=float, metavar="SECONDS",
                        help="train for this many seconds of training time (tokenizer and export come on top)")
    parser.add_argument("--threads", type=int, help="torch threads")
    parser.add_argument("--output-dir", help="folder for checkpoints (default: none)")
    parser.add_argument("--samples", action="store_true", help="print generated samples as they come")
    args = parser.parse_args(argv)

    config: dict = {"preset": args.preset} if args.preset else {}
    if args.config:
        text = Path(args.config).read_text() if Path(args.config).is_file() else args.config
        config.update(json.loads(text))
    if args.steps is not None:
        config["total_steps"] = args.steps
    if args.time_budget is not None:
        config["time_budget_s"] = args.time_budget
    if args.threads is not None:
        config["threads"] = args.threads

    try:
        with TrainingSession(config, text_path=args.data, output_dir=args.output_dir) as session:
            session.start()
            for event in session:
                kind = event["type"]
                if kind == "started":
                    for note in event.get("notes", []):
                        print(f"note: {note}")
                    limit = (f"for {event['time_budget_s']:g} s (about {event['total_steps']} steps)" if event.get("time_budget_s")
                             else f"{event['total_steps']} steps")
                    print(f"training {event['parameters']:,} parameters on {event['train_tokens']:,} tokens "
                          f"(validation {event['val_tokens']:,}), vocabulary {event['vocab_size']}, {limit}")
                elif kind == "metrics" and event.get("val_loss") is not None:
                    print(_progress(event), flush=True)
                elif kind == "sample" and args.samples:
                    print(f"  sample: {event['prompt']}{event['text']!r}")
                elif kind == "early_stopped":
                    print(f"early stop at step {event['step']} (best val {event['best_val_loss']:.4f} at step {event['best_step']})")
                elif kind == "error":
                    print(f"error: {event['message']}", file=sys.stderr)
                    return 1
            result = session.export(args.out)
    except BulletError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {result['path']} ({result['bytes']:,} bytes)")
    part = "held-out" if result.get("verified_on") == "validation" else "training"
    print(f"verification on {result['verify_tokens']:,} {part} tokens: float loss {result['float_val_loss']:.4f} "
          f"(ppl {result['float_perplexity']:.3f}, {result['float_bpc']:.4f} bits/char), BQ4 loss {result['bq4_val_loss']:.4f} "
          f"(ppl {result['bq4_perplexity']:.3f}, {result['bq4_bpc']:.4f} bits/char), "
          f"ratio {result['perplexity_ratio']:.4f}, top-1 agreement {result['top1_agreement']:.2%}")
    return 0
