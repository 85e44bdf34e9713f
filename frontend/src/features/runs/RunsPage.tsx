import { useMemo, useState } from "react";
import { api, type RunRow } from "@/lib/api";
import { CheckpointList } from "@/components/CheckpointList";
import { ErrorText } from "@/components/Feedback";
import { SortHeader } from "@/components/SortHeader";
import { ChartSettingsBar, LossPlot, useChartSettings, ValuePlot } from "@/components/RunCharts";
import { xValues, type Curves } from "@/lib/curves";
import { formatCount, formatDuration, formatLoss, formatRate, formatTime } from "@/lib/format";
import { axesFor, bpcFor, nearestPoint, type PlotRun } from "@/lib/plotData";
import { emaSmooth } from "@/lib/smoothing";
import { nextSort, sortRows, type Sort } from "@/lib/sortRows";
import { sessionLabel } from "@/lib/sessionLabel";
import { usePoll } from "@/hooks/usePoll";
import { useRunCurves } from "./useRunCurves";

type Column = keyof RunRow & string;
// Names and dates may wrap (the other values stay on one line), so every column fits at 1280 px.
const COLUMNS: { key: Column; label: string; title?: string; show: (r: RunRow) => string; numeric?: boolean; wrap?: boolean }[] = [
  { key: "name", label: "Name", wrap: true, show: (r) => sessionLabel(r) },
  { key: "dataset", label: "Dataset", show: (r) => r.dataset ?? "pasted text" },
  { key: "tokenizer", label: "Tokenizer", show: (r) => (r.tokenizer ? `${r.tokenizer}${r.vocab_size ? ` ${r.vocab_size}` : ""}` : "–") },
  { key: "parameters", label: "Parameters", numeric: true, show: (r) => formatCount(r.parameters) },
  { key: "step", label: "Steps", numeric: true, show: (r) => `${formatCount(r.step)} / ${formatCount(r.total_steps)}` },
  { key: "training_seconds", label: "Time", title: "time spent training, pauses excluded", numeric: true, show: (r) => formatDuration(r.training_seconds) },
  { key: "tokens_per_sec", label: "Tokens/s", numeric: true, show: (r) => formatRate(r.tokens_per_sec) },
  { key: "best_val_loss", label: "Best val loss", numeric: true, show: (r) => formatLoss(r.best_val_loss) + (r.best_val_step ? ` @${r.best_val_step}` : "") },
  { key: "best_val_bpc", label: "Best val bits/char", title: "validation loss in bits per character: compares runs with different tokenizers", numeric: true, show: (r) => formatLoss(r.best_val_bpc) },
  { key: "perplexity_ratio", label: "BQ4/float", title: "perplexity of the exported 4-bit file / the float model's", numeric: true, show: (r) => (r.perplexity_ratio ? r.perplexity_ratio.toFixed(4) : "–") },
  { key: "state", label: "State", show: (r) => r.state.replace("_", " ") },
  { key: "created", label: "Created", wrap: true, show: (r) => formatTime(r.created) },
];

const learningRate = (c: Curves) => c.lr;
const throughput = (c: Curves) => c.tokensPerSec;
const formatLr = (v: number) => (v === 0 ? "0" : v.toExponential(1));

export type RunsPageProps = {
  compared: string[];
  onCompare: (ids: string[]) => void;
  onOpenSession: (id: string) => void;
  onOpenAttention: (id: string, step: number) => void;
};

