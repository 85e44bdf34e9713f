import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, type SessionDetail } from "@/lib/api";
import type { SessionEvent } from "@/lib/eventStream";
import { useEventStream } from "@/lib/useEventStream";
import { usePoll } from "@/hooks/usePoll";
import { isLive } from "@/lib/sessionStates";
import { emptyView, reduceSession, type SessionView } from "../sessionReducer";

/** The view built from one session's events; `id` says which session it belongs to. */
type Built = { id: string | null; view: SessionView };
type Action = { id: string; event: SessionEvent };

/** Events of another session than the one built so far start from an empty view: views never mix sessions. */
export function reduceBuilt(built: Built, { id, event }: Action): Built {
  const base = built.id === id ? built.view : emptyView;
  const view = reduceSession(base, event);
  return view === built.view ? built : { id, view };
}

/** A session's server state (polled) and its event-built view (streamed; a finished session replays). */
export function useSession(id: string | null) {
  const [built, dispatch] = useReducer(reduceBuilt, { id: null, view: emptyView });
  // Until the new session's first event arrives, the previous session's view is not shown, and its last seq is not
  // where the new stream starts.
  const view = built.id === id ? built.view : emptyView;
  const current = useRef(id);
  current.current = id;
  // A stream being closed could still deliver an event of the session left behind: only the shown one's count.
  const onEvent = useCallback((event: SessionEvent) => id && id === current.current && dispatch({ id, event }), [id]);
  const [generation, setGeneration] = useState(0);
  const stream = useEventStream(id ? api.eventsUrl(id) : null, onEvent, view.lastSeq, generation);
  const polled = usePoll<SessionDetail | null>(() => (id ? api.session(id) : Promise.resolve(null)), 2000, [id]);
  const detail = polled.data?.id === id ? polled.data : null;
  // Events that change the phase (paused, completed, …) refresh the server state at once rather than at the next poll.
  const reloadDetail = polled.reload;
  useEffect(() => {
    if (view.phase !== "waiting") reloadDetail();
  }, [view.phase, reloadDetail]);
  const live = detail && isLive(detail.state);
  // The server ends a stream when a session finished; training again (resume from checkpoint) needs a new one.
  useEffect(() => {
    if (stream === "ended" && live) setGeneration((g) => g + 1);
  }, [stream, live]);
  return { view, stream, detail, detailError: polled.error, reload: polled.reload };
}
