import { useMemo, useState } from "react";
import type { AlignedData, Options } from "uplot";
import { Chart } from "@/components/Chart";
import { formatLoss } from "@/lib/format";
import { sampleNearest, type SessionView } from "../sessionReducer";

const axis = { stroke: "#c9d1dc", grid: { stroke: "#2a313b", width: 1 }, ticks: { stroke: "#2a313b", width: 1 } };

/** Train and validation loss on one chart; hovering a step shows the sample taken nearest to it. */
export function LossChart({ view }: { view: SessionView }) {
  const [log, setLog] = useState(false);
  const [hoverStep, setHoverStep] = useState<number | null>(null);
  const data = useMemo<AlignedData>(() => [view.steps, view.trainLoss, view.valLoss], [view.steps, view.trainLoss, view.valLoss]);
  const options = (width: number): Options => ({
    width,
    height: 260,
    scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
    axes: [{ ...axis, label: "step" }, { ...axis, label: "loss", size: 56 }],
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    series: [
      { label: "step" },
      { label: "train loss", stroke: "#6cb4ff", width: 1.5, value: (_u, v) => formatLoss(v) },
      { label: "val loss", stroke: "#ffb454", width: 2, spanGaps: true, points: { show: true, size: 6, fill: "#ffb454" }, value: (_u, v) => formatLoss(v) },
    ],
  });
  const sample = hoverStep === null ? null : sampleNearest(view.samples, hoverStep);
  const last = view.latest;
  return (
    <section className="panel" aria-labelledby="loss-title">
      <div className="panel-head">
        <h2 id="loss-title">Loss</h2>
        <label className="check">
          <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> log scale
        </label>
      </div>
      <Chart
        options={options}
        optionsKey={log ? "log" : "linear"}
        data={data}
        height={260}
        label={`Loss chart with ${view.steps.length} points${last ? `; latest train loss ${formatLoss(last.train_loss)}` : ""}`}
        onHover={(i) => setHoverStep(i === null ? null : view.steps[i] ?? null)}
      />
      <p className="chart-points muted small" data-testid="chart-points">{view.steps.length} points</p>
      <div className="hover-sample" aria-live="polite">
        {sample ? (
          <>
            <span className="muted small">Sample nearest step {hoverStep} (from step {sample.step}):</span>
            <pre>{sample.prompt}<b>{sample.text}</b></pre>
          </>
        ) : (
          <span className="muted small">Hover the chart to see the sample generated nearest that step.</span>
        )}
      </div>
    </section>
  );
}
