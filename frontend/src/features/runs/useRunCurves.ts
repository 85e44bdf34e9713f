import { useEffect, useState } from "react";
import { api, type RunRow } from "@/lib/api";
import { addToCurves, emptyCurves, type Curves } from "@/lib/curves";

type Loaded = { seen: number; curves: Curves };
const CURVE_EVENTS = ["started", "metrics"];

/**
 * The curves of the chosen runs, fetched from their stored logs; a run still training is brought up to date with only
 * the events after the ones already read (its row's last_seq says when there are more).
 */
export function useRunCurves(ids: string[], rows: RunRow[]): { curves: Record<string, Curves>; error: string | null } {
  const [loaded, setLoaded] = useState<Record<string, Loaded>>({});
  const [error, setError] = useState<string | null>(null);
  const wanted = ids.map((id) => `${id}:${rows.find((r) => r.id === id)?.last_seq ?? 0}`).join(",");
  useEffect(() => {
    let alive = true;
    (async () => {
      for (const id of ids) {
        const lastSeq = rows.find((r) => r.id === id)?.last_seq ?? 0;
        const have = loaded[id]?.seen ?? 0;
        if (have >= lastSeq && loaded[id]) continue;
        try {
          const events = await api.sessionLog(id, have, CURVE_EVENTS);
          if (!alive) return;
          setLoaded((all) => {
            const base = all[id]?.seen === have ? all[id].curves : emptyCurves;
            return { ...all, [id]: { seen: Math.max(lastSeq, events.at(-1)?.seq ?? 0), curves: events.reduce(addToCurves, base) } };
          });
          setError(null);
        } catch (e) {
          if (alive) setError((e as Error).message);
        }
      }
    })();
    return () => {
      alive = false;
    };
    // `wanted` names every chosen run and how far its log goes: only a change there needs fetching.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [wanted]);
  const curves = Object.fromEntries(ids.filter((id) => loaded[id]).map((id) => [id, loaded[id].curves]));
  return { curves, error };
}
