// A session's event stream that never loses or repeats an event: EventSource resends Last-Event-ID on its own
// reconnects; when the browser gives up (server down, a 5xx), we open a new one at ?last_event_id=<last seq>.

export type SessionEvent = { seq: number; type: string; time?: number; [key: string]: unknown };

export type StreamStatus = "connecting" | "open" | "lost" | "ended";

export type EventSourceLike = {
  readyState: number;
  onopen: ((e: Event) => void) | null;
  onmessage: ((e: MessageEvent) => void) | null;
  onerror: ((e: Event) => void) | null;
  addEventListener(type: string, listener: (e: MessageEvent) => void): void;
  close(): void;
};
export type EventSourceFactory = (url: string) => EventSourceLike;

export type StreamOptions = {
  url: string;
  /** Events up to this seq are already known (e.g. replayed): the stream starts after it. */
  after?: number;
  onEvent: (event: SessionEvent) => void;
  onStatus?: (status: StreamStatus) => void;
  factory?: EventSourceFactory;
  /** Delay before reopening after the browser gave up, growing per failure up to maxDelayMs. */
  retryDelayMs?: number;
  maxDelayMs?: number;
  schedule?: (fn: () => void, ms: number) => unknown;
  cancel?: (handle: unknown) => void;
};

const CLOSED = 2;

/** Opens the stream and returns a function that closes it for good. */
export function openEventStream(options: StreamOptions): () => void {
  const factory = options.factory ?? ((url: string) => new EventSource(url) as unknown as EventSourceLike);
  const schedule = options.schedule ?? ((fn, ms) => setTimeout(fn, ms));
  const cancel = options.cancel ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  const baseDelay = options.retryDelayMs ?? 1000;
  const maxDelay = options.maxDelayMs ?? 10000;
  let lastSeq = options.after ?? 0;
  let source: EventSourceLike | null = null;
  let timer: unknown = null;
  let failures = 0;
  let stopped = false;

  const setStatus = (s: StreamStatus) => options.onStatus?.(s);

  const connect = () => {
    timer = null;
    if (stopped) return;
    setStatus("connecting");
    const separator = options.url.includes("?") ? "&" : "?";
    const es = factory(lastSeq > 0 ? `${options.url}${separator}last_event_id=${lastSeq}` : options.url);
    source = es;
    es.onopen = () => {
      failures = 0;
      setStatus("open");
    };
    es.onmessage = (e) => {
      const event = JSON.parse(e.data) as SessionEvent;
      // A replay after a reconnect starts after lastSeq; the check makes a duplicate harmless anyway.
      if (typeof event.seq !== "number" || event.seq <= lastSeq) return;
      lastSeq = event.seq;
      options.onEvent(event);
    };
    es.addEventListener("end", () => {
      stopped = true;
      es.close();
      setStatus("ended");
    });
    es.onerror = () => {
      if (stopped) return;
      setStatus("lost");
      if (es.readyState === CLOSED) {
        es.close();
        failures += 1;
        timer = schedule(connect, Math.min(maxDelay, baseDelay * failures));
      }
    };
  };

  connect();
  return () => {
    stopped = true;
    if (timer !== null) cancel(timer);
    source?.close();
  };
}
