import { useEffect, useRef, useState } from "react";
import { api, ApiError, type AttentionSnapshot } from "@/lib/api";
import { ErrorText } from "@/components/Feedback";
import { Heatmap } from "@/components/Heatmap";
import { usePoll } from "@/hooks/usePoll";
import { sessionLabel } from "@/lib/sessionLabel";

/** Every layer × head of the selected session's probe text, a large view of one head, and a timeline over training. */
export function AttentionPage({ sessionId, atStep = null, onOpenSession }: {
  sessionId: string | null;
  /** Open at the last snapshot taken at or before this step (a checkpoint's), instead of the newest. */
  atStep?: number | null;
  onOpenSession: (id: string, replace?: boolean) => void;
}) {
  const sessions = usePoll(() => api.sessions(), 5000, []);
  // Nothing chosen: the newest session that has trained (the list is newest first), so the tab never opens empty.
  const newest = sessions.data?.find((s) => (s.step ?? 0) > 0)?.id ?? sessions.data?.[0]?.id ?? null;
  useEffect(() => {
    if (!sessionId && newest) onOpenSession(newest, true);
  }, [sessionId, newest, onOpenSession]);
  const index = usePoll(() => (sessionId ? api.attentionIndex(sessionId) : Promise.resolve({ snapshots: [] })), 3000, [sessionId]);
  const snapshots = index.data?.snapshots ?? [];
  const [position, setPosition] = useState<number | null>(null); // null follows the newest snapshot
  const [playing, setPlaying] = useState(false);
  const [selected, setSelected] = useState<{ layer: number; head: number } | null>(null);
  const [snapshot, setSnapshot] = useState<AttentionSnapshot | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const cache = useRef(new Map<string, AttentionSnapshot>());

  useEffect(() => {
    setPosition(null);
    setSelected(null);
    setSnapshot(null);
  }, [sessionId]);
  // Positioned once the snapshots are known; a later atStep (another checkpoint) positions again.
  const placed = useRef<string | null>(null);
  useEffect(() => {
    const key = `${sessionId}@${atStep}`;
    if (atStep === null || snapshots.length === 0 || placed.current === key) return;
    placed.current = key;
    setPosition(snapshotAtOrBefore(snapshots, atStep));
  }, [sessionId, atStep, snapshots]);

  const at = position ?? snapshots.length - 1;
  const current = snapshots[at];

  useEffect(() => {
    if (!sessionId || !current) return;
    const key = `${sessionId}/${current.seq}`;
    const hit = cache.current.get(key);
    if (hit) return setSnapshot(hit);
    let alive = true;
    api.attentionSnapshot(sessionId, current.seq).then(
      (s) => {
        cache.current.set(key, s);
        if (alive) (setSnapshot(s), setError(null));
      },
      (e) => alive && setError(e),
    );
    return () => {
      alive = false;
    };
  }, [sessionId, current?.seq]);

  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => {
      setPosition((p) => {
        const next = (p ?? -1) + 1;
        if (next >= snapshots.length - 1) setPlaying(false);
        return Math.min(next, snapshots.length - 1);
      });
    }, 700);
    return () => clearInterval(timer);
  }, [playing, snapshots.length]);

  return (
    <div className="page">
      <section className="panel">
        <div className="panel-head">
          <h2>Attention</h2>
          <label>
            Session{" "}
            <select value={sessionId ?? ""} onChange={(e) => onOpenSession(e.target.value)}>
              <option value="" disabled>choose a session</option>
              {(sessions.data ?? []).map((s) => (
                <option key={s.id} value={s.id}>{sessionLabel(s)} ({s.state})</option>
              ))}
            </select>
          </label>
        </div>
        <ErrorText error={index.error ?? error} />
        {sessions.data?.length === 0 && <p className="muted">No sessions yet: attention maps are taken while a model trains. Start one on the Train tab.</p>}
        {sessionId && snapshots.length === 0 && <p className="muted">No attention snapshots yet: they are taken every “Attention every” steps while training.</p>}
        {snapshots.length > 0 && (
          <div className="timeline">
            <button type="button" onClick={() => (position === null || at >= snapshots.length - 1 ? (setPosition(0), setPlaying(true)) : setPlaying(!playing))}
              aria-label={playing ? "Pause animation" : "Play how the pattern formed"}>
              {playing ? "⏸" : "▶"}
            </button>
            <input type="range" min={0} max={snapshots.length - 1} value={at} aria-label="Training snapshot"
              aria-valuetext={`step ${current?.step ?? "?"}`}
              onChange={(e) => (setPlaying(false), setPosition(Number(e.target.value)))} />
            <span className="small" data-testid="attention-step">step {current?.step ?? "?"} ({at + 1} of {snapshots.length})</span>
            {atStep !== null && current?.step !== atStep && position !== null && (
              <span className="muted small">the snapshot nearest the checkpoint of step {atStep}</span>
            )}
          </div>
        )}
      </section>
      {snapshot && (
        <div className="attention-layout">
          <section className="panel" aria-labelledby="grid-title">
            <h2 id="grid-title">Layers × heads <span className="muted small">probe: “{snapshot.tokens.join("")}”</span></h2>
            <div className="attention-grid" style={{ gridTemplateColumns: `auto repeat(${snapshot.heads}, auto)` }}>
              <span />
              {Array.from({ length: snapshot.heads }, (_, h) => <span key={h} className="grid-label small">head {h}</span>)}
              {snapshot.maps.map((heads, l) => [
                <span key={`l${l}`} className="grid-label small">layer {l}</span>,
                ...heads.map((m, h) => (
                  <button key={`${l}-${h}`} type="button" className={`heat-button${selected?.layer === l && selected?.head === h ? " heat-on" : ""}`}
                    onClick={() => setSelected({ layer: l, head: h })} aria-label={`Layer ${l}, head ${h}: open the large view`}>
                    <Heatmap matrix={m} size={112} label={`Attention of layer ${l} head ${h}`} />
                  </button>
                )),
              ])}
            </div>
          </section>
          {selected && snapshot.maps[selected.layer]?.[selected.head] && (
            <HeadDetail snapshot={snapshot} layer={selected.layer} head={selected.head} onClose={() => setSelected(null)} />
          )}
        </div>
      )}
    </div>
  );
}

