// The one client of the dashboard's HTTP API (python/bullet_dashboard/API.md). Requests and answers are typed by
// apiSchema.ts, generated from the server's OpenAPI document; what that cannot type is written here: the generation
// stream, uploads with progress and file downloads. Every failure becomes an ApiError carrying the server's
// sentence, so components can show it where the user acted.
import createClient from "openapi-fetch";
import type { components, paths } from "./apiSchema";
import type { SessionEvent } from "./eventStream";
import { parseSseChunk } from "./sse";

export type FieldError = components["schemas"]["FieldError"];

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

type Schemas = components["schemas"];

export type Status = Schemas["Status"];
export type TrainConfig = Record<string, string | number | boolean>;
export type MemoryEstimate = Schemas["MemoryEstimate"];
export type ConfigValidation = Schemas["ConfigValidation"];
export type StyleValues = Record<string, number>;
export type DatasetSummary = Schemas["DatasetSummary"];
export type DatasetDetail = Schemas["DatasetDetail"];
export type Metrics = Schemas["Metrics"];
export type Verification = Schemas["Verification"];
export type SessionSummary = Schemas["SessionSummary"];
export type Checkpoint = Schemas["Checkpoint"];
export type SessionDetail = Schemas["SessionDetail"];
export type RunRow = Schemas["RunRow"];
export type AttentionSnapshot = Schemas["AttentionSnapshot"];
export type ModelSummary = Schemas["ModelSummary"];
export type TensorRow = Schemas["TensorRow"];
export type ModelInspect = Schemas["ModelInspect"];
/** Sampling options as the forms hold them: every one set (the server has a default for each). */
export type Sampling = Required<Omit<Schemas["GenerateBody"], "prompt" | "stream">>;
export type Candidate = Schemas["Candidate"];
export type TokenChoice = Schemas["TokenChoice"];
export type GenerationToken = Schemas["GenerationToken"];
export type GenerateDone = Schemas["Generation"];
export type Copied = Schemas["Copied"];
export type StyleReport = Schemas["StyleReport"];
export type StyleMetrics = Schemas["StyleMetrics"];

/** GGUF tensor types the server exports, the default first (q8_0 stays within rounding of the .bullet model). */
export const GGUF_TYPES = ["q8_0", "f16", "f32", "q4_0"] as const;
export type GgufType = (typeof GGUF_TYPES)[number];

const UNREACHABLE = "The server cannot be reached. Is it still running?";

/** The error for a refused request: the server's sentence (from its error body) and the fields at fault. */
function refusal(status: number, statusText: string, body: unknown): ApiError {
  const error = (body ?? {}) as { detail?: unknown; errors?: unknown };
  const message = typeof error.detail === "string" ? error.detail : `${status} ${statusText}`.trim();
  return new ApiError(message, status, Array.isArray(error.errors) ? (error.errors as FieldError[]) : []);
}

/** The parsed body, or null for a body that is not JSON (a proxy's page: the status line is then all we have). */
function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// fetch is looked up at each request, not once at load, so a test can stand in for it.
const client = createClient<paths>({ fetch: (request) => globalThis.fetch(request) });

/** The data of a successful answer; a refusal throws the server's sentence, a lost server a sentence of our own. */
async function call<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    // A success whose body is not JSON (a proxy's page in between); anything else thrown here is a failed fetch.
    if (e instanceof SyntaxError) throw new ApiError(`The server's answer is not JSON (${e.message}). Is a proxy in between?`, 0);
    throw new ApiError(UNREACHABLE, 0);
  }
  const { data, error, response } = result;
  if (!response.ok) throw refusal(response.status, response.statusText, error);
  return data as T;
}

/** A file the server may refuse, as a Blob; a refusal throws the server's message (not a file holding it). */
async function fetchFile(path: string): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(path);
  } catch {
    throw new ApiError(UNREACHABLE, 0);
  }
  if (!response.ok) throw refusal(response.status, response.statusText, jsonOrNull(await response.text()));
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
      const body = jsonOrNull(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else reject(refusal(xhr.status, xhr.statusText, body));
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
  const stream = await call(client.POST("/api/models/{name}/generate", {
    params: { path: { name: model } }, body: { ...sampling, prompt, stream: true }, parseAs: "stream", signal,
  }));
  if (!stream) throw new ApiError("The generation stream ended before it started.", 0);
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
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
      const token = data as GenerationToken;
      onToken(token.text, token.index, token.elapsed_ms, token.choice ?? null);
    }
  }
  throw new ApiError("The generation stream ended before it finished.", 0);
}

