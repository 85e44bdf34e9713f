import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, type SessionDetail } from "@/lib/api";
import type { SessionEvent } from "@/lib/eventStream";
import { useEventStream } from "@/lib/useEventStream";
import { usePoll } from "@/hooks/usePoll";
import { emptyView, reduceSession, type SessionView } from "../sessionReducer";

type Action = { kind: "event"; event: SessionEvent } | { kind: "reset" };

function reducer(view: SessionView, action: Action): SessionView {
  return action.kind === "reset" ? emptyView : reduceSession(view, action.event);
}

/** A session's server state (polled) and its event-built view (streamed; a finished session replays). */
export function useSession(id: string | null) {
  const [view, dispatch] = useReducer(reducer, emptyView);
  useEffect(() => dispatch({ kind: "reset" }), [id]);
  const onEvent = useCallback((event: SessionEvent) => dispatch({ kind: "event", event }), []);
  const [generation, setGeneration] = useState(0);
  const lastSeq = useRef(0);
  lastSeq.current = view.lastSeq;
  const stream = useEventStream(id ? api.eventsUrl(id) : null, onEvent, lastSeq.current, generation);
  const detail = usePoll<SessionDetail | null>(() => (id ? api.session(id) : Promise.resolve(null)), 2000, [id]);
  // Events that change the phase (paused, completed, …) refresh the server state at once rather than at the next poll.
  const reloadDetail = detail.reload;
  useEffect(() => {
    if (view.phase !== "waiting") reloadDetail();
  }, [view.phase, reloadDetail]);
  const live = detail.data && ["running", "queued", "preparing", "paused", "ready"].includes(detail.data.state);
  // The server ends a stream when a session finished; training again (resume from checkpoint) needs a new one.
  useEffect(() => {
    if (stream === "ended" && live) setGeneration((g) => g + 1);
  }, [stream, live]);
  return { view, stream, detail: detail.data, detailError: detail.error, reload: detail.reload };
}
