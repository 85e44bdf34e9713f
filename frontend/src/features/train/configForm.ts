// The config panel's logic: which fields exist and how they read, turning what was typed into a config, and
// merging the browser's own checks (is it a number?) with the server's rules (the native validator).
import type { FieldError, TrainConfig } from "@/lib/api";

export type FieldKind = "number" | "boolean" | "text" | "choice";
export type FieldSpec = { key: string; label: string; kind: FieldKind; group: string; choices?: string[]; hint?: string };

/** The keys that say how long to train; the "Train for" control sets them together. */
export const LIMIT_KEYS = ["total_steps", "epochs", "time_budget_s"];

const GROUPS: [string, string[]][] = [
  ["Train for", LIMIT_KEYS],
  ["Model", ["tokenizer", "vocab_size", "hidden_size", "num_layers", "num_heads", "max_seq_len", "tied_head", "dropout"]],
  ["Optimizer and schedule", ["optimizer", "batch_size", "grad_accum", "learning_rate", "lr_schedule", "min_lr_ratio", "warmup_steps",
    "decay_fraction", "muon_lr", "muon_momentum", "beta1", "beta2", "adam_eps", "weight_decay", "grad_clip", "ema_decay"]],
  ["Evaluation and samples", ["val_fraction", "eval_every", "eval_batches", "early_stopping_patience", "sample_every", "sample_prompt",
    "sample_length", "sample_temperature", "attention_every", "attention_probe"]],
  ["Run", ["seed", "threads", "checkpoint_every", "keep_last", "keep_best", "qat", "qat_start_step"]],
];

const LABELS: Record<string, string> = {
  tokenizer: "Tokenizer", optimizer: "Optimizer", vocab_size: "Vocabulary size", hidden_size: "Embedding dim", num_layers: "Layers", num_heads: "Heads", max_seq_len: "Context length",
  tied_head: "Tie output head to embeddings", total_steps: "Steps", grad_accum: "Gradient accumulation", learning_rate: "Learning rate",
  min_lr_ratio: "Final LR ratio", warmup_steps: "Warmup steps", adam_eps: "Adam epsilon", grad_clip: "Gradient clip",
  ema_decay: "EMA decay", val_fraction: "Validation fraction", eval_every: "Evaluate every", eval_batches: "Eval batches",
  early_stopping_patience: "Early-stop patience", sample_every: "Sample every", sample_prompt: "Sample prompt", sample_length: "Sample length",
  sample_temperature: "Sample temperature", attention_every: "Attention every", attention_probe: "Attention probe text",
  checkpoint_every: "Checkpoint every", keep_last: "Keep last checkpoints", keep_best: "Keep best checkpoint", qat: "Quantization-aware training",
  qat_start_step: "QAT from step", batch_size: "Batch size", time_budget_s: "Time budget (s)", lr_schedule: "LR schedule",
  decay_fraction: "Decay fraction", muon_lr: "Muon learning rate", muon_momentum: "Muon momentum",
};

/** Fields whose value is one of a few names. */
const CHOICES: Record<string, string[]> = { tokenizer: ["bpe", "char"], optimizer: ["adamw", "muon"], lr_schedule: ["cosine", "wsd"] };

const HINTS: Record<string, string> = {
  epochs: "0 = use Steps", vocab_size: "ignored by the char tokenizer", ema_decay: "0 = off", early_stopping_patience: "evaluations; 0 = off",
  checkpoint_every: "steps; 0 = off", threads: "CPU threads for this session", decay_fraction: "wsd: share of the run spent decaying",
  muon_lr: "for the hidden matrices", lr_schedule: "wsd: warmup, stable, decay",
};

