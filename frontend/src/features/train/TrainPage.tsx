import { useEffect, useState } from "react";
import { api, ApiError, type SessionSummary, type TrainConfig, type Verification as VerificationNumbers } from "@/lib/api";
import { Banner, ErrorText } from "@/components/Feedback";
import { usePoll } from "@/hooks/usePoll";
import { isFinished } from "@/lib/sessionStates";
import { ConfigPanel } from "./components/ConfigPanel";
import { Controls } from "./components/Controls";
import { DataPicker } from "./components/DataPicker";
import { LossChart } from "./components/LossChart";
import { RunSettings } from "./components/RunSettings";
import { ConsoleLog, Samples } from "./components/Samples";
import { SessionList } from "./components/SessionList";
import { Verification } from "./components/Verification";
import { CheckpointList } from "@/components/CheckpointList";
import { OverfitWarning } from "./components/OverfitWarning";
import { SessionHeader } from "./components/SessionHeader";
import { checkpointName, exportSource, otherLastWeights } from "@/lib/checkpoints";
import { useSession } from "./hooks/useSession";

export type TrainPageProps = {
  sessionId: string | null;
  initialDataset: string | null;
  onOpenSession: (id: string | null) => void;
  /** Opens the Attention tab on a session at the snapshot nearest a step. */
  onOpenAttention: (id: string, step: number) => void;
};

type Session = ReturnType<typeof useSession>;
/** Where a new run's form starts: a preset, or the settings and data of an earlier run. */
type Draft = { from: TrainConfig | null; dataset: string | null };

/**
 * The sessions and, beside the open one, its settings (read-only) — or the new-run form with a "Train now" bar that
 * stays in view, its data on the right; the open session's controls, charts, samples, console and result on the right.
 */
export function TrainPage({ sessionId, initialDataset, onOpenSession, onOpenAttention }: TrainPageProps) {
  const presets = usePoll(() => api.presets(), 0, []);
  const sessions = usePoll(() => api.sessions(), 3000, []);
  const session = useSession(sessionId);
  // A session open shows its settings; "New run" opens the form (kept until another session opens).
  const [draft, setDraft] = useState<Draft | null>(null);
  useEffect(() => setDraft(null), [sessionId]);
  const composing = sessionId === null || draft !== null;
  // The new run's data: shown in the wide column, so the form, the data and "Train now" are all in view.
  const [dataset, setDataset] = useState<string | null>(initialDataset);
  useEffect(() => setDataset(draft?.dataset ?? initialDataset), [draft, initialDataset]);

  return (
    <div className="train-layout">
      <aside className="sidebar">
        <SessionList sessions={withLiveProgress(sessions.data ?? [], session)} current={sessionId} onOpen={onOpenSession} />
        {composing ? (
          presets.data ? (
            <NewRun key={JSON.stringify(draft)} presets={presets.data} draft={draft} dataset={dataset}
              onStarted={(id) => (sessions.reload(), onOpenSession(id))} onCancel={sessionId ? () => setDraft(null) : undefined} />
          ) : <ErrorText error={presets.error} />
        ) : (
          <>
            <div className="sidebar-actions">
              <button type="button" onClick={() => setDraft({ from: null, dataset: session.detail?.dataset ?? null })}>+ New run</button>
            </div>
            {session.detail && (
              <RunSettings config={settingsOf(session)} onNewFrom={() => setDraft({ from: settingsOf(session), dataset: session.detail!.dataset })} />
            )}
          </>
        )}
      </aside>
      <div className="main-column">
        {composing && <DataPicker selected={dataset} onSelect={setDataset} />}
        {sessionId ? (
          <SessionView key={sessionId} id={sessionId} session={session} onDeleted={() => (sessions.reload(), onOpenSession(null))}
            onOpenAttention={(step) => onOpenAttention(sessionId, step)} />
        ) : null}
      </div>
    </div>
  );
}

/** The settings a run trains with: its started event's (what the server chose for the text included), else as created. */
function settingsOf(session: Session): TrainConfig {
  return session.view.config ?? session.detail?.resolved_config ?? session.detail?.config ?? {};
}

/** The open session's card shows what its panel shows: the streamed step, not the list's last poll. */
function withLiveProgress(list: SessionSummary[], session: Session): SessionSummary[] {
  const { detail, view } = session;
  if (!detail) return list;
  return list.map((s) => (s.id === detail.id ? { ...s, state: detail.state, step: Math.max(view.latest?.step ?? 0, detail.step ?? 0) } : s));
}

