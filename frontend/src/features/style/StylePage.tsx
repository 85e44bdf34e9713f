import { useCallback, useEffect, useState } from "react";
import { api, ApiError, type StyleMetrics, type StyleReport, type StyleValues } from "@/lib/api";
import { Banner, ErrorText, ProgressBar } from "@/components/Feedback";
import type { SessionEvent } from "@/lib/eventStream";
import { formatMetric, formatPercent, formatPerplexity } from "@/lib/format";
import { usePoll } from "@/hooks/usePoll";
import { useEventStream } from "@/lib/useEventStream";
import { copyVerdict, type Learning } from "./copyVerdict";

const METRICS: [string, string][] = [
  ["avg_sentence_length", "Average sentence length"],
  ["type_token_ratio", "Vocabulary richness (type/token)"],
  ["avg_word_length", "Average word length"],
  ["punctuation_rate", "Punctuation rate"],
  ["formality", "Formality score"],
];

/** What "Learn my style" trains: nothing set, so the server chooses the model, tokenizer and time budget for the text. */
const STYLE_CONFIG = {};

/** Saves pasted writing as a dataset named "writing" (then "writing-2", "writing-3", … when the name is taken). */
async function saveWriting(text: string) {
  const taken = new Set((await api.datasets()).map((d) => d.name));
  let n = 1;
  while (taken.has(n === 1 ? "writing" : `writing-${n}`)) n++;
  return api.datasetFromText(n === 1 ? "writing" : `writing-${n}`, text);
}

/** Paste your writing (or pick a dataset), train a quick model on it, then compare original and generated style. */
export function StylePage({ sessionId, onOpenSession }: { sessionId: string | null; onOpenSession: (id: string) => void }) {
  return sessionId ? <StyleResult sessionId={sessionId} onRestart={() => onOpenSession("")} /> : <StyleInput onStarted={onOpenSession} />;
}

