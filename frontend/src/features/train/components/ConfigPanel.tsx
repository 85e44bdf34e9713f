import { useEffect, useMemo, useState } from "react";
import type { TrainConfig } from "@/lib/api";
import { formatBytes } from "@/lib/format";
import { configFromRaw, fieldsFor, LIMIT_KEYS, mergeErrors, rawFromConfig, type FieldSpec, type RawValues } from "../configForm";
import { useConfigValidation } from "../hooks/useConfigValidation";
import { TrainFor } from "./TrainFor";

export type ConfigPanelProps = {
  presets: Record<string, TrainConfig>;
  /** Settings to start from (an earlier run's) instead of a preset. */
  initial?: TrainConfig;
  /** The dataset the run will train on: its size enters the memory estimate. */
  dataset?: string | null;
  /** The config to train with, or null while it has errors. */
  onChange: (config: TrainConfig | null) => void;
};

/** Presets plus every field of the training config, each checked as you type with the server's rules. */
export function ConfigPanel({ presets, initial, dataset = null, onChange }: ConfigPanelProps) {
  const names = Object.keys(presets);
  // "" is an earlier run's settings rather than a preset.
  const [preset, setPreset] = useState(initial ? "" : names.includes("tiny") ? "tiny" : names[0]);
  const template = preset === "" && initial ? initial : presets[preset] ?? {};
  const [raw, setRaw] = useState<RawValues>(() => rawFromConfig(template));
  const fields = useMemo(() => fieldsFor(template), [template]);
  const local = useMemo(() => configFromRaw(raw, fields), [raw, fields]);
  const validation = useConfigValidation(local.config, dataset);
  const { byField, general } = mergeErrors(local.errors, validation.serverErrors, fields);
  const estimate = validation.estimate;
  const valid = local.errors.length === 0 && validation.serverErrors.length === 0 && !validation.checking && (estimate?.fits ?? true);

  useEffect(() => {
    onChange(valid ? local.config : null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [valid, JSON.stringify(local.config)]);

  const choosePreset = (name: string) => {
    setPreset(name);
    setRaw(rawFromConfig(presets[name] ?? {}));
  };

  const groups = [...new Set(fields.map((f) => f.group))];
  return (
    <section className="panel" aria-labelledby="config-title">
      <h2 id="config-title">Model and training</h2>
      {preset === "" && <p className="muted small">Starting from the settings of the run you chose; a preset replaces them.</p>}
      <div className="preset-row" role="radiogroup" aria-label="Preset">
        {names.map((n) => (
          <button key={n} type="button" role="radio" aria-checked={n === preset} className={n === preset ? "chip chip-on" : "chip"} onClick={() => choosePreset(n)}>
            {n}
          </button>
        ))}
      </div>
      <p className="muted small" aria-live="polite">
        {validation.checking ? "Checking…" : validation.unreachable ? `Cannot check: ${validation.unreachable}` : valid ? "Config is valid." : estimate && !estimate.fits ? "Too large for the memory free now: a smaller model or batch fits." : "Fix the fields marked below."}
      </p>
      {estimate && (
        <p className={`small ${estimate.fits ? "muted" : "error-text"}`} data-testid="memory-estimate">
          Estimate: {estimate.summary}{estimate.fits ? "" : ` — more than the ${formatBytes(estimate.budget_bytes)} the machine has free now`}
        </p>
      )}
      {valid && validation.notes.length > 0 && (
        <ul className="notes small" aria-label="What the server chose">{validation.notes.map((n) => <li key={n}>{n}</li>)}</ul>
      )}
      {general.map((m) => (
        <p key={m} className="error-text" role="alert">{m}</p>
      ))}
      {groups.includes("Train for") && (
        <>
          <h3 className="train-for-title">Train for</h3>
          <TrainFor raw={raw} error={LIMIT_KEYS.map((k) => byField[k]).find(Boolean)} onChange={setRaw} />
        </>
      )}
      {groups.filter((g) => g !== "Train for").map((g, i) => (
        <details key={g} open={i === 0 || fields.some((f) => f.group === g && byField[f.key])}>
          <summary>{g}</summary>
          <div className="fields">
            {fields.filter((f) => f.group === g).map((f) => (
              <ConfigField key={f.key} spec={f} value={raw[f.key]} error={byField[f.key]} onChange={(v) => setRaw((r) => ({ ...r, [f.key]: v }))} />
            ))}
          </div>
        </details>
      ))}
    </section>
  );
}

/** One field with its message beside it (aria-describedby ties them for screen readers). */
export function ConfigField({ spec, value, error, onChange }: { spec: FieldSpec; value: string | boolean | undefined; error?: string; onChange: (v: string | boolean) => void }) {
  const id = `cfg-${spec.key}`;
  const describedBy = error ? `${id}-error` : spec.hint ? `${id}-hint` : undefined;
  return (
    <div className={`field${error ? " field-invalid" : ""}`} data-field={spec.key}>
      {spec.kind === "boolean" ? (
        <label className="check">
          <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} aria-describedby={describedBy} />
          {spec.label}
        </label>
      ) : (
        <>
          <label htmlFor={id}>{spec.label}</label>
          {spec.kind === "choice" ? (
            <select id={id} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)} aria-describedby={describedBy}>
              {spec.choices?.map((c) => <option key={c}>{c}</option>)}
            </select>
          ) : (
            <input
              id={id}
              type="text"
              inputMode={spec.kind === "number" ? "decimal" : undefined}
              value={String(value ?? "")}
              aria-invalid={error ? true : undefined}
              aria-describedby={describedBy}
              onChange={(e) => onChange(e.target.value)}
            />
          )}
        </>
      )}
      {error ? (
        <span id={`${id}-error`} className="field-error">{error}</span>
      ) : spec.hint ? (
        <span id={`${id}-hint`} className="field-hint">{spec.hint}</span>
      ) : null}
    </div>
  );
}
