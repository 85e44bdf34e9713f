import { useEffect, useState } from "react";
import { openEventStream, type SessionEvent, type StreamStatus } from "./eventStream";

/**
 * Follows a session's events while `url` is set; `onEvent` sees each event exactly once. The status drives the
 * "connection lost" banner. A new `generation` reopens the stream after `after`.
 */
export function useEventStream(url: string | null, onEvent: (event: SessionEvent) => void, after = 0, generation = 0): StreamStatus | null {
  const [status, setStatus] = useState<StreamStatus | null>(null);
  useEffect(() => {
    if (!url) {
      setStatus(null);
      return;
    }
    return openEventStream({ url, after, onEvent, onStatus: setStatus });
    // onEvent is expected to be stable (a dispatch); `after` only matters when the stream opens, and a new
    // generation reopens an ended stream (a session resumed from its checkpoint).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [url, generation]);
  return status;
}
