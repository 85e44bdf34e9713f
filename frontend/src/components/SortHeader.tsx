import type { Sort } from "@/lib/sortRows";

/** A column header that sorts its table: the button says the direction, aria-sort tells screen readers. */
export function SortHeader<K extends string>({ column, label, sort, onSort, numeric, title }: {
  column: K; label: string; sort: Sort<K>; onSort: (column: K) => void; numeric?: boolean; title?: string;
}) {
  const on = sort.key === column;
  return (
    <th scope="col" className={numeric ? "num" : undefined} title={title} aria-sort={on ? (sort.descending ? "descending" : "ascending") : "none"}>
      <button type="button" className="sort" onClick={() => onSort(column)}>
        {label} {on ? (sort.descending ? "▼" : "▲") : ""}
      </button>
    </th>
  );
}
