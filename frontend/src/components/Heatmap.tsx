// One attention map on a canvas: rows are query tokens, columns key tokens; a causal row has query+1 entries.
import { useEffect, useRef } from "react";

/**
 * A dark-to-bright colour for a weight in 0..1 (deep blue, teal, yellow). The square root spreads the small weights
 * a long row divides its attention into, which a linear scale would paint all alike.
 */
function heatColor(w: number): string {
  const t = Math.sqrt(Math.max(0, Math.min(1, w)));
  const stops: [number, number, number][] = [
    [13, 16, 48],
    [38, 86, 150],
    [31, 158, 137],
    [181, 222, 43],
    [253, 231, 37],
  ];
  const x = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i], stops[i + 1]];
  const c = a.map((v, k) => Math.round(v + (b[k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export type HeatmapProps = {
  matrix: number[][];
  size: number;
  label: string;
  onHover?: (cell: { query: number; key: number; weight: number } | null) => void;
};

export function Heatmap({ matrix, size, label, onHover }: HeatmapProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const n = matrix.length;

  useEffect(() => {
    const c = canvas.current;
    const ctx = c?.getContext("2d");
    if (!c || !ctx || n === 0) return;
    const ratio = window.devicePixelRatio || 1;
    c.width = size * ratio;
    c.height = size * ratio;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#0b0d10";
    ctx.fillRect(0, 0, size, size);
    const cell = size / n;
    for (let q = 0; q < n; q++) {
      const row = matrix[q];
      for (let k = 0; k < row.length; k++) {
        ctx.fillStyle = heatColor(row[k]);
        ctx.fillRect(k * cell, q * cell, Math.ceil(cell), Math.ceil(cell));
      }
    }
  }, [matrix, size, n]);

  const move = (e: React.MouseEvent<HTMLCanvasElement>) => {
    if (!onHover || n === 0) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const q = Math.floor(((e.clientY - rect.top) / rect.height) * n);
    const k = Math.floor(((e.clientX - rect.left) / rect.width) * n);
    const weight = matrix[q]?.[k];
    onHover(weight === undefined ? null : { query: q, key: k, weight });
  };

  return (
    <canvas
      ref={canvas}
      className="heatmap"
      style={{ width: size, height: size }}
      role="img"
      aria-label={label}
      onMouseMove={onHover ? move : undefined}
      onMouseLeave={onHover ? () => onHover(null) : undefined}
    />
  );
}
