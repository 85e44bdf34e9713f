import { describe, expect, it } from "vitest";
import type { SessionEvent } from "@/lib/eventStream";
import { CONSOLE_LIMIT, emptyView, progressOf, reduceSession, sampleNearest, type SessionView } from "./sessionReducer";

const metrics = (seq: number, step: number, train: number, val: number | null = null): SessionEvent => ({
  seq, type: "metrics", step, total_steps: 60, train_loss: train, val_loss: val, tokens_per_sec: 1000, eta_sec: 10,
});
const replay = (events: SessionEvent[], from: SessionView = emptyView) => events.reduce(reduceSession, from);

describe("reduceSession", () => {
  it("builds aligned train and val series with gaps where no evaluation ran", () => {
    const v = replay([
      { seq: 1, type: "started", total_steps: 60, parameters: 196928 },
      metrics(2, 1, 6.2),
      metrics(3, 2, 5.9, 5.8),
      metrics(4, 3, 5.5),
    ]);
    expect(v.curves.steps).toEqual([1, 2, 3]);
    expect(v.curves.trainLoss).toEqual([6.2, 5.9, 5.5]);
    expect(v.curves.valLoss).toEqual([null, 5.8, null]);
    expect(v.totalSteps).toBe(60);
    expect(v.parameters).toBe(196928);
    expect(replay([{ seq: 1, type: "started", config: { hidden_size: 96 } }]).config).toEqual({ hidden_size: 96 });
    expect(v.latest?.step).toBe(3);
    expect(v.phase).toBe("running");
  });

  it("lists samples newest first with their step", () => {
    const v = replay([
      { seq: 1, type: "sample", step: 20, prompt: "The ", text: "noise" },
      { seq: 2, type: "sample", step: 40, prompt: "The ", text: "words" },
    ]);
    expect(v.samples.map((s) => [s.step, s.text])).toEqual([[40, "words"], [20, "noise"]]);
  });

  it("ignores an event it has already seen", () => {
    const once = replay([metrics(1, 1, 6), metrics(2, 2, 5)]);
    expect(reduceSession(once, metrics(2, 2, 5))).toBe(once);
    expect(reduceSession(once, metrics(1, 1, 6))).toBe(once);
  });

  it("replaces the points a resumed run repeats after its checkpoint", () => {
    const v = replay([metrics(1, 1, 6), metrics(2, 2, 5), metrics(3, 3, 4), metrics(4, 2, 4.9), metrics(5, 3, 4.5)]);
    expect(v.curves.steps).toEqual([1, 2, 3]);
    expect(v.curves.trainLoss).toEqual([6, 4.9, 4.5]);
  });

  it("follows pause, resume, completion, export and errors", () => {
    let v = replay([{ seq: 1, type: "started", total_steps: 60 }, { seq: 2, type: "paused", step: 5 }]);
    expect(v.phase).toBe("paused");
    v = replay([{ seq: 3, type: "resumed", step: 5 }], v);
    expect(v.phase).toBe("running");
    v = replay([{ seq: 4, type: "completed", step: 60, reason: "completed" },
      { seq: 5, type: "exported", float_perplexity: 53.7, bq4_perplexity: 53.8, top1_agreement: 1, path: "/m/x.bullet" }], v);
    expect(v.phase).toBe("completed");
    expect(v.verification?.bq4_perplexity).toBe(53.8);
    expect(v.console.map((l) => l.text)).toEqual([
      "started: ? parameters, 60 steps, vocabulary ?",
      "paused at step 5",
      "resumed at step 5",
      "completed at step 60",
      "exported: perplexity float 53.70 vs BQ4 53.80, agreement 100.0 %",
    ]);
    const failed = replay([{ seq: 6, type: "error", step: 7, message: "out of memory" }], v);
    expect(failed.phase).toBe("failed");
    expect(failed.error).toBe("out of memory");
  });

  it("says in the console what the server chose for the text", () => {
    const v = replay([{ seq: 1, type: "started", parameters: 10, total_steps: 60, vocab_size: 40, notes: ["character tokenizer: the text is short"] }]);
    expect(v.console[0].text).toBe("started: 10 parameters, 60 steps, vocabulary 40; chosen for this text: character tokenizer: the text is short");
  });

  it("keeps the overfitting warning and says it in the console", () => {
    const v = replay([{ seq: 1, type: "overfitting", step: 40, val_loss: 6.4, best_val_loss: 4.8, best_step: 10, evaluations: 3 }]);
    expect(v.overfitting).toMatchObject({ step: 40, best_step: 10 });
    expect(v.console[0].text).toBe("step 40: validation loss has risen over 3 evaluations (best 4.800 at step 10) while training loss fell: the model is overfitting");
  });

  it("puts evaluated metrics in the console but not every step", () => {
    const v = replay([metrics(1, 1, 6), metrics(2, 2, 5, 5.25)]);
    expect(v.console).toEqual([{ seq: 2, type: "metrics", text: "step 2: train loss 5.000, val loss 5.250" }]);
  });

  it("keeps the console bounded", () => {
    const events = Array.from({ length: CONSOLE_LIMIT + 50 }, (_, i): SessionEvent => ({ seq: i + 1, type: "checkpoint", step: i }));
    const v = replay(events);
    expect(v.console).toHaveLength(CONSOLE_LIMIT);
    expect(v.console[0].seq).toBe(51);
  });

  it("records attention snapshots for the timeline", () => {
    const v = replay([{ seq: 3, type: "attention", step: 20, tokens: [], maps: [] }, { seq: 9, type: "attention", step: 40 }]);
    expect(v.attention).toEqual([{ seq: 3, step: 20 }, { seq: 9, step: 40 }]);
  });
});

