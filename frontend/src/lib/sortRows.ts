// Sorting a table by one column, shared by the tables that sort (Models, Runs).

export type Sort<K extends string> = { key: K; descending: boolean };

/** Rows ordered by one column; missing values always go last, whatever the direction. */
export function sortRows<T, K extends string & keyof T>(rows: T[], sort: Sort<K>): T[] {
  const value = (row: T) => (row[sort.key] ?? null) as unknown;
  return [...rows].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return sort.descending ? -order : order;
  });
}

/** Clicking a column sorts by it (columns in `newestFirst` start descending); clicking it again flips the direction. */
export function nextSort<K extends string>(current: Sort<K>, key: K, newestFirst: readonly K[] = []): Sort<K> {
  return current.key === key ? { key, descending: !current.descending } : { key, descending: newestFirst.includes(key) };
}
