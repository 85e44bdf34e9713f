import { useEffect, useRef, useState } from "react";
import { api, ApiError, generateStream, type ModelInspect, type Sampling } from "@/lib/api";
import { ErrorText, ProgressBar } from "@/components/Feedback";
import { formatBytes, formatCount, formatRate } from "@/lib/format";
import { usePoll } from "@/hooks/usePoll";
import { useUpload } from "@/hooks/useUpload";
import { TokenText, type GeneratedToken } from "./TokenText";

/** Each token comes with its 10 likeliest candidates unless the user turns explaining off. */
const EXPLAIN = 10;
const DEFAULTS: Sampling = { temperature: 0.8, top_k: 40, top_p: 0.95, repetition_penalty: 1.1, max_tokens: 200, seed: null, top_logprobs: EXPLAIN };

/** Pick or upload a .bullet, read its header and tensors, and generate with live tokens/s (optionally on two models). */
export function PlaygroundPage({ model, onOpenModel }: { model: string | null; onOpenModel: (name: string) => void }) {
  const models = usePoll(() => api.models(), 5000, []);
  const [compare, setCompare] = useState(false);
  const [other, setOther] = useState<string>("");
  const [prompt, setPrompt] = useState("The ");
  const [sampling, setSampling] = useState<Sampling>(DEFAULTS);
  const [runId, setRunId] = useState(0);
  const names = (models.data ?? []).map((m) => m.name);

  return (
    <div className="page">
      <div className="two-col">
        <section className="panel">
          <h2>Model</h2>
          <label htmlFor="pg-model">Model</label>
          <select id="pg-model" value={model ?? ""} onChange={(e) => onOpenModel(e.target.value)}>
            <option value="" disabled>choose a model</option>
            {names.map((n) => <option key={n}>{n}</option>)}
          </select>
          <ModelUpload onUploaded={(name) => (models.reload(), onOpenModel(name))} />
          <label className="check"><input type="checkbox" checked={compare} onChange={(e) => setCompare(e.target.checked)} /> Compare with a second model</label>
          {compare && (
            <>
              <label htmlFor="pg-other">Second model</label>
              <select id="pg-other" value={other} onChange={(e) => setOther(e.target.value)}>
                <option value="" disabled>choose a model</option>
                {names.map((n) => <option key={n}>{n}</option>)}
              </select>
            </>
          )}
        </section>
        <section className="panel">
          <h2>Prompt</h2>
          <label htmlFor="pg-prompt">Prompt</label>
          <textarea id="pg-prompt" rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
          <SamplingControls value={sampling} onChange={setSampling} />
          <label className="check">
            <input type="checkbox" checked={(sampling.top_logprobs ?? 0) > 0} onChange={(e) => setSampling({ ...sampling, top_logprobs: e.target.checked ? EXPLAIN : 0 })} />
            Explain each token (its {EXPLAIN} likeliest candidates)
          </label>
          <button type="button" className="button-primary" disabled={!model || (compare && !other)} onClick={() => setRunId((r) => r + 1)}>Generate</button>
        </section>
      </div>
      <div className={compare ? "two-col" : ""}>
        {model && <ModelRun name={model} prompt={prompt} sampling={sampling} runId={runId} />}
        {compare && other && <ModelRun name={other} prompt={prompt} sampling={sampling} runId={runId} />}
      </div>
    </div>
  );
}

function SamplingControls({ value, onChange }: { value: Sampling; onChange: (s: Sampling) => void }) {
  const field = (key: keyof Sampling, label: string, step: number, min: number, max: number) => (
    <div className="field">
      <label htmlFor={`pg-${key}`}>{label}</label>
      <input id={`pg-${key}`} type="number" step={step} min={min} max={max} value={value[key] ?? ""} placeholder={key === "seed" ? "random" : undefined}
        onChange={(e) => onChange({ ...value, [key]: e.target.value === "" ? (key === "seed" ? null : 0) : Number(e.target.value) })} />
    </div>
  );
  return (
    <div className="fields sampling">
      {field("temperature", "Temperature", 0.05, 0, 5)}
      {field("top_k", "Top-k", 1, 0, 100000)}
      {field("top_p", "Top-p", 0.01, 0.01, 1)}
      {field("repetition_penalty", "Repetition penalty", 0.05, 0.1, 10)}
      {field("max_tokens", "Max tokens", 1, 1, 8192)}
      {field("seed", "Seed", 1, 0, 2 ** 53)}
    </div>
  );
}

