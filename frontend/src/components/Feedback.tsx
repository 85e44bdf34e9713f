// Small shared pieces: progress bar, an error sentence where the user acted, and page banners.
import type { ReactNode } from "react";

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

export function ErrorText({ error }: { error: { message: string } | string | null | undefined }) {
  if (!error) return null;
  return (
    <p className="error-text" role="alert">
      {typeof error === "string" ? error : error.message}
    </p>
  );
}

export function Banner({ kind, children }: { kind: "warning" | "info"; children: ReactNode }) {
  return (
    <div className={`banner banner-${kind}`} role={kind === "warning" ? "alert" : "status"}>
      {children}
    </div>
  );
}

export function Stat({ label, value, title }: { label: string; value: ReactNode; title?: string }) {
  return (
    <div className="stat" title={title}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  );
}
