import type { ModelSummary } from "@/lib/api";

export type SortKey = "name" | "bytes" | "hidden_size" | "vocab_size" | "val_loss" | "float_perplexity" | "bq4_perplexity" | "created";
export type Sort = { key: SortKey; descending: boolean };

/** Models ordered by one column; missing values always go last, whatever the direction. */
export function sortModels(models: ModelSummary[], sort: Sort): ModelSummary[] {
  const value = (m: ModelSummary) => m[sort.key] ?? null;
  return [...models].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return sort.descending ? -order : order;
  });
}

/** Clicking a column sorts by it; clicking it again flips the direction. */
export function nextSort(current: Sort, key: SortKey): Sort {
  return current.key === key ? { key, descending: !current.descending } : { key, descending: key === "created" };
}
