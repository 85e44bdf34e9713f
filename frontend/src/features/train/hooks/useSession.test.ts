import { describe, expect, it } from "vitest";
import { emptyView } from "../sessionReducer";
import { reduceBuilt } from "./useSession";

describe("reduceBuilt", () => {
  it("starts another session's view from nothing: its events are never dropped as already seen", () => {
    let built = { id: null as string | null, view: emptyView };
    for (let seq = 1; seq <= 5; seq++) built = reduceBuilt(built, { id: "a", event: { seq, type: "metrics", step: seq, train_loss: 3 } });
    expect(built.view.lastSeq).toBe(5);
    built = reduceBuilt(built, { id: "b", event: { seq: 1, type: "metrics", step: 1, train_loss: 4 } });
    expect(built.id).toBe("b");
    expect(built.view.curves.steps).toEqual([1]);
    expect(built.view.curves.trainLoss).toEqual([4]);
  });
  it("keeps the same object for a repeated event", () => {
    const built = reduceBuilt({ id: null, view: emptyView }, { id: "a", event: { seq: 1, type: "sample", step: 1, text: "x" } });
    expect(reduceBuilt(built, { id: "a", event: { seq: 1, type: "sample", step: 1, text: "x" } })).toBe(built);
  });
});
