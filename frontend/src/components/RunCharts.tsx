// The charts of one or several runs, read like TensorBoard's scalars: a moving average over the faint raw training
// line, validation beside it, log or linear y, x by step, tokens or training time; learning rate and throughput in
// small charts below that follow the same cursor.
import { useMemo, useState } from "react";
import type { AlignedData, Options, Series } from "uplot";
import { X_LABELS, type Curves, type XAxis } from "@/lib/curves";
import { formatDuration, formatRate } from "@/lib/format";
import { lossPlot, valuePlot, type Line, type LossMetric, type PlotRun } from "@/lib/plotData";
import { Chart } from "./Chart";

export type ChartSettings = { axis: XAxis; logY: boolean; smoothing: number; metric: LossMetric };
const DEFAULT_SETTINGS: ChartSettings = { axis: "step", logY: false, smoothing: 0.6, metric: "loss" };
const STORAGE_KEY = "bullet.chartSettings";

/** Chart settings, remembered in this browser across reloads and tabs. */
export function useChartSettings(): [ChartSettings, (change: Partial<ChartSettings>) => void] {
  const [settings, setSettings] = useState<ChartSettings>(() => {
    try {
      return { ...DEFAULT_SETTINGS, ...JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}") };
    } catch {
      return DEFAULT_SETTINGS;
    }
  });
  const update = (change: Partial<ChartSettings>) =>
    setSettings((s) => {
      const next = { ...s, ...change };
      localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
      return next;
    });
  return [settings, update];
}

/** Smoothing slider, y scale, x axis and (when the runs carry it) loss or bits per character. */
export function ChartSettingsBar({ settings, onChange, axes, bpc }: {
  settings: ChartSettings; onChange: (c: Partial<ChartSettings>) => void; axes: XAxis[]; bpc: boolean;
}) {
  return (
    <div className="chart-settings small">
      <label className="inline">
        Smoothing
        <input type="range" min={0} max={0.99} step={0.01} value={settings.smoothing} aria-label="Smoothing"
          onChange={(e) => onChange({ smoothing: Number(e.target.value) })} />
        <span className="tabular" data-testid="smoothing-value">{settings.smoothing.toFixed(2)}</span>
      </label>
      <label className="inline">
        x
        <select value={axes.includes(settings.axis) ? settings.axis : "step"} aria-label="x axis" onChange={(e) => onChange({ axis: e.target.value as XAxis })}>
          {axes.map((a) => <option key={a} value={a}>{X_LABELS[a]}</option>)}
        </select>
      </label>
      {bpc && (
        <label className="inline">
          y
          <select value={settings.metric} aria-label="y values" onChange={(e) => onChange({ metric: e.target.value as LossMetric })}>
            <option value="loss">loss (nats per token)</option>
            <option value="bpc">bits per character</option>
          </select>
        </label>
      )}
      <label className="check">
        <input type="checkbox" checked={settings.logY} onChange={(e) => onChange({ logY: e.target.checked })} /> log scale
      </label>
    </div>
  );
}

const PALETTE = ["#6cb4ff", "#ffb454", "#7ee2a8", "#ff8fb1", "#c3a6ff", "#f5e86c", "#5fd4d4", "#ff9b6a"];
const SINGLE = { train: "#6cb4ff", val: "#ffb454" };
const axisStyle = { stroke: "#c9d1dc", grid: { stroke: "#2a313b", width: 1 }, ticks: { stroke: "#2a313b", width: 1 } };

/** A colour with an alpha, for the faint raw lines. */
function faint(hex: string, alpha = 0.28): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function colorOf(line: Line, runCount: number): string {
  if (runCount === 1) return line.kind === "val" ? SINGLE.val : SINGLE.train;
  return PALETTE[line.run % PALETTE.length];
}

/** uPlot's description of a line. */
function seriesOf(line: Line, runCount: number): Series {
  const color = colorOf(line, runCount);
  switch (line.kind) {
    case "raw":
      return { label: line.label, stroke: faint(color), width: 1, points: { show: false } };
    case "smoothed":
      return { label: line.label, stroke: color, width: 1.75, points: { show: false } };
    case "val":
      return { label: line.label, stroke: color, width: 2, spanGaps: true, dash: runCount > 1 ? [6, 4] : undefined,
        points: { show: true, size: 5, fill: color } };
    default:
      return { label: line.label, stroke: color, width: 1.5, spanGaps: true, points: { show: false } };
  }
}

// Steps and tokens are whole numbers: tick at 1, 2, 5, 10, 20, 50, … rather than 2.5 or 7.5.
const WHOLE_INCREMENTS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