/** The form for a new run: config and the "Train now" bar (its data is chosen beside it). */
function NewRun({ presets, draft, dataset, onStarted, onCancel }: {
  presets: Record<string, TrainConfig>; draft: Draft | null; dataset: string | null; onStarted: (id: string) => void; onCancel?: () => void;
}) {
  const [config, setConfig] = useState<TrainConfig | null>(null);
  const [startError, setStartError] = useState<ApiError | null>(null);
  const [starting, setStarting] = useState(false);
  const trainNow = async () => {
    if (!config || !dataset) return;
    setStartError(null);
    setStarting(true);
    try {
      onStarted((await api.createSession({ config, dataset, start: true })).id);
    } catch (e) {
      setStartError(e as ApiError);
    } finally {
      setStarting(false);
    }
  };
  return (
    <>
      <ConfigPanel presets={presets} initial={draft?.from ?? undefined} dataset={dataset} onChange={setConfig} />
      <div className="panel train-bar">
        <button type="button" className="button-primary wide" onClick={trainNow} disabled={!config || !dataset || starting}>
          {starting ? "Starting…" : "Train now"}
        </button>
        <p className="muted small">{!dataset ? "Choose a dataset first." : !config ? "Fix the settings marked above." : `On ${dataset}.`}
          {onCancel && <> <button type="button" className="link-button" onClick={onCancel}>Back to the run's settings</button></>}
        </p>
        <ErrorText error={startError} />
      </div>
    </>
  );
}

function SessionView({ id, session, onDeleted, onOpenAttention }: {
  id: string; session: Session; onDeleted: () => void; onOpenAttention: (step: number) => void;
}) {
  const { view, stream, detail, detailError, reload } = session;
  const [built, setBuilt] = useState<{ model: string; numbers: VerificationNumbers } | null>(null);
  const [buildError, setBuildError] = useState<ApiError | null>(null);
  const [building, setBuilding] = useState(false);
  if (!detail) return detailError ? <ErrorText error={detailError} /> : <p className="muted">Loading session…</p>;

  const build = async (options: { checkpoint?: string; modelName?: string } = {}) => {
    setBuildError(null);
    setBuilding(true);
    try {
      const r = await api.exportModel(id, options);
      setBuilt({ model: r.model_name, numbers: r.verification });
    } catch (e) {
      setBuildError(e as ApiError);
    } finally {
      setBuilding(false);
      reload();
    }
  };
  const checkpoints = detail.checkpoints ?? [];
  const lastExport = detail.exports.at(-1)?.model ?? detail.model_name;
  const result = built ?? (view.verification && lastExport ? { model: lastExport, numbers: view.verification } : null);
  const canBuild = (["paused", "ready"].includes(detail.state) || isFinished(detail.state)) && (view.latest?.step ?? 0) > 0;
  // An export that took the best checkpoint leaves the last weights one click away.
  const lastInstead = detail.pid == null ? otherLastWeights(result?.numbers, checkpoints) : null;
  return (
    <>
      {stream === "lost" && <Banner kind="warning">Connection to the event stream lost: reconnecting; no events will be missed.</Banner>}
      <SessionHeader session={detail} parameters={view.parameters} onChanged={reload} onDeleted={onDeleted} />
      {detail.state === "queued" && (
        <Banner kind="info">
          Queued{detail.waiting ? ` (number ${detail.waiting.position} in line)` : ""}: {detail.waiting?.reason ?? "every running slot is taken; it starts when one frees"}.
        </Banner>
      )}
      {(detail.error || view.error) && <ErrorText error={`The session failed: ${detail.error ?? view.error}`} />}
      {view.overfitting && <OverfitWarning sign={view.overfitting} session={detail} onChanged={reload} />}
      <Controls session={detail} view={view} onChanged={reload} />
      <LossChart view={view} />
      <div className="two-col">
        <Samples samples={view.samples} />
        <ConsoleLog lines={view.console} />
      </div>
      <section className="panel">
        <button type="button" onClick={() => build()} disabled={!canBuild || building}>{building ? "Building…" : "Build .bullet"}</button>
        <span className="muted small"> Quantize to BQ4 and verify against the float model; a finished run takes its best checkpoint.</span>
        <ErrorText error={buildError} />
      </section>
      {result && (
        <Verification model={result.model} numbers={result.numbers} source={exportSource(result.numbers, checkpoints)}>
          {lastInstead && (
            <button type="button" disabled={building}
              onClick={() => build({ checkpoint: checkpointName(lastInstead), modelName: `${detail.model_name ?? id}-last` })}>
              Export the last weights instead (step {lastInstead.step})
            </button>
          )}
        </Verification>
      )}
      <CheckpointList session={detail} onChanged={reload} onOpenAttention={onOpenAttention} />
    </>
  );
}
