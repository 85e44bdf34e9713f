// The one typed client of the dashboard's HTTP API (python/bullet_dashboard/API.md). Every failure becomes an
// ApiError carrying the server's sentence, so components can show it where the user acted.
import type { SessionEvent } from "./eventStream";
import { parseSseChunk } from "./sse";

export type FieldError = { field: string; message: string };

/** An HTTP failure with the server's message for a person and, for configs, the per-field errors. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Status = {
  server: string;
  native: string;
  cores: number;
  max_running_sessions: number;
  running_sessions: number;
  queued_sessions: number;
  max_upload_bytes: number;
  open_dataset: string | null;
  ui_built: boolean;
};

export type TrainConfig = Record<string, string | number | boolean>;
/** The native estimate of a session's peak memory, and whether the server's budget has room for it now. */
export type MemoryEstimate = { peak_bytes: number; summary: string; budget_bytes: number; fits: boolean };
export type ConfigValidation = { valid: boolean; errors: FieldError[]; config: TrainConfig | null; notes?: string[]; estimate?: MemoryEstimate };

export type StyleValues = Record<string, number>;
export type DatasetSummary = {
  name: string;
  title: string;
  description: string;
  license: string;
  source: string;
  bundled: boolean;
  bytes: number;
  original_filename?: string | null;
  created?: string | null;
};
export type DatasetDetail = DatasetSummary & {
  characters: number;
  words: number;
  lines: number;
  sentences: number;
  distinct_characters: number;
  preview: string;
  style: StyleValues;
  definitions: Record<string, string>;
};

export type Metrics = {
  step: number;
  total_steps: number;
  epoch?: number;
  train_loss: number;
  val_loss: number | null;
  /** Bits per character of the training batch and of validation: loss that compares across tokenizers. */
  train_bpc?: number;
  val_bpc?: number | null;
  perplexity?: number;
  lr?: number;
  grad_norm?: number;
  tokens_per_sec?: number;
  elapsed_sec?: number;
  eta_sec?: number;
};

export type Verification = {
  /** The checkpoint folder an export of a finished session was made from ("best", "step-0000300"). */
  checkpoint?: string;
  float_perplexity?: number;
  bq4_perplexity?: number;
  perplexity_ratio?: number;
  top1_agreement?: number;
  float_val_loss?: number;
  bq4_val_loss?: number;
  /** Which part the losses above were measured on: the held-out validation part, or (a text too short for one) the training text. */
  verified_on?: "validation" | "training";
  bytes?: number;
  path?: string;
  step?: number;
};

export type SessionSummary = {
  id: string;
  name: string | null;
  dataset: string | null;
  created: string | null;
  state: string;
  step: number | null;
  total_steps: number | null;
  speed: number;
  last_seq: number;
  metrics: Metrics | null;
  model_name: string | null;
  /** Every export of the session: the model, the step and the checkpoint folder it was made from. */
  exports: { model: string; step?: number | null; checkpoint?: string | null }[];
  can_resume_from_checkpoint: boolean;
  best_val_loss?: number | null;
  best_step?: number | null;
  /** The worker process training the session, while one runs, and its memory: estimated before it started and in use. */
  pid?: number | null;
  memory?: { estimate_bytes?: number | null; estimate?: string | null; limit_bytes?: number | null; rss_bytes?: number | null; peak_rss_bytes?: number | null };
  /** A queued session's place in the queue and why it waits. */
  waiting?: { position: number; reason: string } | null;
};
/** A checkpoint still on disk; `path` ends in its folder name ("best", "step-0000200"). */
export type Checkpoint = { step: number | null; path: string; best: boolean; val_loss: number | null };
export type SessionDetail = SessionSummary & {
  config: TrainConfig;
  resolved_config: TrainConfig | null;
  auto_export: boolean;
  verification: Verification | null;
  error: string | null;
  checkpoints?: Checkpoint[];
};

/** A session as a row of the Runs table (GET /api/runs). */
export type RunRow = {
  id: string;
  name: string | null;
  dataset: string | null;
  created: string | null;
  state: string;
  tokenizer: string | null;
  vocab_size: number | null;
  parameters: number | null;
  step: number | null;
  total_steps: number | null;
  training_seconds: number | null;
  tokens_per_sec: number | null;
  train_loss: number | null;
  best_val_loss: number | null;
  best_val_step: number | null;
  best_val_bpc: number | null;
  perplexity_ratio: number | null;
  model_name: string | null;
  last_seq: number;
};

export type AttentionSnapshot = {
  seq: number;
  step?: number;
  tokens: string[];
  layers: number;
  heads: number;
  /** maps[layer][head][query][key]; a causal row has query+1 keys. */
  maps: number[][][][];
};

