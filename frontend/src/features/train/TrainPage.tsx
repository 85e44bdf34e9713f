import { useState } from "react";
import { api, ApiError, type TrainConfig, type Verification as VerificationNumbers } from "@/lib/api";
import { Banner, ErrorText } from "@/components/Feedback";
import { usePoll } from "@/hooks/usePoll";
import { sessionLabel } from "@/lib/sessionLabel";
import { ConfigPanel } from "./components/ConfigPanel";
import { Controls } from "./components/Controls";
import { DataPicker } from "./components/DataPicker";
import { LossChart } from "./components/LossChart";
import { ConsoleLog, Samples } from "./components/Samples";
import { SessionList } from "./components/SessionList";
import { Verification } from "./components/Verification";
import { useSession } from "./hooks/useSession";

export type TrainPageProps = { sessionId: string | null; initialDataset: string | null; onOpenSession: (id: string) => void };

/** Config and data on the left; the selected session's controls, chart, samples, console and result on the right. */
export function TrainPage({ sessionId, initialDataset, onOpenSession }: TrainPageProps) {
  const presets = usePoll(() => api.presets(), 0, []);
  const sessions = usePoll(() => api.sessions(), 3000, []);
  const [config, setConfig] = useState<TrainConfig | null>(null);
  const [dataset, setDataset] = useState<string | null>(initialDataset);
  const [startError, setStartError] = useState<ApiError | null>(null);
  const [starting, setStarting] = useState(false);

  const trainNow = async () => {
    if (!config || !dataset) return;
    setStartError(null);
    setStarting(true);
    try {
      const s = await api.createSession({ config, dataset, start: true });
      sessions.reload();
      onOpenSession(s.id);
    } catch (e) {
      setStartError(e as ApiError);
    } finally {
      setStarting(false);
    }
  };

  return (
    <div className="train-layout">
      <aside className="sidebar">
        <SessionList sessions={sessions.data ?? []} current={sessionId} onOpen={onOpenSession} />
        {presets.data ? <ConfigPanel presets={presets.data} onChange={setConfig} /> : <ErrorText error={presets.error} />}
        <DataPicker selected={dataset} onSelect={setDataset} />
        <div className="panel">
          <button type="button" className="button-primary wide" onClick={trainNow} disabled={!config || !dataset || starting}>
            {starting ? "Starting…" : "Train now"}
          </button>
          {!dataset && <p className="muted small">Choose a dataset first.</p>}
          <ErrorText error={startError} />
        </div>
      </aside>
      <div className="main-column">
        {sessionId ? <SessionView key={sessionId} id={sessionId} /> : (
          <section className="panel empty">
            <h2>No session open</h2>
            <p>Pick a preset and a dataset, then press <b>Train now</b>. Earlier sessions are listed on the left.</p>
          </section>
        )}
      </div>
    </div>
  );
}

function SessionView({ id }: { id: string }) {
  const { view, stream, detail, detailError, reload } = useSession(id);
  const [built, setBuilt] = useState<{ model: string; numbers: VerificationNumbers } | null>(null);
  const [buildError, setBuildError] = useState<ApiError | null>(null);
  const [building, setBuilding] = useState(false);
  if (!detail) return detailError ? <ErrorText error={detailError} /> : <p className="muted">Loading session…</p>;

  const build = async () => {
    setBuildError(null);
    setBuilding(true);
    try {
      const r = await api.exportModel(id);
      setBuilt({ model: r.model_name, numbers: r.verification });
    } catch (e) {
      setBuildError(e as ApiError);
    } finally {
      setBuilding(false);
    }
  };
  const lastExport = detail.exports.at(-1)?.model ?? detail.model_name;
  const result = built ?? (view.verification && lastExport ? { model: lastExport, numbers: view.verification } : null);
  const canBuild = ["paused", "completed", "stopped", "early_stopped", "ready"].includes(detail.state) && (view.latest?.step ?? 0) > 0;
  return (
    <>
      {stream === "lost" && <Banner kind="warning">Connection to the event stream lost: reconnecting; no events will be missed.</Banner>}
      <div className="session-head">
        <h2 className="session-title">{sessionLabel(detail)}</h2>
        <span className="muted small">{detail.dataset ?? "pasted text"} · {view.parameters ? `${view.parameters.toLocaleString("en-US")} parameters` : ""}</span>
      </div>
      {detail.state === "queued" && <Banner kind="info">Queued: the server runs at most its limit of sessions at once; this one starts when a slot frees.</Banner>}
      {(detail.error || view.error) && <ErrorText error={`The session failed: ${detail.error ?? view.error}`} />}
      <Controls session={detail} view={view} onChanged={reload} />
      <LossChart view={view} />
      <div className="two-col">
        <Samples samples={view.samples} />
        <ConsoleLog lines={view.console} />
      </div>
      <section className="panel">
        <button type="button" onClick={build} disabled={!canBuild || building}>{building ? "Building…" : "Build .bullet"}</button>
        <span className="muted small"> Quantize to BQ4 now, verify against the float model and add it to Models.</span>
        <ErrorText error={buildError} />
      </section>
      {result && <Verification model={result.model} numbers={result.numbers} />}
    </>
  );
}
