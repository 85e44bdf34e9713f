import type { SessionSummary } from "@/lib/api";
import { formatCount } from "@/lib/format";
import { sessionLabel } from "@/lib/sessionLabel";

/** Every session, newest first; choosing one opens it (a finished one replays from its stored events). */
export function SessionList({ sessions, current, onOpen }: { sessions: SessionSummary[]; current: string | null; onOpen: (id: string) => void }) {
  if (sessions.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <ul className="session-list">
        {sessions.map((s) => (
          <li key={s.id}>
            <button type="button" className={s.id === current ? "row row-on" : "row"} aria-current={s.id === current ? "page" : undefined} onClick={() => onOpen(s.id)}>
              <span className="row-title">{sessionLabel(s)}</span>
              <span className="muted small">
                {s.dataset ?? "text"} · <span className={`state-text state-${s.state}`}>{s.state.replace("_", " ")}{s.waiting ? ` #${s.waiting.position}` : ""}</span>
                {s.total_steps ? ` · ${formatCount(s.step ?? 0)}/${formatCount(s.total_steps)}` : ""}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
