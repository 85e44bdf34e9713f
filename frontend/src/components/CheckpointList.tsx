import { useState } from "react";
import { api, ApiError, type SessionDetail } from "@/lib/api";
import { ErrorText } from "@/components/Feedback";
import { formatLoss } from "@/lib/format";
import { checkpointName, lastWeights } from "@/lib/checkpoints";

/** Each checkpoint on disk (step, validation loss, best) with export, resume and its attention. */
export function CheckpointList({ session, onChanged, onOpenAttention }: {
  session: SessionDetail; onChanged: () => void; onOpenAttention: (step: number) => void;
}) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const checkpoints = session.checkpoints ?? [];
  if (checkpoints.length === 0) return null;
  const live = session.pid != null;
  const last = lastWeights(checkpoints);
  const act = async (key: string, fn: () => Promise<string>) => {
    setBusy(key);
    setError(null);
    setDone(null);
    try {
      setDone(await fn());
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(null);
      onChanged();
    }
  };
  const exportOne = (name: string) => act(`export-${name}`, async () => {
    const r = await api.exportModel(session.id, { checkpoint: name, modelName: `${session.model_name ?? session.id}-${name}` });
    return `Exported ${r.model_name}.bullet (in Models).`;
  });
  const resume = (name: string) => act(`resume-${name}`, async () => {
    await api.resumeFromCheckpoint(session.id, name);
    return `Resumed from ${name}.`;
  });
  const whyNot = live ? "while the run's worker lives (running or paused); stop or release it first" : undefined;
  return (
    <section className="panel" aria-labelledby="checkpoints-title">
      <h2 id="checkpoints-title">Checkpoints</h2>
      <table className="table small checkpoints" data-testid="checkpoints">
        <thead><tr><th scope="col" className="num">Step</th><th scope="col" className="num">Validation loss</th><th scope="col">Kind</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {checkpoints.map((c) => {
            const name = checkpointName(c);
            return (
              <tr key={c.path}>
                <td className="num">{c.step?.toLocaleString("en-US") ?? "–"}</td>
                <td className="num">{formatLoss(c.val_loss)}</td>
                <td>{c.best ? "★ best so far" : c === last ? "last weights" : "scheduled"}</td>
                <td><div className="actions">
                  <button type="button" disabled={live || busy !== null} title={whyNot && `Export ${whyNot}`} onClick={() => exportOne(name)}>
                    {busy === `export-${name}` ? "Exporting…" : "Export"}
                  </button>
                  <button type="button" disabled={live || busy !== null} title={whyNot && `Resume ${whyNot}`} onClick={() => resume(name)}>
                    {busy === `resume-${name}` ? "Resuming…" : "Resume from here"}
                  </button>
                  <button type="button" disabled={c.step == null} onClick={() => c.step != null && onOpenAttention(c.step)}>Attention</button>
                </div></td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {live && <p className="muted small">Exporting or resuming a checkpoint needs the run's worker to have ended: stop the run, or release a paused one.</p>}
      {done && <p className="small" role="status">{done}</p>}
      <ErrorText error={error} />
    </section>
  );
}
