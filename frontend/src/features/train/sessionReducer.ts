// Builds everything the Train tab draws from a session's events: chart series, samples, console, attention index,
// progress and the verification numbers. Pure, so a replayed session and a live one end in the same state.
import type { Metrics, TrainConfig, Verification } from "@/lib/api";
import { addToCurves, emptyCurves, type Curves } from "@/lib/curves";
import type { SessionEvent } from "@/lib/eventStream";
import { formatDuration, formatLoss, formatPercent, formatPerplexity } from "@/lib/format";
import { UNTIL_STOPPED_SECONDS } from "./configForm";

export type Sample = { seq: number; step: number; prompt: string; text: string };
export type ConsoleLine = { seq: number; type: string; text: string };

export type SessionView = {
  lastSeq: number;
  /** Phase as the events tell it; the server's state is authoritative when they disagree. */
  phase: "waiting" | "running" | "paused" | "completed" | "stopped" | "early_stopped" | "failed";
  totalSteps: number | null;
  /** The run's time budget in seconds (0: none), from its started event. */
  budgetSeconds: number;
  /** The config the run trains with, as its started event says (after what the server chose for the text). */
  config: TrainConfig | null;
  parameters: number | null;
  /** The chart series, one entry per logged step. */
  curves: Curves;
  latest: Metrics | null;
  samples: Sample[];
  console: ConsoleLine[];
  attention: { seq: number; step: number }[];
  verification: Verification | null;
  modelPath: string | null;
  error: string | null;
  /** The latest overfitting warning: validation loss rising over several evaluations while training loss fell. */
  overfitting: Overfitting | null;
};

export type Overfitting = { step: number; val_loss: number; best_val_loss: number; best_step: number; evaluations: number };

export const CONSOLE_LIMIT = 400;

export const emptyView: SessionView = {
  lastSeq: 0,
  phase: "waiting",
  totalSteps: null,
  budgetSeconds: 0,
  config: null,
  parameters: null,
  curves: emptyCurves,
  latest: null,
  samples: [],
  console: [],
  attention: [],
  verification: null,
  modelPath: null,
  error: null,
  overfitting: null,
};

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The console line for an event, or null for events too frequent to list (metrics without evaluation). */
function describeEvent(e: SessionEvent): string | null {
  switch (e.type) {
    case "started":
      return `started: ${e.parameters ?? "?"} parameters, ${e.total_steps ?? "?"} steps, vocabulary ${e.vocab_size ?? "?"}` +
        (e.resumed_from ? " (resumed from a checkpoint)" : "") +
        (Array.isArray(e.notes) && e.notes.length ? `; chosen for this text: ${e.notes.join("; ")}` : "");
    case "metrics":
      return e.val_loss == null ? null : `step ${e.step}: train loss ${formatLoss(num(e.train_loss))}, val loss ${formatLoss(num(e.val_loss))}`;
    case "sample":
      return `step ${e.step}: sample generated`;
    case "attention":
      return `step ${e.step}: attention snapshot`;
    case "checkpoint":
      return `step ${e.step}: ${e.best ? "best " : ""}checkpoint saved`;
    case "compute":
      return `training with ${e.threads} thread${e.threads === 1 ? "" : "s"}`;
    case "paused":
      return `paused at step ${e.step}`;
    case "resumed":
      return `resumed at step ${e.step}`;
    case "overfitting":
      return `step ${e.step}: validation loss has risen over ${e.evaluations} evaluations (best ${formatLoss(num(e.best_val_loss))} ` +
        `at step ${e.best_step}) while training loss fell: the model is overfitting`;
    case "early_stopped":
      return `early stop at step ${e.step}: best val loss ${formatLoss(num(e.best_val_loss))} at step ${e.best_step}`;
    case "completed":
      return `${e.reason === "completed" || e.reason == null ? "completed" : String(e.reason).replace("_", " ")} at step ${e.step}`;
    case "exported":
      return `exported: perplexity float ${formatPerplexity(num(e.float_perplexity))} vs BQ4 ${formatPerplexity(num(e.bq4_perplexity))}, ` +
        `agreement ${formatPercent(num(e.top1_agreement))}`;
    case "error":
      return `error: ${e.message ?? "unknown"}`;
    default:
      return `${e.type}`;
  }
}