function ModelUpload({ onUploaded }: { onUploaded: (name: string) => void }) {
  const upload = useUpload(api.uploadModel, (model) => onUploaded(model.name));
  const { progress, error } = upload;
  const input = useRef<HTMLInputElement>(null);
  const send = async (file: File | undefined) => {
    await upload.send(file);
    if (input.current) input.current.value = ""; // the same file again is a new choice
  };
  return (
    <div className="dropzone small-zone" onDragOver={(e) => e.preventDefault()} onDrop={(e) => (e.preventDefault(), send(e.dataTransfer.files[0]))}>
      <button type="button" onClick={() => input.current?.click()}>Upload a .bullet…</button>
      <span className="muted small"> or drop one here (ours or the reference builder's)</span>
      <input ref={input} type="file" accept=".bullet" hidden data-testid="model-file" onChange={(e) => send(e.target.files?.[0])} />
      {progress !== null && <ProgressBar value={progress} label="Upload progress" />}
      <ErrorText error={error} />
    </div>
  );
}

type RunState = { pieces: GeneratedToken[]; tokens: number; started: number; tps: number | null; done: boolean; error: ApiError | null };

function ModelRun({ name, prompt, sampling, runId }: { name: string; prompt: string; sampling: Sampling; runId: number }) {
  const info = usePoll<ModelInspect>(() => api.model(name), 0, [name]);
  const [run, setRun] = useState<RunState | null>(null);
  const latest = useRef({ prompt, sampling });
  latest.current = { prompt, sampling };
  // The prompt and sampling the shown text was generated with (the form may have changed since).
  const [used, setUsed] = useState({ prompt, sampling });

  useEffect(() => setRun(null), [name]);
  useEffect(() => {
    if (runId === 0) return;
    const abort = new AbortController();
    const started = performance.now();
    setRun({ pieces: [], tokens: 0, started, tps: null, done: false, error: null });
    setUsed(latest.current);
    generateStream(name, latest.current.prompt, latest.current.sampling, (piece, index, _ms, choice) => {
      const seconds = (performance.now() - started) / 1000;
      setRun((r) => r && { ...r, pieces: [...r.pieces, { text: piece, choice }], tokens: index, tps: seconds > 0 ? index / seconds : null });
    }, abort.signal).then(
      (done) => setRun((r) => r && { ...r, done: true, tps: done.tokens_per_second ?? r.tps }),
      (e) => (e as Error).name !== "AbortError" && setRun((r) => r && { ...r, done: true, error: e as ApiError }),
    );
    return () => abort.abort();
  }, [runId, name]);

  return (
    <section className="panel" aria-label={`Model ${name}`}>
      <h2>{name}</h2>
      <ErrorText error={info.error} />
      {run && (
        <div className="generation">
          <div className="small gen-stats" aria-live="polite">
            <span data-testid="gen-tokens">{run.tokens} tokens</span> · <span>{formatRate(run.tps)} tokens/s</span> · <span>{run.done ? "done" : "generating…"}</span>
          </div>
          <TokenText prompt={used.prompt} tokens={run.pieces} sampling={used.sampling} />
          <ErrorText error={run.error} />
        </div>
      )}
      {info.data && <ModelDetails info={info.data} />}
    </section>
  );
}

function ModelDetails({ info }: { info: ModelInspect }) {
  const header = Object.entries(info.header).filter(([, v]) => typeof v !== "object");
  return (
    <details open>
      <summary>Header, tokenizer and tensors</summary>
      {info.warnings.length > 0 && (
        <ul className="warnings">{info.warnings.map((w) => <li key={w}>⚠ {w}</li>)}</ul>
      )}
      <table className="table kv">
        <tbody>
          {header.map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{String(v)}</td></tr>)}
          <tr><th scope="row">file size</th><td>{formatBytes(info.file_size)}</td></tr>
          <tr><th scope="row">parameters</th><td>{formatCount(info.parameters)}</td></tr>
        </tbody>
      </table>
      <h3>Tokenizer</h3>
      <p className="small">
        {formatCount(info.tokenizer.vocab_size)} tokens{info.tokenizer.merges != null ? `, ${formatCount(info.tokenizer.merges)} merges` : ""}
        {info.tokenizer.has_unk ? ", <unk>" : ""}{info.tokenizer.has_space ? ", space token" : ""}
      </p>
      {info.tokenizer.first_tokens && <p className="tokens small">{info.tokenizer.first_tokens.map((t, i) => <code key={i}>{JSON.stringify(t)}</code>)}</p>}
      <h3>Tensors ({info.tensor_count})</h3>
      <div className="table-scroll tall-limit">
        <table className="table">
          <thead><tr><th scope="col">name</th><th scope="col">shape</th><th scope="col">type</th><th scope="col" className="num">bytes</th></tr></thead>
          <tbody>
            {info.tensors.map((t) => (
              <tr key={t.name}><td><code>{t.name}</code></td><td>{t.shape.join(" × ")}</td><td>{t.quant_type}</td><td className="num">{formatBytes(t.bytes)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
