import { useState } from "react";
import { api, ApiError } from "@/lib/api";
import { ErrorText } from "@/components/Feedback";
import { GgufDownload } from "@/components/GgufDownload";
import { SortHeader } from "@/components/SortHeader";
import { formatBytes, formatLoss, formatPerplexity, formatTime } from "@/lib/format";
import { usePoll } from "@/hooks/usePoll";
import { nextSort, sortRows, type Sort } from "@/lib/sortRows";

type SortKey = "name" | "bytes" | "hidden_size" | "vocab_size" | "val_loss" | "float_perplexity" | "bq4_perplexity" | "created";

const COLUMNS: [SortKey, string][] = [
  ["name", "Name"], ["bytes", "Size"], ["hidden_size", "Dims"], ["vocab_size", "Vocab"], ["val_loss", "Val loss"],
  ["float_perplexity", "Float ppl"], ["bq4_perplexity", "BQ4 ppl"], ["created", "Created"],
];

/** Every model with its dims and metrics: sortable, with download (.bullet or GGUF), delete (confirmed) and open in Playground. */
export function ModelsPage({ onOpenInPlayground }: { onOpenInPlayground: (name: string) => void }) {
  const models = usePoll(() => api.models(), 5000, []);
  const [sort, setSort] = useState<Sort<SortKey>>({ key: "created", descending: true });
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<{ name: string; error: ApiError } | null>(null);
  const rows = sortRows(models.data ?? [], sort);

  const remove = async (name: string) => {
    setError(null);
    try {
      await api.deleteModel(name);
      setConfirming(null);
      models.reload();
    } catch (e) {
      setError({ name, error: e as ApiError });
    }
  };

  return (
    <div className="page">
      <section className="panel">
        <h2>Models</h2>
        <ErrorText error={models.error} />
        {rows.length === 0 && !models.error && <p className="muted">No models yet: train one, or upload a .bullet in the Playground.</p>}
        {rows.length > 0 && (
          <div className="table-scroll">
            <table className="table models-table">
              <thead>
                <tr>
                  {COLUMNS.map(([key, label]) => (
                    <SortHeader key={key} column={key} label={label} sort={sort} onSort={(k) => setSort(nextSort(sort, k, ["created"]))} />
                  ))}
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((m) => (
                  <tr key={m.name}>
                    <td><code>{m.name}</code>{m.error && <div className="error-text small">{m.error}</div>}</td>
                    <td className="num">{formatBytes(m.bytes)}</td>
                    <td className="num">{m.hidden_size ? `${m.hidden_size} × ${m.num_layers ?? "?"}L × ${m.num_heads ?? "?"}H` : "–"}</td>
                    <td className="num">{m.vocab_size ?? "–"}</td>
                    <td className="num">{formatLoss(m.val_loss)}</td>
                    <td className="num">{formatPerplexity(m.float_perplexity)}</td>
                    <td className="num">{formatPerplexity(m.bq4_perplexity)}</td>
                    <td>{formatTime(m.created)}</td>
                    <td><div className="actions">
                      <a className="button" href={api.downloadUrl(m.name)} download={`${m.name}.bullet`}>Download</a>
                      <GgufDownload model={m.name} />
                      <button type="button" onClick={() => onOpenInPlayground(m.name)}>Open in Playground</button>
                      {confirming === m.name ? (
                        <span role="group" aria-label={`Confirm deleting ${m.name}`}>
                          <button type="button" className="button-danger" onClick={() => remove(m.name)} autoFocus>Yes, delete</button>
                          <button type="button" onClick={() => setConfirming(null)}>Cancel</button>
                        </span>
                      ) : (
                        <button type="button" onClick={() => setConfirming(m.name)}>Delete</button>
                      )}
                    </div>{error?.name === m.name && <ErrorText error={error.error} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
