// Turns runs' curves into the column tables uPlot draws: one shared, sorted x column (runs logged at different x
// values are joined, with gaps where a run has no point) and one column per line.
import uPlot, { type AlignedData } from "uplot";
import { hasBpc, xValues, type Curves, type XAxis } from "./curves";
import { emaSmooth } from "./smoothing";

export type PlotRun = { key: string; label: string; curves: Curves };
export type LossMetric = "loss" | "bpc";
export type LineKind = "raw" | "smoothed" | "val" | "value";
/** One drawn line: which run (index into the runs) and what it shows. */
export type Line = { run: number; kind: LineKind; label: string };

/** Joins per-run tables [x, ...columns], dropping points without an x (a log written before the field existed). */
function join(tables: { x: (number | null)[]; columns: (number | null)[][] }[]): AlignedData {
  const clean = tables.map(({ x, columns }) => {
    const keep = x.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0);
    return [keep.map((i) => x[i] as number), ...columns.map((c) => keep.map((i) => c[i]))] as AlignedData;
  });
  return clean.length === 1 ? clean[0] : uPlot.join(clean);
}

/** The loss (or bits per character) lines of each run: raw training values, their moving average, validation. */
export function lossPlot(runs: PlotRun[], axis: XAxis, smoothing: number, metric: LossMetric): { data: AlignedData; lines: Line[] } {
  const lines: Line[] = [];
  const tables = runs.flatMap((run, i) => {
    const x = xValues(run.curves, axis);
    if (x === null) return [];
    const train = metric === "bpc" ? run.curves.trainBpc : run.curves.trainLoss;
    const val = metric === "bpc" ? run.curves.valBpc : run.curves.valLoss;
    const name = runs.length === 1 ? "" : `${run.label} `;
    lines.push({ run: i, kind: "raw", label: `${name}train (raw)` }, { run: i, kind: "smoothed", label: `${name}train` },
      { run: i, kind: "val", label: `${name}validation` });
    return [{ x, columns: [train, emaSmooth(train, smoothing), val] }];
  });
  return { data: tables.length ? join(tables) : [[]], lines };
}

/** One line per run of a single series (learning rate, tokens/s). */
export function valuePlot(runs: PlotRun[], axis: XAxis, pick: (c: Curves) => (number | null)[]): { data: AlignedData; lines: Line[] } {
  const lines: Line[] = [];
  const tables = runs.flatMap((run, i) => {
    const x = xValues(run.curves, axis);
    if (x === null) return [];
    lines.push({ run: i, kind: "value", label: run.label });
    return [{ x, columns: [pick(run.curves)] }];
  });
  return { data: tables.length ? join(tables) : [[]], lines };
}

/** The x axes every run can be drawn on (tokens need the run's config). */
export function axesFor(runs: PlotRun[]): XAxis[] {
  return (["step", "tokens", "time"] as XAxis[]).filter((axis) => runs.every((r) => xValues(r.curves, axis) !== null));
}

/** Whether bits per character can be drawn: every run's metrics carry it. */
export function bpcFor(runs: PlotRun[]): boolean {
  return runs.length > 0 && runs.every((r) => hasBpc(r.curves));
}

/** The index of the point of `curves` nearest to an x value on `axis`, or null when there are none. */
export function nearestPoint(curves: Curves, axis: XAxis, x: number): number | null {
  const xs = xValues(curves, axis);
  if (!xs) return null;
  let best: number | null = null;
  xs.forEach((v, i) => {
    if (v !== null && (best === null || Math.abs(v - x) < Math.abs((xs[best] as number) - x))) best = i;
  });
  return best;
}
