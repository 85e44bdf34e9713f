import type { TrainConfig } from "@/lib/api";
import { fieldsFor } from "../configForm";

/** The settings a run trained with, read-only, grouped as in the form; a button starts a new run from them. */
export function RunSettings({ config, onNewFrom }: { config: TrainConfig; onNewFrom: () => void }) {
  const fields = fieldsFor(config);
  const groups = [...new Set(fields.map((f) => f.group))];
  return (
    <section className="panel" aria-labelledby="settings-title">
      <div className="panel-head">
        <h2 id="settings-title">Settings of this run</h2>
      </div>
      <button type="button" className="button-primary wide" onClick={onNewFrom}>New run from these settings</button>
      {groups.map((g, i) => (
        <details key={g} open={i === 0}>
          <summary>{g}</summary>
          <dl className="settings-list" data-testid={`settings-${g}`}>
            {fields.filter((f) => f.group === g).map((f) => (
              <div key={f.key}>
                <dt>{f.label}</dt>
                <dd>{typeof config[f.key] === "boolean" ? (config[f.key] ? "yes" : "no") : String(config[f.key])}</dd>
              </div>
            ))}
          </dl>
        </details>
      ))}
    </section>
  );
}
