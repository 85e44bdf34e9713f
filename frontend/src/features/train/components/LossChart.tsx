import { useMemo, useState } from "react";
import { ChartSettingsBar, LossPlot, useChartSettings, ValuePlot } from "@/components/RunCharts";
import type { Curves } from "@/lib/curves";
import { formatLoss, formatRate } from "@/lib/format";
import { axesFor, bpcFor, nearestPoint, type PlotRun } from "@/lib/plotData";
import { emaSmooth } from "@/lib/smoothing";
import { sampleNearest, type SessionView } from "../sessionReducer";

const learningRate = (c: Curves) => c.lr;
const throughput = (c: Curves) => c.tokensPerSec;
const formatLr = (v: number) => (v === 0 ? "0" : v.toExponential(1));

/** The run's loss with smoothing, axis and scale choices; hovering a point reads its values and the sample taken nearest it. */
export function LossChart({ view }: { view: SessionView }) {
  const [settings, update] = useChartSettings();
  const [hoverX, setHoverX] = useState<number | null>(null);
  const curves = view.curves;
  const runs = useMemo<PlotRun[]>(() => [{ key: "run", label: "this run", curves }], [curves]);
  const bpc = bpcFor(runs);
  const shown = { ...settings, metric: bpc ? settings.metric : "loss" as const, axis: axesFor(runs).includes(settings.axis) ? settings.axis : "step" as const };
  const at = hoverX === null ? null : nearestPoint(curves, shown.axis, hoverX);
  return (
    <section className="panel" aria-labelledby="loss-title">
      <div className="panel-head">
        <h2 id="loss-title">Loss</h2>
        <ChartSettingsBar settings={shown} onChange={update} axes={axesFor(runs)} bpc={bpc} />
      </div>
      <LossPlot runs={runs} settings={shown} height={250} syncKey="train" onHoverX={setHoverX} testId="loss-chart" />
      <p className="chart-points muted small" data-testid="chart-points">{curves.steps.length} points</p>
      <Readout view={view} index={at} smoothing={shown.smoothing} metric={shown.metric} />
      <div className="mini-charts">
        <ValuePlot runs={runs} settings={shown} height={110} syncKey="train" title="Learning rate" pick={learningRate} format={formatLr} />
        <ValuePlot runs={runs} settings={shown} height={110} syncKey="train" title="Tokens per second" pick={throughput} format={formatRate} />
      </div>
    </section>
  );
}

/** The values at the hovered point, the nearest evaluation, and the sample taken nearest that step. */
function Readout({ view, index, smoothing, metric }: { view: SessionView; index: number | null; smoothing: number; metric: "loss" | "bpc" }) {
  const c = view.curves;
  const train = metric === "bpc" ? c.trainBpc : c.trainLoss;
  const val = metric === "bpc" ? c.valBpc : c.valLoss;
  const smoothed = useMemo(() => emaSmooth(train, smoothing), [train, smoothing]);
  if (index === null) return <div className="hover-sample"><span className="muted small">Hover the chart to read a step's values and the sample generated nearest it.</span></div>;
  const step = c.steps[index];
  let evaluated: number | null = null;
  val.forEach((v, i) => {
    if (v !== null && (evaluated === null || Math.abs(c.steps[i] - step) < Math.abs(c.steps[evaluated] - step))) evaluated = i;
  });
  const sample = sampleNearest(view.samples, step);
  const unit = metric === "bpc" ? " bits/char" : "";
  return (
    <div className="hover-sample" aria-live="polite">
      <p className="small readout" data-testid="chart-readout">
        <b>step {step}</b> · train {formatLoss(train[index])}{unit} (smoothed {formatLoss(smoothed[index])})
        {evaluated !== null && <> · validation {formatLoss(val[evaluated])}{unit}{c.steps[evaluated] !== step ? ` (step ${c.steps[evaluated]})` : ""}</>}
        {c.lr[index] != null && <> · lr {formatLr(c.lr[index]!)}</>}
        {c.tokensPerSec[index] != null && <> · {formatRate(c.tokensPerSec[index])} tokens/s</>}
      </p>
      {sample && (
        <>
          <span className="muted small">Sample nearest step {step} (from step {sample.step}):</span>
          <pre>{sample.prompt}<b>{sample.text}</b></pre>
        </>
      )}
    </div>
  );
}
