import { useEffect, useState } from "react";
import { api, type FieldError, type TrainConfig } from "@/lib/api";

/** The server's verdict; `notes` say what it chose or corrected (e.g. for the text once it is known). */
export type ValidationState = { checking: boolean; serverErrors: FieldError[]; notes: string[]; unreachable: string | null };

/** Asks the server's validator (the native rules) about `config` shortly after typing stops. */
export function useConfigValidation(config: TrainConfig | null, delayMs = 250): ValidationState {
  const [state, setState] = useState<ValidationState>({ checking: false, serverErrors: [], notes: [], unreachable: null });
  const key = config ? JSON.stringify(config) : "";
  useEffect(() => {
    if (!config) return;
    const abort = new AbortController();
    setState((s) => ({ ...s, checking: true }));
    const timer = setTimeout(async () => {
      try {
        const result = await api.validateConfig(config, abort.signal);
        setState({ checking: false, serverErrors: result.errors, notes: result.notes ?? [], unreachable: null });
      } catch (e) {
        if ((e as Error).name === "AbortError") return;
        setState({ checking: false, serverErrors: [], notes: [], unreachable: (e as Error).message });
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