export type ModelSummary = {
  name: string;
  bytes: number;
  model_name?: string | null;
  created?: string | null;
  session_id?: string | null;
  source?: string | null;
  vocab_size?: number | null;
  hidden_size?: number | null;
  num_layers?: number | null;
  num_heads?: number | null;
  max_context?: number | null;
  parameters?: number | null;
  steps?: number | null;
  val_loss?: number | null;
  float_perplexity?: number | null;
  bq4_perplexity?: number | null;
  top1_agreement?: number | null;
  warnings?: number | null;
  error?: string | null;
};
/** GGUF tensor types the server exports, the default first (q8_0 stays within rounding of the .bullet model). */
export const GGUF_TYPES = ["q8_0", "f16", "f32", "q4_0"] as const;
export type GgufType = (typeof GGUF_TYPES)[number];

export type TensorRow = { name: string; shape: number[]; quant_type: string; bytes: number; offset: number; used?: boolean };
export type ModelInspect = {
  file_size: number;
  header: Record<string, unknown>;
  tokenizer: { vocab_size: number; merges?: number; has_unk?: boolean; has_space?: boolean; first_tokens?: string[] } & Record<string, unknown>;
  tensor_count: number;
  parameters: number;
  tensors: TensorRow[];
  warnings: string[];
  summary: ModelSummary;
};

export type Sampling = {
  temperature: number;
  top_k: number;
  top_p: number;
  repetition_penalty: number;
  max_tokens: number;
  seed: number | null;
  /** Explain each token with this many likeliest candidates (0 = off). */
  top_logprobs?: number;
};
/** A token the model could have picked: `p` its softmax probability, `p_sampled` the probability the sampler drew it with. */
export type Candidate = { id: number; text: string; p: number; p_sampled: number };
/** Why a token was chosen (computed by the native runtime): the chosen one and the likeliest candidates, likeliest first. */
export type TokenChoice = { chosen: Candidate; top: Candidate[] };
export type GenerateDone = { text: string; token_count?: number; tokens_per_second?: number; stop_reason?: string; time_to_first_token_ms?: number };
/** How much of a generated passage is copied from the original (computed natively). */
export type Copied = { ngram: number; ngrams: number; copied: number; share: number | null; longest_copied_words: number; definition: string };
export type StyleReport = {
  original: { passage: string; metrics: StyleValues; words: number };
  generated: { prompt: string; text: string; metrics: StyleValues | null; copied: Copied | null; tokens_per_second?: number };
  confidence: { perplexity: number; avg_token_probability: number } & Record<string, number>;
  definitions: Record<string, string>;
};
export type StyleMetrics = { characters: number; words: number; sentences: number; style: StyleValues; definitions: Record<string, string> };

