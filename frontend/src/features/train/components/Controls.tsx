import { useState } from "react";
import { api, ApiError, type SessionDetail } from "@/lib/api";
import { ErrorText, ProgressBar } from "@/components/Feedback";
import { formatCount, formatRate } from "@/lib/format";
import { isFinished } from "@/lib/sessionStates";
import { progressOf, type SessionView } from "../sessionReducer";

const FULL_SPEED = 31;
/** What the progress line says instead of an ETA when the run is not training. */
const NOT_TRAINING: Record<string, string> = {
  completed: "finished", stopped: "stopped before the last step", early_stopped: "stopped early: validation loss stopped improving", failed: "failed",
  interrupted: "not training: Play resumes it from its latest checkpoint", queued: "waiting for a running slot",
};

/** Play/pause/stop/step, the speed slider and the progress bar with step, ETA and tokens/s. */
export function Controls({ session, view, onChanged }: { session: SessionDetail; view: SessionView; onChanged: () => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [speed, setSpeed] = useState(session.speed > 0 ? Math.min(30, session.speed) : FULL_SPEED);
  const state = session.state;
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e as ApiError);
    }
    onChanged();
  };
  const running = state === "running" || state === "queued" || state === "preparing";
  const finished = isFinished(state);
  const play = () =>
    act(() =>
      state === "paused" ? api.control(session.id, "resume")
        : state === "interrupted" ? api.resumeFromCheckpoint(session.id)
        : api.control(session.id, "start"),
    );
  const progress = progressOf(view, session.speed);
  const total = progress.untilStopped ? null : progress.total ?? session.total_steps;
  return (
    <section className="panel controls" aria-label="Training controls">
      <div className="control-row">
        <button type="button" onClick={play} disabled={running || finished} aria-label={state === "paused" ? "Resume" : "Play"}>
          ▶ {state === "paused" ? "Resume" : "Play"}
        </button>
        <button type="button" onClick={() => act(() => api.control(session.id, "pause"))} disabled={state !== "running"} aria-label="Pause">
          Pause
        </button>
        <button type="button" onClick={() => act(() => api.control(session.id, "stop"))} disabled={!(running || state === "paused" || state === "ready")} aria-label="Stop">
          Stop
        </button>
        <button type="button" onClick={() => act(() => api.step(session.id, 1))} disabled={!(state === "paused" || state === "ready")} aria-label="Step">
          Step
        </button>
        {state === "paused" && (
          <button type="button" onClick={() => act(() => api.control(session.id, "release"))}
            title="A paused run keeps its running slot and memory; this checkpoints it and ends its worker (resume from the checkpoint later)">
            Free its slot
          </button>
        )}
        <label className="speed">
          Speed
          <input
            type="range"
            min={1}
            max={FULL_SPEED}
            value={speed}
            aria-valuetext={speed === FULL_SPEED ? "full speed" : `${speed} steps per second`}
            onChange={(e) => setSpeed(Number(e.target.value))}
            onPointerUp={() => act(() => api.speed(session.id, speed === FULL_SPEED ? 0 : speed))}
            onKeyUp={() => act(() => api.speed(session.id, speed === FULL_SPEED ? 0 : speed))}
          />
          <span className="muted small">{speed === FULL_SPEED ? "full" : `${speed} steps/s`}</span>
        </label>
        <span className={`state state-${state}`} data-testid="session-state">{state.replace("_", " ")}</span>
      </div>
      <ProgressBar value={progress.fraction} label="Training progress" />
      <div className="progress-text small" data-testid="progress-text">
        <span>step {formatCount(progress.step)}{total ? ` / ${formatCount(total)}` : ""}</span>
        <span>{progress.eta !== null && (state === "running" || state === "paused") ? `ETA ${progress.eta}`
          : NOT_TRAINING[state] ?? (progress.untilStopped ? "trains until you stop it" : "")}</span>
        <span>{formatRate(view.latest?.tokens_per_sec)} tokens/s</span>
      </div>
      <ErrorText error={error} />
    </section>
  );
}
