// Number formatting shared by every tab: one place decides how a loss, a duration or a size reads.

const dash = "–";

/** A loss with 3 decimals ("–" when missing or not finite). */
export function formatLoss(x: number | null | undefined): string {
  return x == null || !Number.isFinite(x) ? dash : x.toFixed(3);
}

/** A perplexity: 2 decimals below 100, whole numbers above. */
export function formatPerplexity(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return dash;
  return x < 100 ? x.toFixed(2) : Math.round(x).toLocaleString("en-US");
}

/** Seconds as "42 s", "3 m 05 s" or "2 h 04 m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return dash;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} m`;
}

/** A rate such as tokens/s: "850", "12.9 k", "1.20 M". */
export function formatRate(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return dash;
  if (x < 1000) return x < 10 ? x.toFixed(1) : Math.round(x).toString();
  if (x < 1e6) return `${(x / 1000).toFixed(1)} k`;
  return `${(x / 1e6).toFixed(2)} M`;
}

/** Bytes in binary units: "512 B", "97.7 KB", "1.5 MB". */
export function formatBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return dash;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** A whole count with thousands separators. */
export function formatCount(n: number | null | undefined): string {
  return n == null || !Number.isFinite(n) ? dash : Math.round(n).toLocaleString("en-US");
}

/** A fraction 0..1 as a percentage with the given decimals. */
export function formatPercent(x: number | null | undefined, decimals = 1): string {
  return x == null || !Number.isFinite(x) ? dash : `${(x * 100).toFixed(decimals)} %`;
}

/** A metric value with up to 3 significant decimals, for style tables. */
export function formatMetric(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return dash;
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3);
}

/** An ISO time as a short local date and time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return dash;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString("en-GB", { dateStyle: "short", timeStyle: "short" });
}
