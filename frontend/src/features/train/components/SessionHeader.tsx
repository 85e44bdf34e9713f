import { useState } from "react";
import { api, ApiError, type SessionDetail } from "@/lib/api";
import { ErrorText } from "@/components/Feedback";
import { formatBytes } from "@/lib/format";
import { sessionLabel } from "@/lib/sessionLabel";

/** The session's name with rename and delete (deleting asks first; exported models stay). */
export function SessionHeader({ session, parameters, onChanged, onDeleted }: {
  session: SessionDetail; parameters: number | null; onChanged: () => void; onDeleted: () => void;
}) {
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const act = async (fn: () => Promise<unknown>, after: () => void) => {
    setError(null);
    try {
      await fn();
      after();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return (
    <div className="session-head">
      {editing === null ? (
        <>
          <h2 className="session-title">{sessionLabel(session)}</h2>
          <span className="muted small">{session.dataset ?? "pasted text"}{parameters ? ` · ${parameters.toLocaleString("en-US")} parameters` : ""}
            {session.pid != null && <span data-testid="worker"> · worker {session.pid}{session.memory?.rss_bytes != null
              ? `, ${formatBytes(session.memory.rss_bytes)} in use${session.memory.estimate_bytes ? ` (estimated ${formatBytes(session.memory.estimate_bytes)})` : ""}` : ""}</span>}
          </span>
          <span className="session-actions">
            <button type="button" className="link-button" onClick={() => setEditing(session.name ?? "")}>Rename</button>
            {confirming ? (
              <span role="group" aria-label="Confirm deleting the session">
                <span className="small">Delete this session, its events and checkpoints? Its exported models stay. </span>
                <button type="button" className="button-danger" autoFocus onClick={() => act(() => api.deleteSession(session.id), onDeleted)}>Yes, delete</button>
                <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
              </span>
            ) : (
              <button type="button" className="link-button" onClick={() => setConfirming(true)}>Delete</button>
            )}
          </span>
        </>
      ) : (
        <form className="rename" onSubmit={(e) => (e.preventDefault(), act(() => api.rename(session.id, editing.trim()), () => (setEditing(null), onChanged())))}>
          <label htmlFor="session-name" className="sr-only">Session name</label>
          <input id="session-name" value={editing} maxLength={80} autoFocus onChange={(e) => setEditing(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && setEditing(null)} />
          <button type="submit" disabled={!editing.trim()}>Save</button>
          <button type="button" onClick={() => setEditing(null)}>Cancel</button>
        </form>
      )}
      <ErrorText error={error} />
    </div>
  );
}
