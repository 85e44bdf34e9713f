import { describe, expect, it } from "vitest";
import { emaSmooth } from "./smoothing";

describe("emaSmooth", () => {
  it("returns the values unchanged at weight 0", () => {
    expect(emaSmooth([3, 1, 2], 0)).toEqual([3, 1, 2]);
  });
  it("is debiased: a constant series stays constant from the first point", () => {
    emaSmooth([2, 2, 2, 2], 0.9).forEach((v) => expect(v).toBeCloseTo(2, 12));
  });
  it("follows the definition: (w·avg + (1-w)·x) / (1 - w^n)", () => {
    const [a, b] = emaSmooth([4, 0], 0.5) as number[];
    expect(a).toBeCloseTo(4, 12);
    // avg1 = 2, avg2 = 1, debiased by 1 - 0.25
    expect(b).toBeCloseTo(1 / 0.75, 12);
  });
  it("keeps gaps as gaps without moving the average", () => {
    const out = emaSmooth([1, null, NaN, 1], 0.8);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeNaN();
    expect(out[3]).toBeCloseTo(1, 12);
  });
});