async function errorOf(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`.trim();
  let fields: FieldError[] = [];
  try {
    const body = await response.json();
    if (typeof body?.detail === "string") message = body.detail;
    if (Array.isArray(body?.errors)) fields = body.errors;
  } catch {
    // A body that is not JSON (a proxy's page): the status line is all we have.
  }
  return new ApiError(message, response.status, fields);
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: body === undefined ? undefined : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError("The server cannot be reached. Is it still running?", 0);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A file the server may refuse, as a Blob; a refusal throws the server's message (not a file holding it). */
async function fetchFile(path: string): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(path);
  } catch {
    throw new ApiError("The server cannot be reached. Is it still running?", 0);
  }
  if (!response.ok) throw await errorOf(response);
  return response.blob();
}

const enc = encodeURIComponent;

/** Uploads a file as multipart with upload progress (fetch cannot report it; XMLHttpRequest can). */
function uploadFile<T>(path: string, file: File, onProgress?: (fraction: number) => void, fields: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError("The upload failed: the server cannot be reached.", 0));
    xhr.onload = () => {
      let body: { detail?: string; errors?: FieldError[] } | null = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else reject(new ApiError(body?.detail ?? `${xhr.status} ${xhr.statusText}`, xhr.status, body?.errors ?? []));
    };
    xhr.send(form);
  });
}

/** Streams generated pieces from the SSE response of POST /generate with stream=true. */
export async function generateStream(
  model: string,
  prompt: string,
  sampling: Sampling,
  onToken: (text: string, index: number, elapsedMs: number, choice: TokenChoice | null) => void,
  signal?: AbortSignal,
): Promise<GenerateDone> {
  let response: Response;
  try {
    response = await fetch(`/api/models/${enc(model)}/generate`, {
      method: "POST",
      signal,
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...sampling, prompt, stream: true }),
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError("The server cannot be reached. Is it still running?", 0);
  }
  if (!response.ok || !response.body) throw await errorOf(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const parsed = parseSseChunk(buffer + value);
    buffer = parsed.rest;
    for (const message of parsed.messages) {
      const data = JSON.parse(message.data);
      if (message.event === "done") return data as GenerateDone;
      if (message.event === "error") throw new ApiError(data.detail ?? "generation failed", 422);
      onToken(data.text, data.index, data.elapsed_ms, data.choice ?? null);
    }
  }
  throw new ApiError("The generation stream ended before it finished.", 0);
}

export const api = {
  status: () => request<Status>("GET", "/api/status"),
  presets: () => request<Record<string, TrainConfig>>("GET", "/api/presets"),
  validateConfig: (config: TrainConfig, dataset: string | null, signal?: AbortSignal) =>
    request<ConfigValidation>("POST", `/api/config/validate${dataset ? `?dataset=${enc(dataset)}` : ""}`, config, signal),

  datasets: () => request<DatasetSummary[]>("GET", "/api/datasets"),
  dataset: (name: string) => request<DatasetDetail>("GET", `/api/datasets/${enc(name)}`),
  datasetFromText: (name: string, text: string) => request<DatasetDetail>("POST", "/api/datasets/text", { name, text }),
  uploadDataset: (file: File, onProgress?: (f: number) => void) => uploadFile<DatasetDetail>("/api/datasets", file, onProgress),
  styleMetrics: (text: string) => request<StyleMetrics>("POST", "/api/style/metrics", { text }),

  sessions: () => request<SessionSummary[]>("GET", "/api/sessions"),
  session: (id: string) => request<SessionDetail>("GET", `/api/sessions/${enc(id)}`),
  createSession: (body: { config: TrainConfig; dataset?: string; text?: string; name?: string; start: boolean; auto_export?: boolean }) =>
    request<SessionDetail>("POST", "/api/sessions", body),
  deleteSession: (id: string) => request<void>("DELETE", `/api/sessions/${enc(id)}`),
  control: (id: string, action: "start" | "pause" | "resume" | "stop" | "release") => request<SessionDetail>("POST", `/api/sessions/${enc(id)}/${action}`),
  rename: (id: string, name: string) => request<SessionDetail>("PATCH", `/api/sessions/${enc(id)}`, { name }),
  step: (id: string, steps = 1) => request<SessionDetail>("POST", `/api/sessions/${enc(id)}/step`, { steps }),
  speed: (id: string, stepsPerSecond: number) => request<SessionDetail>("POST", `/api/sessions/${enc(id)}/speed`, { steps_per_second: stepsPerSecond }),
  resumeFromCheckpoint: (id: string, checkpoint?: string) =>
    request<SessionDetail>("POST", `/api/sessions/${enc(id)}/resume-from-checkpoint${checkpoint ? `?checkpoint=${enc(checkpoint)}` : ""}`),
  /** Exports a live session's current weights, or a finished one's named checkpoint (default: the best, else the last weights). */
  exportModel: (id: string, options: { modelName?: string; checkpoint?: string } = {}) =>
    request<{ model_name: string; verification: Verification }>("POST", `/api/sessions/${enc(id)}/export`,
      { ...(options.modelName ? { model_name: options.modelName } : {}), ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}) }),
  attentionIndex: (id: string) => request<{ snapshots: { seq: number; step?: number }[] }>("GET", `/api/sessions/${enc(id)}/attention`),
  attentionSnapshot: (id: string, seq: number) => request<AttentionSnapshot>("GET", `/api/sessions/${enc(id)}/attention/${seq}`),
  eventsUrl: (id: string) => `/api/sessions/${enc(id)}/events`,
  sessionLog: (id: string, after: number, types: string[]) =>
    request<SessionEvent[]>("GET", `/api/sessions/${enc(id)}/log?after=${after}&types=${types.join(",")}`),
  runs: () => request<RunRow[]>("GET", "/api/runs"),

  models: () => request<ModelSummary[]>("GET", "/api/models"),
  model: (name: string) => request<ModelInspect>("GET", `/api/models/${enc(name)}`),
  deleteModel: (name: string) => request<void>("DELETE", `/api/models/${enc(name)}`),
  uploadModel: (file: File, onProgress?: (f: number) => void) => uploadFile<ModelSummary>("/api/models", file, onProgress),
  downloadUrl: (name: string) => `/api/models/${enc(name)}/download`,
  ggufUrl: (name: string, type: GgufType) => `/api/models/${enc(name)}/gguf?type=${type}`,
  gguf: (name: string, type: GgufType) => fetchFile(`/api/models/${enc(name)}/gguf?type=${type}`),
  style: (model: string, body: { text?: string; dataset?: string; prompt?: string } & Partial<Sampling>) => request<StyleReport>("POST", `/api/models/${enc(model)}/style`, body),
};
