import type { ConsoleLine, Sample } from "../sessionReducer";

/** Generated text over training, newest on top: noise turning into words. */
export function Samples({ samples }: { samples: Sample[] }) {
  return (
    <section className="panel" aria-labelledby="samples-title">
      <h2 id="samples-title">Samples</h2>
      {samples.length === 0 ? <p className="muted small">Samples appear here as the model trains.</p> : null}
      <ol className="samples" data-testid="samples">
        {samples.map((s) => (
          <li key={s.seq}>
            <span className="sample-step">step {s.step}</span>
            <pre>{s.prompt}<b>{s.text}</b></pre>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The session's events as readable lines, newest at the bottom. */
export function ConsoleLog({ lines }: { lines: ConsoleLine[] }) {
  return (
    <section className="panel" aria-labelledby="console-title">
      <h2 id="console-title">Console</h2>
      <div className="console" role="log" aria-live="off" tabIndex={0} data-testid="console"
        ref={(el) => {
          if (el) el.scrollTop = el.scrollHeight;
        }}>
        {lines.map((l) => (
          <div key={l.seq} className={`console-line console-${l.type}`}>
            <span className="console-seq">#{l.seq}</span> {l.text}
          </div>
        ))}
      </div>
    </section>
  );
}
