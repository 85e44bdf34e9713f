// A run's curves, built from its "started" and "metrics" events: the Train tab's charts and the Runs view's overlay
// read the same arrays, one entry per logged step.
import type { SessionEvent } from "./eventStream";

export type Curves = {
  steps: number[];
  trainLoss: number[];
  /** null where the step had no evaluation (likewise for the other optional series). */
  valLoss: (number | null)[];
  trainBpc: (number | null)[];
  valBpc: (number | null)[];
  lr: (number | null)[];
  tokensPerSec: (number | null)[];
  /** Training seconds since the run began, across resumes (each resumed run counts its own time from 0). */
  elapsed: (number | null)[];
  /** Tokens one step trains on (batch × context × accumulation), from the started event; null when unknown. */
  tokensPerStep: number | null;
  /** Seconds carried over from the runs before the last resume, and the last raw elapsed_sec seen. */
  elapsedBase: number;
  lastElapsed: number;
};

export const emptyCurves: Curves = {
  steps: [], trainLoss: [], valLoss: [], trainBpc: [], valBpc: [], lr: [], tokensPerSec: [], elapsed: [],
  tokensPerStep: null, elapsedBase: 0, lastElapsed: 0,
};

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

type Series = "steps" | "trainLoss" | "valLoss" | "trainBpc" | "valBpc" | "lr" | "tokensPerSec" | "elapsed";
const SERIES: Series[] = ["steps", "trainLoss", "valLoss", "trainBpc", "valBpc", "lr", "tokensPerSec", "elapsed"];

/** The tokens per step a started event's config implies. */
function tokensPerStepOf(e: SessionEvent): number | null {
  const config = e.config as Record<string, unknown> | undefined;
  const batch = num(config?.batch_size);
  const context = num(config?.max_seq_len);
  const accumulation = num(config?.grad_accum) ?? 1;
  return batch && context ? batch * context * accumulation : null;
}

/** Adds a started or metrics event (others return `curves` unchanged). */
export function addToCurves(curves: Curves, e: SessionEvent): Curves {
  if (e.type === "started") {
    // A resumed run's clock starts again at 0: what the earlier runs trained is carried over.
    return { ...curves, tokensPerStep: tokensPerStepOf(e) ?? curves.tokensPerStep, elapsedBase: curves.elapsedBase + curves.lastElapsed, lastElapsed: 0 };
  }
  if (e.type !== "metrics") return curves;
  const step = num(e.step);
  if (step === null) return curves;
  let next = curves;
  // A resumed run repeats steps after its checkpoint: the newer point replaces the older ones from there on.
  const last = curves.steps.at(-1);
  if (last !== undefined && last >= step) {
    const cut = curves.steps.findIndex((s) => s >= step);
    next = { ...curves };
    for (const key of SERIES) (next[key] as unknown[]) = curves[key].slice(0, cut);
  }
  const rawElapsed = num(e.elapsed_sec);
  // training_sec counts the whole session's training time itself (it survives resumes); older logs only have elapsed_sec.
  const total = num(e.training_sec) ?? (rawElapsed === null ? null : next.elapsedBase + rawElapsed);
  return {
    ...next,
    steps: [...next.steps, step],
    trainLoss: [...next.trainLoss, num(e.train_loss) ?? NaN],
    valLoss: [...next.valLoss, num(e.val_loss)],
    trainBpc: [...next.trainBpc, num(e.train_bpc)],
    valBpc: [...next.valBpc, num(e.val_bpc)],
    lr: [...next.lr, num(e.lr)],
    tokensPerSec: [...next.tokensPerSec, num(e.tokens_per_sec)],
    elapsed: [...next.elapsed, total],
    lastElapsed: rawElapsed ?? next.lastElapsed,
  };
}

export type XAxis = "step" | "tokens" | "time";
export const X_LABELS: Record<XAxis, string> = { step: "step", tokens: "tokens", time: "training time (s)" };

/** The x value of every point for an axis choice; null when the run cannot say (no tokens per step known). */
export function xValues(curves: Curves, axis: XAxis): (number | null)[] | null {
  if (axis === "step") return curves.steps;
  if (axis === "tokens") return curves.tokensPerStep === null ? null : curves.steps.map((s) => s * curves.tokensPerStep!);
  return curves.elapsed;
}

/** True when the metrics carry bits per character (tokenizers compare on it). */
export function hasBpc(curves: Curves): boolean {
  return curves.trainBpc.some((v) => v !== null) || curves.valBpc.some((v) => v !== null);
}
