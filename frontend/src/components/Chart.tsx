// uPlot, wrapped once. uPlot draws thousands of points on a canvas with tiny per-frame cost, which is what a live
// loss curve at 10 events/s needs; the chart is built once per option set and only fed new data afterwards.
import { useEffect, useRef } from "react";
import uPlot, { type AlignedData, type Options } from "uplot";
import "uplot/dist/uPlot.min.css";

export type ChartProps = {
  /** Builds the options for a width; called again only when `optionsKey` changes. */
  options: (width: number) => Options;
  optionsKey: string;
  data: AlignedData;
  height: number;
  label: string;
  /** The data index under the cursor (null when the cursor leaves). */
  onHover?: (index: number | null) => void;
  testId?: string;
};

export function Chart({ options, optionsKey, data, height, label, onHover, testId }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const hover = useRef(onHover);
  hover.current = onHover;
  const latestData = useRef(data);
  latestData.current = data;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = Math.max(200, el.clientWidth);
    const opts = options(width);
    opts.height = height;
    opts.hooks = {
      ...opts.hooks,
      setCursor: [(u) => hover.current?.(u.cursor.idx ?? null)],
      // The x range drawn, readable from the page (tests check a switched chart shows its own range).
      setScale: [(u, key) => {
        if (key === "x") Object.assign(el.dataset, { xMin: String(u.scales.x.min ?? ""), xMax: String(u.scales.x.max ?? "") });
      }],
    };
    const chart = new uPlot(opts, latestData.current, el);
    plot.current = chart;
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [optionsKey, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={host} className="chart" role="img" aria-label={label} data-testid={testId} />;
}