const SESSION_ACTIONS = {
  start: "/api/sessions/{session_id}/start",
  pause: "/api/sessions/{session_id}/pause",
  resume: "/api/sessions/{session_id}/resume",
  stop: "/api/sessions/{session_id}/stop",
  release: "/api/sessions/{session_id}/release",
} as const;
export type SessionAction = keyof typeof SESSION_ACTIONS;

const session = (id: string) => ({ params: { path: { session_id: id } } });
const model = (name: string) => ({ params: { path: { name } } });

export const api = {
  status: () => call(client.GET("/api/status")),
  presets: () => call(client.GET("/api/presets")),
  validateConfig: (config: TrainConfig, dataset: string | null, signal?: AbortSignal) =>
    call(client.POST("/api/config/validate", { body: config, params: { query: dataset ? { dataset } : {} }, signal })),

  datasets: () => call(client.GET("/api/datasets")),
  dataset: (name: string) => call(client.GET("/api/datasets/{name}", model(name))),
  datasetFromText: (name: string, text: string) => call(client.POST("/api/datasets/text", { body: { name, text } })),
  uploadDataset: (file: File, onProgress?: (f: number) => void) => uploadFile<DatasetDetail>("/api/datasets", file, onProgress),
  styleMetrics: (text: string) => call(client.POST("/api/style/metrics", { body: { text } })),

  sessions: () => call(client.GET("/api/sessions")),
  session: (id: string) => call(client.GET("/api/sessions/{session_id}", session(id))),
  createSession: (body: components["schemas"]["SessionCreate"]) => call(client.POST("/api/sessions", { body })),
  deleteSession: (id: string) => call(client.DELETE("/api/sessions/{session_id}", session(id))),
  control: (id: string, action: SessionAction) => call(client.POST(SESSION_ACTIONS[action], session(id))),
  rename: (id: string, name: string) => call(client.PATCH("/api/sessions/{session_id}", { ...session(id), body: { name } })),
  step: (id: string, steps = 1) => call(client.POST("/api/sessions/{session_id}/step", { ...session(id), body: { steps } })),
  speed: (id: string, stepsPerSecond: number) =>
    call(client.POST("/api/sessions/{session_id}/speed", { ...session(id), body: { steps_per_second: stepsPerSecond } })),
  resumeFromCheckpoint: (id: string, checkpoint?: string) =>
    call(client.POST("/api/sessions/{session_id}/resume-from-checkpoint",
      { params: { path: { session_id: id }, query: checkpoint ? { checkpoint } : {} } })),
  /** Exports a live session's current weights, or a finished one's named checkpoint (default: the best, else the last weights). */
  exportModel: (id: string, options: { modelName?: string; checkpoint?: string } = {}) =>
    call(client.POST("/api/sessions/{session_id}/export", {
      ...session(id),
      body: { ...(options.modelName ? { model_name: options.modelName } : {}), ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}) },
    })),
  attentionIndex: (id: string) => call(client.GET("/api/sessions/{session_id}/attention", session(id))),
  attentionSnapshot: (id: string, seq: number) =>
    call(client.GET("/api/sessions/{session_id}/attention/{seq}", { params: { path: { session_id: id, seq } } })),
  eventsUrl: (id: string) => `/api/sessions/${enc(id)}/events`,
  /** Stored events after a seq (their shapes are the event stream's, typed in eventStream.ts). */
  sessionLog: async (id: string, after: number, types: string[]) =>
    (await call(client.GET("/api/sessions/{session_id}/log", { params: { path: { session_id: id }, query: { after, types: types.join(",") } } }))) as SessionEvent[],
  runs: () => call(client.GET("/api/runs")),

  models: () => call(client.GET("/api/models")),
  model: (name: string) => call(client.GET("/api/models/{name}", model(name))),
  deleteModel: (name: string) => call(client.DELETE("/api/models/{name}", model(name))),
  uploadModel: (file: File, onProgress?: (f: number) => void) => uploadFile<ModelSummary>("/api/models", file, onProgress),
  downloadUrl: (name: string) => `/api/models/${enc(name)}/download`,
  ggufUrl: (name: string, type: GgufType) => `/api/models/${enc(name)}/gguf?type=${type}`,
  gguf: (name: string, type: GgufType) => fetchFile(`/api/models/${enc(name)}/gguf?type=${type}`),
  style: (name: string, body: components["schemas"]["StyleBody"]) => call(client.POST("/api/models/{name}/style", { ...model(name), body })),
};