function StyleInput({ onStarted }: { onStarted: (id: string) => void }) {
  const datasets = usePoll(() => api.datasets(), 0, []);
  const [source, setSource] = useState<"paste" | "dataset">("paste");
  const [text, setText] = useState("");
  const [dataset, setDataset] = useState("");
  const [metrics, setMetrics] = useState<StyleMetrics | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (source !== "paste" || !text.trim()) return setMetrics(null);
    const timer = setTimeout(() => api.styleMetrics(text).then(setMetrics, () => setMetrics(null)), 300);
    return () => clearTimeout(timer);
  }, [text, source]);

  const learn = async () => {
    setError(null);
    setBusy(true);
    try {
      const name = source === "paste" ? (await saveWriting(text)).name : dataset;
      const session = await api.createSession({ config: STYLE_CONFIG, dataset: name, start: true });
      onStarted(session.id);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const ready = source === "paste" ? text.trim().length > 0 : dataset !== "";
  return (
    <div className="page narrow">
      <section className="panel">
        <h2>Learn my style</h2>
        <div className="segmented" role="tablist" aria-label="Writing source">
          <button role="tab" aria-selected={source === "paste"} className={source === "paste" ? "seg seg-on" : "seg"} onClick={() => setSource("paste")}>Paste writing</button>
          <button role="tab" aria-selected={source === "dataset"} className={source === "dataset" ? "seg seg-on" : "seg"} onClick={() => setSource("dataset")}>Use a dataset</button>
        </div>
        {source === "paste" ? (
          <>
            <label htmlFor="style-text">Your writing (a few pages train best)</label>
            <textarea id="style-text" rows={10} value={text} onChange={(e) => setText(e.target.value)} />
          </>
        ) : (
          <>
            <label htmlFor="style-dataset">Dataset</label>
            <select id="style-dataset" value={dataset} onChange={(e) => setDataset(e.target.value)}>
              <option value="">choose…</option>
              {(datasets.data ?? []).map((d) => <option key={d.name} value={d.name}>{d.title || d.name}</option>)}
            </select>
          </>
        )}
        {metrics && <MetricsTable columns={[["Your text", metrics.style]]} definitions={metrics.definitions} />}
        <button type="button" className="button-primary" onClick={learn} disabled={!ready || busy}>{busy ? "Starting…" : "Learn my style"}</button>
        <p className="muted small">Trains a small model on it (about a minute), then writes a new passage in your style and says how much of it is copied.</p>
        <ErrorText error={error} />
      </section>
    </div>
  );
}

type Progress = { step: number; total: number | null; done: boolean; error: string | null; vocabSize: number | null; learning: Learning | null };

function StyleResult({ sessionId, onRestart }: { sessionId: string; onRestart: () => void }) {
  const [progress, setProgress] = useState<Progress>({ step: 0, total: null, done: false, error: null, vocabSize: null, learning: null });
  const onEvent = useCallback((e: SessionEvent) => {
    setProgress((p) => {
      if (e.type === "started") return { ...p, vocabSize: typeof e.vocab_size === "number" ? e.vocab_size : null };
      if (e.type === "metrics") return { ...p, step: Number(e.step), total: Number(e.total_steps) };
      if (e.type === "exported") {
        const learning = typeof e.float_val_loss === "number" && p.vocabSize
          ? { valLoss: e.float_val_loss, vocabSize: p.vocabSize, step: typeof e.step === "number" ? e.step : null, heldOut: e.verified_on !== "training" }
          : null;
        return { ...p, done: true, learning };
      }
      if (e.type === "error") return { ...p, error: String(e.message ?? "training failed") };
      return p;
    });
  }, []);
  const stream = useEventStream(api.eventsUrl(sessionId), onEvent);
  const detail = usePoll(() => api.session(sessionId), 3000, [sessionId]);
  const model = detail.data?.exports.at(-1)?.model ?? null;
  const [report, setReport] = useState<StyleReport | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [writing, setWriting] = useState(false);
  const dataset = detail.data?.dataset;
  const write = useCallback(async (model: string, dataset: string, prompt?: string, seed = 7) => {
    setWriting(true);
    setError(null);
    try {
      setReport(await api.style(model, { dataset, prompt, max_tokens: 120, seed }));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setWriting(false);
    }
  }, []);

  useEffect(() => {
    if (model && dataset && !report && !writing && !error) write(model, dataset);
  }, [model, dataset, report, writing, error, write]);

  return (
    <div className="page">
      {stream === "lost" && <Banner kind="warning">Connection lost: reconnecting…</Banner>}
      <section className="panel">
        <div className="panel-head">
          <h2>{report ? "The style of" : "Learning the style of"} {detail.data?.dataset ?? "…"}</h2>
          <button type="button" onClick={onRestart}>New text</button>
        </div>
        {!report && detail.data?.state === "queued" && (
          <Banner kind="info">
            Waiting to start{detail.data.waiting ? ` (number ${detail.data.waiting.position} in line)` : ""}: {detail.data.waiting?.reason
              ?? "every running slot is taken"}. It starts when one frees: stopping another run on the Train tab starts it now.
          </Banner>
        )}
        {!report && (
          <>
            <ProgressBar value={progress.total ? progress.step / progress.total : 0} label="Training progress" />
            <p className="small">{progress.done || model ? "Trained; writing a passage…" : `step ${progress.step}${progress.total ? ` / ${progress.total}` : ""}`}</p>
          </>
        )}
        <ErrorText error={progress.error ?? error ?? detail.error} />
      </section>
      {report && model && dataset && (
        <>
          <div className="two-col">
            <section className="panel"><h2>Original</h2><pre className="passage">{report.original.passage}</pre></section>
            <section className="panel">
              <h2>Generated</h2>
              <pre className="passage" data-testid="style-generated"><span className="muted">{report.generated.prompt}</span>{report.generated.text}</pre>
              <CopiedShare report={report} learning={progress.learning} />
              <AnotherPassage key={report.generated.prompt} prompt={report.generated.prompt} busy={writing}
                onWrite={(prompt) => write(model, dataset, prompt, Math.floor(Math.random() * 2 ** 31))} />
            </section>
          </div>
          <section className="panel">
            <h2>Style metrics</h2>
            <MetricsTable columns={[["Original", report.original.metrics], ["Generated", report.generated.metrics ?? {}]]} definitions={report.definitions} />
            <h2>Model confidence on the original</h2>
            <div className="stats">
              <div className="stat" title={report.definitions.avg_token_probability}><div className="stat-label">Average token probability</div><div className="stat-value">{formatPercent(report.confidence.avg_token_probability, 2)}</div></div>
              <div className="stat" title={report.definitions.perplexity}><div className="stat-label">Perplexity</div><div className="stat-value">{formatPerplexity(report.confidence.perplexity)}</div></div>
            </div>
          </section>
        </>
      )}
    </div>
  );
}

/** How much of the passage is copied from the original, and what that means. */
function CopiedShare({ report, learning }: { report: StyleReport; learning: Learning | null }) {
  const copied = report.generated.copied;
  const verdict = copyVerdict(copied, learning);
  return (
    <div className={`copied copied-${verdict.kind}`} data-testid="style-copied" role={verdict.kind === "memorized" || verdict.kind === "unlearned" ? "alert" : "status"}>
      <div className="stat" title={copied?.definition}>
        <div className="stat-label">Copied from your text</div>
        <div className="stat-value">{copied?.share != null ? formatPercent(copied.share, 0) : "–"}</div>
      </div>
      <p className="small">{verdict.text}</p>
    </div>
  );
}

/** Another passage from the same model: a prompt of your own (not the start of your text) and a new seed. */
function AnotherPassage({ prompt, busy, onWrite }: { prompt: string; busy: boolean; onWrite: (prompt: string) => void }) {
  const [value, setValue] = useState(prompt);
  return (
    <form className="another" onSubmit={(e) => (e.preventDefault(), onWrite(value))}>
      <label htmlFor="style-prompt">Start the passage with</label>
      <input id="style-prompt" value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" disabled={busy}>{busy ? "Writing…" : "Write another passage"}</button>
    </form>
  );
}

function MetricsTable({ columns, definitions }: { columns: [string, StyleValues][]; definitions: Record<string, string> }) {
  return (
    <table className="table metrics-table">
      <thead>
        <tr><th scope="col">Metric</th>{columns.map(([name]) => <th key={name} scope="col" className="num">{name}</th>)}</tr>
      </thead>
      <tbody>
        {METRICS.map(([key, label]) => (
          <tr key={key}>
            <th scope="row"><span className="defined" title={definitions[key]} tabIndex={0} aria-describedby={`def-${key}`}>{label}</span>
              <span id={`def-${key}`} className="sr-only">{definitions[key]}</span></th>
            {columns.map(([name, values]) => <td key={name} className="num">{formatMetric(values[key])}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
