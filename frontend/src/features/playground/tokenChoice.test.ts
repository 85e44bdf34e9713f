import { describe, expect, it } from "vitest";
import { formatProbability, reshapingOf, rowsOf, showToken, tintOf } from "./tokenChoice";

const c = (id: number, text: string, p: number, p_sampled: number) => ({ id, text, p, p_sampled });
const choice = { chosen: c(7, " the", 0.3, 0.42), top: [c(3, " a", 0.4, 0.55), c(7, " the", 0.3, 0.42), c(9, "\n", 0.05, 0.03), c(2, "x", 0.01, 0)] };

describe("token choice", () => {
  it("tints unlikely tokens red and likely ones green", () => {
    expect(tintOf(0)).toBe("hsla(0, 70%, 45%, 0.35)");
    expect(tintOf(1)).toBe("hsla(120, 70%, 45%, 0.35)");
    expect(tintOf(0.25)).toBe("hsla(60, 70%, 45%, 0.35)");
  });
  it("makes whitespace visible", () => {
    expect(showToken(" a\n\t")).toBe("␣a↵⇥");
    expect(showToken("")).toBe("∅");
  });
  it("formats small probabilities with their digits", () => {
    expect(formatProbability(0.4321)).toBe("43.2 %");
    expect(formatProbability(0.0123)).toBe("1.23 %");
    expect(formatProbability(0.0000123)).toBe("1.2e-3 %");
    expect(formatProbability(0)).toBe("0 %");
  });
  it("says where the chosen token ranks and what the cut-offs removed", () => {
    const r = reshapingOf(choice, { temperature: 0.8, top_k: 40, top_p: 0.95 });
    expect(r).toMatchObject({ rank: 2, kept: 3, cut: 1 });
    expect(r.topShare).toBeCloseTo(0.76, 10);
    expect(r.note).toBe("Temperature 0.8 sharpens the model's probabilities; top-k 40 and top-p 0.95 cut 1 of these 4.");
    expect(reshapingOf(choice, { temperature: 0, top_k: 40, top_p: 1 }).note).toContain("Greedy");
    expect(rowsOf(choice).map((row) => row.chosen)).toEqual([false, true, false, false]);
  });
});