/** The index of the last snapshot taken at or before `step` (the first one when all are later). */
export function snapshotAtOrBefore(snapshots: { step?: number | null }[], step: number): number {
  let at = 0;
  snapshots.forEach((s, i) => {
    if ((s.step ?? 0) <= step) at = i;
  });
  return at;
}

function HeadDetail({ snapshot, layer, head, onClose }: { snapshot: AttentionSnapshot; layer: number; head: number; onClose: () => void }) {
  const [cell, setCell] = useState<{ query: number; key: number; weight: number } | null>(null);
  const tokens = snapshot.tokens;
  const size = Math.min(560, Math.max(280, tokens.length * 20));
  // Spaces and line breaks are tokens too: make them visible.
  const show = (t: string) => t.replace(/ /g, "␣").replace(/\n/g, "↵").replace(/\t/g, "⇥") || "∅";
  return (
    <section className="panel head-detail" aria-labelledby="detail-title">
      <div className="panel-head">
        <h2 id="detail-title">Layer {layer}, head {head}</h2>
        <button type="button" onClick={onClose}>Close</button>
      </div>
      <p className="small" aria-live="polite" data-testid="attention-cursor">
        {cell ? <>query “{show(tokens[cell.query])}” → key “{show(tokens[cell.key])}”: <b>{cell.weight.toFixed(3)}</b></> : "Point at a cell to read its weight."}
      </p>
      <div className="detail-grid" style={{ gridTemplateColumns: `auto ${size}px` }}>
        <span />
        <div className="x-labels" style={{ width: size }}>
          {tokens.map((t, i) => <span key={i} style={{ width: size / tokens.length }}>{show(t)}</span>)}
        </div>
        <div className="y-labels" style={{ height: size }}>
          {tokens.map((t, i) => <span key={i} style={{ height: size / tokens.length }}>{show(t)}</span>)}
        </div>
        <Heatmap matrix={snapshot.maps[layer][head]} size={size} label={`Large view of layer ${layer} head ${head}`} onHover={setCell} />
      </div>
      <p className="muted small">Brighter is more attention (colour follows the square root of the weight). Rows: the token attending (query). Columns: the tokens it looks at (keys); a token sees only itself and earlier ones.</p>
    </section>
  );
}