function withConsole(view: SessionView, e: SessionEvent): ConsoleLine[] {
  const text = describeEvent(e);
  if (text === null) return view.console;
  const lines = [...view.console, { seq: e.seq, type: e.type, text }];
  return lines.length > CONSOLE_LIMIT ? lines.slice(lines.length - CONSOLE_LIMIT) : lines;
}

/** Applies one event; events at or below lastSeq are ignored, so a repeated event changes nothing. */
export function reduceSession(view: SessionView, e: SessionEvent): SessionView {
  if (e.seq <= view.lastSeq) return view;
  const next: SessionView = { ...view, lastSeq: e.seq, console: withConsole(view, e), curves: addToCurves(view.curves, e) };
  switch (e.type) {
    case "started":
      return {
        ...next, phase: "running", totalSteps: num(e.total_steps), budgetSeconds: num(e.time_budget_s) ?? 0, parameters: num(e.parameters), error: null,
        config: typeof e.config === "object" && e.config !== null ? (e.config as TrainConfig) : view.config,
      };
    case "metrics": {
      const m = e as unknown as Metrics;
      if (num(m.step) === null) return next;
      return {
        ...next,
        phase: view.phase === "waiting" ? "running" : view.phase,
        totalSteps: num(m.total_steps) ?? view.totalSteps,
        latest: { ...m, val_loss: num(m.val_loss) },
      };
    }
    case "sample":
      return { ...next, samples: [{ seq: e.seq, step: num(e.step) ?? 0, prompt: String(e.prompt ?? ""), text: String(e.text ?? "") }, ...view.samples] };
    case "attention":
      return { ...next, attention: [...view.attention, { seq: e.seq, step: num(e.step) ?? 0 }] };
    case "paused":
      return { ...next, phase: "paused" };
    case "resumed":
      return { ...next, phase: "running" };
    case "completed": {
      const reason = String(e.reason ?? "completed");
      const phase = reason === "stopped" || reason === "early_stopped" ? reason : "completed";
      return { ...next, phase };
    }
    case "early_stopped":
      return { ...next, phase: "early_stopped" };
    case "overfitting":
      return { ...next, overfitting: e as unknown as Overfitting };
    case "exported":
      return { ...next, verification: e as unknown as Verification, modelPath: typeof e.path === "string" ? e.path : null };
    case "error":
      return { ...next, phase: "failed", error: String(e.message ?? e.detail ?? "the session failed") };
    default:
      return next;
  }
}

/** The sample taken nearest to `step` (ties go to the earlier one), or null when there are none. */
export function sampleNearest(samples: Sample[], step: number): Sample | null {
  let best: Sample | null = null;
  for (const s of samples) {
    if (best === null) best = s;
    else {
      const d = Math.abs(s.step - step);
      const bd = Math.abs(best.step - step);
      if (d < bd || (d === bd && s.step < best.step)) best = s;
    }
  }
  return best;
}

/** Progress: step, total, fraction done, and the ETA while the run can still go on (null once it has ended or when it
 *  trains until stopped, which has no end to count down to). `stepsPerSecond` is the speed limit set on the run (0:
 *  none): the trainer's ETA counts training time only, so a slowed run ends no sooner than its remaining steps allow. */
export function progressOf(view: SessionView, stepsPerSecond = 0): { fraction: number; step: number; total: number | null; eta: string | null; untilStopped: boolean } {
  const step = view.latest?.step ?? 0;
  const untilStopped = view.budgetSeconds >= UNTIL_STOPPED_SECONDS;
  const total = untilStopped ? null : view.totalSteps;
  const fraction = total ? Math.min(1, step / total) : 0;
  const ended = view.phase === "completed" || view.phase === "stopped" || view.phase === "early_stopped" || view.phase === "failed";
  // Only a run that reached its last step is full; a stopped one shows how far it got, and neither has an ETA.
  return {
    fraction: view.phase === "completed" ? 1 : fraction, step, total, untilStopped,
    eta: ended || untilStopped ? null : formatDuration(throttledEta(view.latest?.eta_sec, total === null ? null : total - step, stepsPerSecond)),
  };
}

function throttledEta(etaSeconds: number | null | undefined, stepsLeft: number | null, stepsPerSecond: number): number | null | undefined {
  if (stepsPerSecond <= 0 || stepsLeft === null || etaSeconds == null) return etaSeconds;
  return Math.max(etaSeconds, stepsLeft / stepsPerSecond);
}
