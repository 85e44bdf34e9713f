import { useEffect, useState } from "react";
import { api, type FieldError, type MemoryEstimate, type TrainConfig } from "@/lib/api";

/** The server's verdict; `notes` say what it chose or corrected (e.g. for the text once it is known). */
export type ValidationState = { checking: boolean; serverErrors: FieldError[]; notes: string[]; estimate: MemoryEstimate | null; unreachable: string | null };

/** Asks the server's validator (the native rules, and the memory estimate for `dataset`) about `config` shortly after typing stops. */
export function useConfigValidation(config: TrainConfig | null, dataset: string | null = null, delayMs = 250): ValidationState {
  const [state, setState] = useState<ValidationState>({ checking: false, serverErrors: [], notes: [], estimate: null, unreachable: null });
  const key = config ? `${dataset}:${JSON.stringify(config)}` : "";
  useEffect(() => {
    if (!config) return;
    const abort = new AbortController();
    setState((s) => ({ ...s, checking: true }));
    const timer = setTimeout(async () => {
      try {
        const result = await api.validateConfig(config, dataset, abort.signal);
        setState({ checking: false, serverErrors: result.errors, notes: result.notes ?? [], estimate: result.estimate ?? null, unreachable: null });
      } catch (e) {
        if ((e as Error).name === "AbortError") return;
        setState({ checking: false, serverErrors: [], notes: [], estimate: null, unreachable: (e as Error).message });
      }
    }, delayMs);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, delayMs]);
  return state;
}
