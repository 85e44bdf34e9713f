import { describe, expect, it } from "vitest";
import { copyVerdict } from "./copyVerdict";

const copied = (share: number | null, longest = 0) => ({ ngram: 8, ngrams: 40, copied: 0, share, longest_copied_words: longest, definition: "" });

describe("copyVerdict", () => {
  it("calls a mostly copied passage memorized and says how much", () => {
    const v = copyVerdict(copied(0.85, 60));
    expect(v.kind).toBe("memorized");
    expect(v.text).toContain("85 % of its 8-word sequences");
    expect(v.text).toContain("longest copied stretch: 60 words");
  });
  it("tells partly copied from new writing", () => {
    expect(copyVerdict(copied(0.3, 12)).kind).toBe("partly");
    expect(copyVerdict(copied(0.05, 9)).kind).toBe("new");
    expect(copyVerdict(copied(0)).text).toBe("Mostly new writing: 0 % of its 8-word sequences appear word for word in your text.");
  });
  it("calls a passage from a model that predicts hardly better than guessing noise, not new writing", () => {
    const barely = { valLoss: 3.55, vocabSize: 37, step: 81, heldOut: true };
    const v = copyVerdict(copied(0), barely);
    expect(v.kind).toBe("unlearned");
    expect(v.text).toContain("on the part it did not train on it predicts");
    expect(copyVerdict(copied(0), { ...barely, heldOut: false }).text).toContain("even on the text it trained on it predicts");
    expect(v.text).toContain("loss 3.550 at step 81; guessing among its 37 tokens: 3.611");
    expect(v.text).toContain("0 % of its 8-word sequences");
    expect(copyVerdict(copied(0), { valLoss: 1.9, vocabSize: 57, step: 300, heldOut: true }).kind).toBe("new");
    expect(copyVerdict(copied(0.9), barely).kind).toBe("memorized");
  });
  it("does not guess for a passage too short to measure", () => {
    expect(copyVerdict(copied(null)).kind).toBe("unknown");
    expect(copyVerdict(null).kind).toBe("unknown");
  });
});
