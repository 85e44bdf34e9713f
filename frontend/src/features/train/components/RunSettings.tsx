import type { TrainConfig } from "@/lib/api";
import { fieldsFor, LIMIT_KEYS } from "../configForm";

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
                <dd>{shown(f.key, config[f.key])}</dd>
              </div>
            ))}
          </dl>
        </details>
      ))}
    </section>
  );
}

/** A setting as read: yes/no, and "not set" for a limit of 0 (steps, epochs or time budget the run does not use). */
function shown(key: string, value: unknown): string {
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (value === 0 && LIMIT_KEYS.includes(key)) return "not set";
  return String(value);
}
