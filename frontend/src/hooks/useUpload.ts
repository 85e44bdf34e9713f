import { useState } from "react";
import { ApiError } from "@/lib/api";

export type Upload = { progress: number | null; error: ApiError | null; send: (file: File | undefined) => Promise<void> };

/** One file upload at a time: `progress` is 0..1 while it runs (else null), `error` the last failure; `send` ignores no file. */
export function useUpload<T>(upload: (file: File, onProgress: (fraction: number) => void) => Promise<T>, onDone: (result: T) => void): Upload {
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const send = async (file: File | undefined) => {
    if (!file) return;
    setError(null);
    setProgress(0);
    try {
      onDone(await upload(file, setProgress));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setProgress(null);
    }
  };
  return { progress, error, send };
}