function labelOf(key: string): string {
  return LABELS[key] ?? key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

/** The form's fields for a preset's config, grouped and in a reading order; unknown keys go last. */
export function fieldsFor(template: TrainConfig): FieldSpec[] {
  const known = new Set(GROUPS.flatMap(([, keys]) => keys));
  const ordered: [string, string][] = [
    ...GROUPS.flatMap(([group, keys]) => keys.filter((k) => k in template).map((k): [string, string] => [k, group])),
    ...Object.keys(template).filter((k) => !known.has(k) && k !== "preset").map((k): [string, string] => [k, "Other"]),
  ];
  return ordered.map(([key, group]) => {
    const v = template[key];
    if (CHOICES[key]) return { key, group, label: labelOf(key), kind: "choice", choices: CHOICES[key] };
    const kind: FieldKind = typeof v === "boolean" ? "boolean" : typeof v === "number" ? "number" : "text";
    return { key, group, label: labelOf(key), kind, hint: HINTS[key] };
  });
}

export type RawValues = Record<string, string | boolean>;

/** Form values as typed, from a config. */
export function rawFromConfig(config: TrainConfig): RawValues {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "boolean" ? v : String(v)]));
}

/** The config to send, and the fields the browser can already reject (empty or not a number). */
export function configFromRaw(raw: RawValues, fields: FieldSpec[]): { config: TrainConfig; errors: FieldError[] } {
  const config: TrainConfig = {};
  const errors: FieldError[] = [];
  for (const f of fields) {
    const value = raw[f.key];
    if (f.kind === "boolean") config[f.key] = value === true;
    else if (f.kind === "number") {
      const text = String(value ?? "").trim();
      const n = Number(text);
      if (text === "") errors.push({ field: f.key, message: `${f.label} is required` });
      else if (!Number.isFinite(n)) errors.push({ field: f.key, message: `${f.label} must be a number, not "${text}"` });
      else config[f.key] = n;
    } else config[f.key] = String(value ?? "");
  }
  return { config, errors };
}

/** One message per field (the browser's check first, then the server's), and the messages no field shows. */
export function mergeErrors(local: FieldError[], server: FieldError[], fields: FieldSpec[]): { byField: Record<string, string>; general: string[] } {
  const keys = new Set(fields.map((f) => f.key));
  const byField: Record<string, string> = {};
  const general: string[] = [];
  for (const e of [...local, ...server]) {
    if (e.field !== null && keys.has(e.field)) byField[e.field] ??= e.message;
    else if (!general.includes(e.message)) general.push(e.message);
  }
  return { byField, general };
}

/** How long a run trains: minutes of training time, a number of steps or epochs, or until the user stops it. */
export type Limit = { unit: "minutes" | "steps" | "epochs"; value: number } | { unit: "untilStopped" };

/** "Until stopped" is the longest budget the server takes: a week of training time. */
export const UNTIL_STOPPED_SECONDS = 7 * 24 * 3600;

const numberOf = (v: string | boolean | undefined) => (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)) ? Number(v) : 0);

/** The limit the form's values say (the first set of time budget, steps and epochs; steps when none is). */
export function limitOf(raw: RawValues): Limit {
  const seconds = numberOf(raw.time_budget_s);
  if (seconds >= UNTIL_STOPPED_SECONDS) return { unit: "untilStopped" };
  if (seconds > 0) return { unit: "minutes", value: Math.round((seconds / 60) * 100) / 100 };
  const epochs = numberOf(raw.epochs);
  if (epochs > 0 && numberOf(raw.total_steps) === 0) return { unit: "epochs", value: epochs };
  return { unit: "steps", value: numberOf(raw.total_steps) };
}

/** The form's values with exactly this limit set (the other two at 0, so a preset's limit does not also apply). */
export function withLimit(raw: RawValues, limit: Limit): RawValues {
  const seconds = limit.unit === "untilStopped" ? UNTIL_STOPPED_SECONDS : limit.unit === "minutes" ? Math.round(limit.value * 60) : 0;
  return {
    ...raw,
    time_budget_s: String(seconds),
    total_steps: String(limit.unit === "steps" ? limit.value : 0),
    epochs: String(limit.unit === "epochs" ? limit.value : 0),
  };
}
