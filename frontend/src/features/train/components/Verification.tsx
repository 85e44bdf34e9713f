import type { ReactNode } from "react";
import type { Verification as VerificationNumbers } from "@/lib/api";
import { api } from "@/lib/api";
import { Stat } from "@/components/Feedback";
import { GgufDownload } from "@/components/GgufDownload";
import { formatBytes, formatPercent, formatPerplexity } from "@/lib/format";

/** The built file's check: float vs BQ4 perplexity and next-token agreement, where its weights came from, and the downloads. */
export function Verification({ model, numbers, source, children }: { model: string; numbers: Partial<VerificationNumbers>; source?: string; children?: ReactNode }) {
  const ratio = numbers.perplexity_ratio ?? (numbers.bq4_perplexity && numbers.float_perplexity ? numbers.bq4_perplexity / numbers.float_perplexity : undefined);
  return (
    <section className="panel verification" aria-labelledby="verify-title">
      <h2 id="verify-title">Built and verified: {model}.bullet</h2>
      {source && <p className="small" data-testid="export-source">Made from {source}.</p>}
      <div className="stats">
        <Stat label="Float perplexity" value={formatPerplexity(numbers.float_perplexity)} />
        <Stat label="BQ4 perplexity" value={formatPerplexity(numbers.bq4_perplexity)} />
        <Stat label="BQ4 / float" value={ratio ? ratio.toFixed(4) : "–"} title="perplexity of the 4-bit file divided by the float model's" />
        <Stat label="Top-1 agreement" value={formatPercent(numbers.top1_agreement)} title="how often the file and the float model pick the same next token" />
        <Stat label="Size" value={formatBytes(numbers.bytes)} />
      </div>
      <div className="actions">
        <a className="button button-primary" href={api.downloadUrl(model)} download={`${model}.bullet`} data-testid="download">
          ⬇ Download {model}.bullet
        </a>
        <GgufDownload model={model} />
        {children}
      </div>
    </section>
  );
}
