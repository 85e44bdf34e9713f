import { describe, expect, it } from "vitest";
import { openEventStream, type EventSourceLike, type SessionEvent, type StreamStatus } from "./eventStream";

/** An EventSource the test drives by hand. */
class FakeSource implements EventSourceLike {
  readyState = 0;
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  closed = false;
  listeners: Record<string, (e: MessageEvent) => void> = {};
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (e: MessageEvent) => void) {
    this.listeners[type] = listener;
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  send(event: object) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(event) }));
  }
  fail(permanently: boolean) {
    this.readyState = permanently ? 2 : 0;
    this.onerror?.(new Event("error"));
  }
}

function harness(after = 0) {
  const sources: FakeSource[] = [];
  const events: SessionEvent[] = [];
  const statuses: StreamStatus[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const close = openEventStream({
    url: "/api/sessions/s1/events",
    after,
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
    factory: (url) => {
      const s = new FakeSource(url);
      sources.push(s);
      return s;
    },
    schedule: (fn, ms) => timers.push({ fn, ms }),
    cancel: () => undefined,
  });
  return { sources, events, statuses, timers, close };
}

describe("openEventStream", () => {
  it("delivers events in order and reports the connection", () => {
    const h = harness();
    h.sources[0].open();
    h.sources[0].send({ seq: 1, type: "started" });
    h.sources[0].send({ seq: 2, type: "metrics" });
    expect(h.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(h.statuses).toEqual(["connecting", "open"]);
    expect(h.sources[0].url).toBe("/api/sessions/s1/events");
  });

  it("reopens with last_event_id after the browser gives up, and neither loses nor repeats events", () => {
    const h = harness();
    h.sources[0].open();
    [1, 2, 3].forEach((seq) => h.sources[0].send({ seq, type: "metrics" }));
    h.sources[0].fail(true);
    expect(h.statuses.at(-1)).toBe("lost");
    expect(h.sources[0].closed).toBe(true);
    expect(h.timers).toHaveLength(1);
    h.timers[0].fn();
    const second = h.sources[1];
    expect(second.url).toBe("/api/sessions/s1/events?last_event_id=3");
    second.open();
    // A server that replays one event too many is harmless: seq 3 is dropped.
    [3, 4, 5].forEach((seq) => second.send({ seq, type: "metrics" }));
    expect(h.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(h.statuses.at(-1)).toBe("open");
  });

  it("lets EventSource retry by itself while it is still connecting", () => {
    const h = harness();
    h.sources[0].open();
    h.sources[0].fail(false);
    expect(h.statuses.at(-1)).toBe("lost");
    expect(h.timers).toHaveLength(0);
    expect(h.sources).toHaveLength(1);
  });

  it("backs off longer after each failed attempt", () => {
    const h = harness();
    h.sources[0].fail(true);
    h.timers[0].fn();
    h.sources[1].fail(true);
    expect(h.timers.map((t) => t.ms)).toEqual([1000, 2000]);
  });

  it("starts after a known seq and stops at the end event", () => {
    const h = harness(7);
    expect(h.sources[0].url).toBe("/api/sessions/s1/events?last_event_id=7");
    h.sources[0].open();
    h.sources[0].send({ seq: 8, type: "completed" });
    h.sources[0].listeners.end(new MessageEvent("end", { data: "{}" }));
    expect(h.sources[0].closed).toBe(true);
    expect(h.statuses.at(-1)).toBe("ended");
    h.sources[0].fail(true);
    expect(h.timers).toHaveLength(0);
  });

  it("closing stops reconnects", () => {
    const h = harness();
    h.close();
    expect(h.sources[0].closed).toBe(true);
    h.sources[0].onerror?.(new Event("error"));
    expect(h.timers).toHaveLength(0);
  });
});
