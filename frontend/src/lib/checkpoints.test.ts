import { describe, expect, it } from "vitest";
import { checkpointName, exportSource, lastWeights, otherLastWeights } from "./checkpoints";

const checkpoints = [
  { step: 100, path: "/data/sessions/s/checkpoints/step-0000100", best: false, val_loss: null },
  { step: 250, path: "/data/sessions/s/checkpoints/best", best: true, val_loss: 4.671 },
  { step: 600, path: "/data/sessions/s/checkpoints/step-0000600", best: false, val_loss: null },
];

describe("checkpoints", () => {
  it("names a checkpoint by its folder and finds the last weights", () => {
    expect(checkpointName(checkpoints[1])).toBe("best");
    expect(checkpointName({ ...checkpoints[0], path: "C:\\data\\checkpoints\\step-0000100" })).toBe("step-0000100");
    expect(lastWeights(checkpoints)?.step).toBe(600);
    expect(lastWeights([checkpoints[1]])).toBeNull();
  });
  it("says which weights an export took", () => {
    expect(exportSource({ checkpoint: "best", step: 250 }, checkpoints)).toBe("the best checkpoint by validation loss (step 250, validation loss 4.671)");
    expect(exportSource({ checkpoint: "step-0000600", step: 600 }, checkpoints)).toBe("the last weights (step 600)");
    expect(exportSource({ checkpoint: "step-0000100", step: 100 }, checkpoints)).toBe("the checkpoint (step 100)");
    expect(exportSource({ step: 42, checkpoint: null }, checkpoints)).toBe("the weights at step 42");
  });
  it("offers the last weights instead of the best only when they are other weights", () => {
    expect(otherLastWeights({ checkpoint: "best", step: 250 }, checkpoints)?.step).toBe(600);
    expect(otherLastWeights({ checkpoint: "best", step: 600 }, [checkpoints[2], { ...checkpoints[1], step: 600 }])).toBeNull();
    expect(otherLastWeights({ checkpoint: "step-0000600", step: 600 }, checkpoints)).toBeNull();
    expect(otherLastWeights(null, checkpoints)).toBeNull();
  });
});