function xAxisValues(axis: XAxis) {
  return (_u: unknown, splits: number[]) => splits.map((v) => (axis === "time" ? formatDuration(v) : axis === "tokens" ? formatRate(v) : String(v)));
}

type PlotProps = {
  runs: PlotRun[];
  settings: ChartSettings;
  height: number;
  /** Charts with the same key move their cursors together. */
  syncKey?: string;
  /** The x value under the cursor, or null when it leaves. */
  onHoverX?: (x: number | null) => void;
  testId?: string;
};

/** Training loss (raw, faint, and smoothed) and validation loss of each run. */
export function LossPlot({ runs, settings, height, syncKey, onHoverX, testId }: PlotProps) {
  const { axis, smoothing, metric, logY } = settings;
  const plot = useMemo(() => lossPlot(runs, axis, smoothing, metric), [runs, axis, smoothing, metric]);
  const yLabel = metric === "bpc" ? "bits per character" : "loss";
  return (
    <>
      <PlotCanvas plot={plot} runCount={runs.length} axis={axis} yLabel={yLabel} logY={logY} height={height} syncKey={syncKey}
        onHoverX={onHoverX} testId={testId} label={`${yLabel} of ${runs.map((r) => r.label).join(", ")} by ${X_LABELS[axis]}`} />
      <Legend runs={runs} />
    </>
  );
}

/** One series of each run in a small chart (learning rate, tokens per second). */
export function ValuePlot({ runs, settings, height, syncKey, title, pick, format }: PlotProps & {
  title: string; pick: (c: Curves) => (number | null)[]; format: (v: number) => string;
}) {
  const plot = useMemo(() => valuePlot(runs, settings.axis, pick), [runs, settings.axis, pick]);
  return (
    <div className="mini-chart">
      <h3>{title}</h3>
      <PlotCanvas plot={plot} runCount={runs.length} axis={settings.axis} yLabel="" yFormat={format} logY={false} height={height}
        syncKey={syncKey} label={`${title} by ${X_LABELS[settings.axis]}`} />
    </div>
  );
}

function PlotCanvas({ plot, runCount, axis, yLabel, yFormat, logY, height, syncKey, onHoverX, label, testId }: {
  plot: { data: AlignedData; lines: Line[] }; runCount: number; axis: XAxis; yLabel: string;
  yFormat?: (v: number) => string; logY: boolean; height: number; syncKey?: string; onHoverX?: (x: number | null) => void;
  label: string; testId?: string;
}) {
  const options = (width: number): Options => ({
    width,
    height,
    legend: { show: false },
    scales: { x: { time: false }, y: logY ? { distr: 3 } : {} },
    cursor: { drag: { x: false, y: false }, ...(syncKey ? { sync: { key: syncKey } } : {}) },
    axes: [
      { ...axisStyle, label: yLabel ? X_LABELS[axis] : undefined, values: xAxisValues(axis), size: yLabel ? 48 : 28,
        incrs: axis === "time" ? undefined : WHOLE_INCREMENTS },
      { ...axisStyle, label: yLabel || undefined, size: 60, values: yFormat ? (_u, splits) => splits.map(yFormat) : undefined },
    ],
    series: [{ label: X_LABELS[axis] }, ...plot.lines.map((l) => seriesOf(l, runCount))],
  });
  // A new set of lines or another axis or scale needs a new chart; new points only new data.
  const key = [axis, logY, runCount, ...plot.lines.map((l) => l.label)].join("|");
  const data = plot.data;
  return <Chart options={options} optionsKey={key} data={data} height={height} label={label} testId={testId}
    onHover={onHoverX && ((i) => onHoverX(i === null ? null : (data[0][i] as number | undefined) ?? null))} />;
}

/** Which colour is which run, and what the line styles mean. */
function Legend({ runs }: { runs: PlotRun[] }) {
  if (runs.length === 1) {
    return (
      <p className="chart-legend small">
        <span><i className="swatch" style={{ background: SINGLE.train }} /> train (smoothed)</span>
        <span><i className="swatch" style={{ background: faint(SINGLE.train, 0.5) }} /> train (raw)</span>
        <span><i className="swatch" style={{ background: SINGLE.val }} /> validation</span>
      </p>
    );
  }
  return (
    <p className="chart-legend small">
      {runs.map((r, i) => <span key={r.key}><i className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} /> {r.label}</span>)}
      <span className="muted">solid: train (smoothed) · faint: raw · dashed: validation</span>
    </p>
  );
}
