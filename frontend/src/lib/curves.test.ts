import { describe, expect, it } from "vitest";
import { addToCurves, emptyCurves, hasBpc, xValues, type Curves } from "./curves";
import type { SessionEvent } from "./eventStream";

const curvesOf = (events: SessionEvent[]): Curves => events.reduce(addToCurves, emptyCurves);

const metrics = (seq: number, step: number, extra: Record<string, unknown> = {}) => ({ seq, type: "metrics", step, train_loss: 5 - step / 10, ...extra });

describe("curves", () => {
  it("aligns every series on the logged steps and reads tokens per step from the started config", () => {
    const c = curvesOf([
      { seq: 1, type: "started", config: { batch_size: 16, max_seq_len: 64, grad_accum: 2 } },
      metrics(2, 1, { lr: 0.001, tokens_per_sec: 900, elapsed_sec: 0.5 }),
      metrics(3, 2, { val_loss: 4.5, val_bpc: 2.1, elapsed_sec: 1.0 }),
    ]);
    expect(c.steps).toEqual([1, 2]);
    expect(c.valLoss).toEqual([null, 4.5]);
    expect(c.lr).toEqual([0.001, null]);
    expect(xValues(c, "tokens")).toEqual([2048, 4096]);
    expect(xValues(c, "time")).toEqual([0.5, 1.0]);
    expect(hasBpc(c)).toBe(true);
  });

  it("has no token axis without a config and no bits per character without the fields", () => {
    const c = curvesOf([metrics(1, 1)]);
    expect(xValues(c, "tokens")).toBeNull();
    expect(hasBpc(c)).toBe(false);
  });

  it("after a resume, replaces repeated steps and keeps training time growing", () => {
    const c = curvesOf([
      { seq: 1, type: "started", config: {} },
      metrics(2, 1, { elapsed_sec: 1 }),
      metrics(3, 2, { elapsed_sec: 2 }),
      metrics(4, 3, { elapsed_sec: 3 }),
      { seq: 5, type: "started", config: {} },
      metrics(6, 3, { elapsed_sec: 0.5 }),
    ]);
    expect(c.steps).toEqual([1, 2, 3]);
    expect(c.elapsed).toEqual([1, 2, 3.5]);
  });

  it("takes the session's own training time when the metrics carry it", () => {
    const c = curvesOf([{ seq: 1, type: "started", config: {} }, metrics(2, 1, { elapsed_sec: 0.5, training_sec: 7.5 })]);
    expect(xValues(c, "time")).toEqual([7.5]);
  });
});
