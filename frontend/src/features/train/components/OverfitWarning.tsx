import { useState } from "react";
import { api, ApiError, type SessionDetail } from "@/lib/api";
import { ErrorText } from "@/components/Feedback";
import { formatLoss } from "@/lib/format";
import { isFinished, isLive } from "@/lib/sessionStates";
import type { Overfitting } from "../sessionReducer";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops the run and makes sure its model is the best checkpoint: with automatic export the server exports the best
 * when the run ends; without, this waits for the worker to end and exports (a finished session exports its best).
 */
async function stopAndKeepBest(session: SessionDetail): Promise<void> {
  await api.control(session.id, "stop");
  if (session.auto_export) return;
  for (let i = 0; i < 240; i++) {
    const now = await api.session(session.id);
    if (isFinished(now.state) && !now.pid) {
      await api.exportModel(session.id);
      return;
    }
    await sleep(250);
  }
  throw new ApiError("The run did not stop within a minute; export it from its checkpoints when it has.", 0);
}

/** The warning that a run overfits, with "stop and keep the best" while it still trains. */
export function OverfitWarning({ sign, session, onChanged }: { sign: Overfitting; session: SessionDetail; onChanged: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const live = isLive(session.state);
  const stop = async () => {
    setBusy(true);
    setError(null);
    try {
      await stopAndKeepBest(session);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  return (
    <div className={`banner ${live ? "banner-warning" : "banner-info"} overfit`} role={live ? "alert" : "status"} data-testid="overfit-warning">
      <p>
        <b>Overfitting{live ? "" : " happened"}:</b> validation loss has risen over {sign.evaluations} evaluations (to {formatLoss(sign.val_loss)} at step{" "}
        {sign.step}; best {formatLoss(sign.best_val_loss)} at step {sign.best_step}) while training loss kept falling — the model is
        memorizing its training text. {live ? "Training longer makes it worse." : "The export takes the best checkpoint."}
      </p>
      {live && (
        <button type="button" className="button-primary" onClick={stop} disabled={busy}>{busy ? "Stopping…" : "Stop and keep the best"}</button>
      )}
      <ErrorText error={error} />
    </div>
  );
}