/** Every session as a sortable row; ticked runs are overlaid on one chart. */
export function RunsPage({ compared, onCompare, onOpenSession, onOpenAttention }: RunsPageProps) {
  const [expanded, setExpanded] = useState<string | null>(null);
  const runs = usePoll(() => api.runs(), 3000, []);
  const [sort, setSort] = useState<Sort<Column>>({ key: "created", descending: true });
  const all = runs.data ?? [];
  const rows = sortRows(all, sort);
  const chosen = compared.filter((id) => all.some((r) => r.id === id));
  const toggle = (id: string) => onCompare(chosen.includes(id) ? chosen.filter((x) => x !== id) : [...chosen, id]);
  const anyBpc = all.some((r) => r.best_val_bpc !== null);
  const columns = COLUMNS.filter((c) => c.key !== "best_val_bpc" || anyBpc);
  return (
    <div className="page">
      <section className="panel" aria-labelledby="runs-title">
        <h2 id="runs-title">Runs</h2>
        <ErrorText error={runs.error} />
        {runs.data && all.length === 0 && <p className="muted">No runs yet: start one on the Train tab.</p>}
        {all.length > 0 && (
          <div className="table-scroll">
            <table className="table runs-table">
              <thead>
                <tr>
                  <th scope="col"><span className="sr-only">Compare</span></th>
                  <th scope="col"><span className="sr-only">Checkpoints</span></th>
                  {columns.map((c) => (
                    <SortHeader key={c.key} column={c.key} label={c.label} title={c.title} numeric={c.numeric} sort={sort}
                      onSort={(key) => setSort(nextSort(sort, key, ["created", "parameters", "step", "tokens_per_sec"]))} />
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => [
                  <tr key={r.id} className={chosen.includes(r.id) ? "row-chosen" : undefined}>
                    <td><input type="checkbox" checked={chosen.includes(r.id)} onChange={() => toggle(r.id)} aria-label={`Compare ${sessionLabel(r)}`} /></td>
                    <td>
                      <button type="button" className="expand" aria-expanded={expanded === r.id} aria-label={`Checkpoints of ${sessionLabel(r)}`}
                        onClick={() => setExpanded(expanded === r.id ? null : r.id)}>{expanded === r.id ? "▾" : "▸"}</button>
                    </td>
                    {columns.map((c) => (
                      <td key={c.key} className={c.numeric ? "num" : c.key === "state" ? `state-text state-${r.state}` : c.wrap ? "wrap" : undefined}>
                        {c.key === "name"
                          ? <a href={`/train/${encodeURIComponent(r.id)}`} onClick={(e) => (e.preventDefault(), onOpenSession(r.id))}>{c.show(r)}</a>
                          : c.show(r)}
                      </td>
                    ))}
                  </tr>,
                  expanded === r.id && (
                    <tr key={`${r.id}-checkpoints`} className="expanded-row">
                      <td colSpan={columns.length + 2}><RunCheckpoints id={r.id} onOpenAttention={(step) => onOpenAttention(r.id, step)} /></td>
                    </tr>
                  ),
                ])}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <Comparison rows={all} ids={chosen} />
    </div>
  );
}

/** A run's checkpoints with their actions, read from its detail while the row is open. */
function RunCheckpoints({ id, onOpenAttention }: { id: string; onOpenAttention: (step: number) => void }) {
  const detail = usePoll(() => api.session(id), 3000, [id]);
  if (!detail.data) return detail.error ? <ErrorText error={detail.error} /> : <p className="muted small">Loading…</p>;
  if (!detail.data.checkpoints?.length) return <p className="muted small">No checkpoints on disk for this run.</p>;
  return <CheckpointList session={detail.data} onChanged={detail.reload} onOpenAttention={onOpenAttention} />;
}

/** The chosen runs' loss curves on one chart, with learning rate and throughput below. */
function Comparison({ rows, ids }: { rows: RunRow[]; ids: string[] }) {
  const [settings, update] = useChartSettings();
  const { curves, error } = useRunCurves(ids, rows);
  const [hoverX, setHoverX] = useState<number | null>(null);
  const key = ids.filter((id) => curves[id]).map((id) => `${id}:${curves[id].steps.length}`).join(",");
  const runs = useMemo<PlotRun[]>(
    () => ids.filter((id) => curves[id]).map((id) => ({ key: id, label: sessionLabel(rows.find((r) => r.id === id) ?? { id, name: null }), curves: curves[id] })),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key],
  );
  if (ids.length === 0) {
    return <section className="panel"><h2>Compare</h2><p className="muted">Tick runs in the table to overlay their loss curves.</p></section>;
  }
  const axes = axesFor(runs);
  const bpc = bpcFor(runs);
  const shown = { ...settings, metric: bpc ? settings.metric : "loss" as const, axis: axes.includes(settings.axis) ? settings.axis : "step" as const };
  return (
    <section className="panel" aria-labelledby="compare-title">
      <div className="panel-head">
        <h2 id="compare-title">Compare {runs.length} runs</h2>
        <ChartSettingsBar settings={shown} onChange={update} axes={axes} bpc={bpc} />
      </div>
      <ErrorText error={error} />
      <LossPlot runs={runs} settings={shown} height={300} syncKey="runs" onHoverX={setHoverX} testId="compare-chart" />
      <p className="muted small" data-testid="compare-lines">{runs.map((r) => `${r.label}: ${r.curves.steps.length} points`).join(" · ")}</p>
      <CompareReadout runs={runs} x={hoverX} settings={shown} />
      <div className="mini-charts">
        <ValuePlot runs={runs} settings={shown} height={110} syncKey="runs" title="Learning rate" pick={learningRate} format={formatLr} />
        <ValuePlot runs={runs} settings={shown} height={110} syncKey="runs" title="Tokens per second" pick={throughput} format={formatRate} />
      </div>
    </section>
  );
}

/** Each run's values at the hovered x: smoothed training and the nearest evaluation. */
function CompareReadout({ runs, x, settings }: { runs: PlotRun[]; x: number | null; settings: { axis: "step" | "tokens" | "time"; smoothing: number; metric: "loss" | "bpc" } }) {
  return (
    <table className="table compare-readout small">
      <caption className="muted small">{x === null ? "Hover the chart to read each run's values there." : "At the cursor"}</caption>
      <thead><tr><th scope="col">Run</th><th scope="col" className="num">Step</th><th scope="col" className="num">Train (smoothed)</th><th scope="col" className="num">Validation</th></tr></thead>
      <tbody>
        {runs.map((r) => {
          // A run that ended before the hovered x (or starts after it) has no value there.
          const xs = xValues(r.curves, settings.axis)?.filter((v) => v !== null) as number[] | undefined;
          const inside = x !== null && xs && xs.length > 0 && x >= xs[0] - 1e-9 && x <= xs[xs.length - 1] + 1e-9;
          const i = inside ? nearestPoint(r.curves, settings.axis, x) : null;
          const train = settings.metric === "bpc" ? r.curves.trainBpc : r.curves.trainLoss;
          const val = settings.metric === "bpc" ? r.curves.valBpc : r.curves.valLoss;
          const smoothed = i === null ? null : emaSmooth(train.slice(0, i + 1), settings.smoothing)[i];
          const lastVal = i === null ? null : val.slice(0, i + 1).filter((v) => v !== null).at(-1) ?? null;
          return (
            <tr key={r.key}>
              <th scope="row">{r.label}</th>
              <td className="num">{i === null ? "–" : r.curves.steps[i]}</td>
              <td className="num">{formatLoss(smoothed)}</td>
              <td className="num">{formatLoss(lastVal)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