describe("sampleNearest and progressOf", () => {
  const samples = replay([
    { seq: 1, type: "sample", step: 20, prompt: "", text: "a" },
    { seq: 2, type: "sample", step: 40, prompt: "", text: "b" },
    { seq: 3, type: "sample", step: 60, prompt: "", text: "c" },
  ]).samples;
  it("finds the sample nearest a hovered step, earlier on ties", () => {
    expect(sampleNearest(samples, 44)?.text).toBe("b");
    expect(sampleNearest(samples, 50)?.text).toBe("b");
    expect(sampleNearest(samples, 1000)?.text).toBe("c");
    expect(sampleNearest([], 5)).toBeNull();
  });
  it("reports step, ETA and fraction; a stopped run is not shown as full and has no ETA", () => {
    const running = replay([{ seq: 1, type: "started", total_steps: 60 }, metrics(2, 15, 5)]);
    expect(progressOf(running)).toEqual({ fraction: 0.25, step: 15, total: 60, eta: "10 s", untilStopped: false });
    const endless = replay([{ seq: 1, type: "started", total_steps: 9e9, time_budget_s: 7 * 24 * 3600 }, metrics(2, 15, 5)]);
    expect(progressOf(endless)).toMatchObject({ total: null, eta: null, untilStopped: true });
    const stopped = replay([{ seq: 3, type: "completed", step: 15, reason: "stopped" }], running);
    expect(progressOf(stopped)).toMatchObject({ fraction: 0.25, eta: null });
    const done = replay([metrics(4, 60, 4), { seq: 5, type: "completed", step: 60, reason: "completed" }], running);
    expect(progressOf(done)).toMatchObject({ fraction: 1, eta: null });
  });
  it("counts down a slowed run's remaining steps at its speed limit, not at the trainer's speed", () => {
    const running = replay([{ seq: 1, type: "started", total_steps: 60 }, metrics(2, 15, 5)]);
    expect(progressOf(running, 3)).toMatchObject({ eta: "15 s" });
    expect(progressOf(running, 1000)).toMatchObject({ eta: "10 s" });
  });
});
