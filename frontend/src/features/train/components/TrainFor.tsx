import { limitOf, withLimit, type Limit, type RawValues } from "../configForm";

const QUICK = [1, 2, 5];

/** "Train for": 1, 2 or 5 minutes, a number of minutes, steps or epochs, or until stopped. */
export function TrainFor({ raw, error, onChange }: { raw: RawValues; error?: string; onChange: (raw: RawValues) => void }) {
  const limit = limitOf(raw);
  const set = (l: Limit) => onChange(withLimit(raw, l));
  const quick = limit.unit === "minutes" && QUICK.includes(limit.value) ? limit.value : null;
  const custom = limit.unit !== "untilStopped" && quick === null;
  const unitLabel = limit.unit === "untilStopped" ? "" : limit.unit[0].toUpperCase() + limit.unit.slice(1);
  return (
    <div className={`train-for${error ? " field-invalid" : ""}`} data-field="total_steps">
      <div className="preset-row" role="radiogroup" aria-label="Train for">
        {QUICK.map((m) => (
          <button key={m} type="button" role="radio" aria-checked={quick === m} className={quick === m ? "chip chip-on" : "chip"}
            onClick={() => set({ unit: "minutes", value: m })}>{m} min</button>
        ))}
        <button type="button" role="radio" aria-checked={custom} className={custom ? "chip chip-on" : "chip"}
          onClick={() => !custom && set({ unit: "steps", value: 600 })}>other</button>
        <button type="button" role="radio" aria-checked={limit.unit === "untilStopped"} className={limit.unit === "untilStopped" ? "chip chip-on" : "chip"}
          onClick={() => set({ unit: "untilStopped" })}>until stopped</button>
      </div>
      {limit.unit !== "untilStopped" && quick === null && (
        <div className="train-for-custom">
          <input type="text" inputMode="decimal" aria-label={unitLabel} value={String(limit.value)}
            onChange={(e) => set({ unit: limit.unit, value: Number(e.target.value) || 0 })} />
          <select aria-label="Unit" value={limit.unit} onChange={(e) => set({ unit: e.target.value as "minutes" | "steps" | "epochs", value: limit.value })}>
            <option value="minutes">minutes</option>
            <option value="steps">steps</option>
            <option value="epochs">epochs</option>
          </select>
        </div>
      )}
      <span className={error ? "field-error" : "field-hint"}>
        {error ?? (limit.unit === "untilStopped" ? "trains until you press Stop (at most a week)"
          : limit.unit === "minutes" ? "of training time; the schedule fits the run into it" : "")}
      </span>
    </div>
  );
}
