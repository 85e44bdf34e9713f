import { describe, expect, it } from "vitest";
import { formatBytes, formatCount, formatDuration, formatLoss, formatMetric, formatPercent, formatPerplexity, formatRate } from "./format";

describe("metrics formatting", () => {
  it("shows losses with three decimals and a dash when missing", () => {
    expect(formatLoss(2.34567)).toBe("2.346");
    expect(formatLoss(null)).toBe("–");
    expect(formatLoss(NaN)).toBe("–");
    expect(formatLoss(Infinity)).toBe("–");
  });
  it("keeps small perplexities precise and large ones whole", () => {
    expect(formatPerplexity(53.7319)).toBe("53.73");
    expect(formatPerplexity(1234.6)).toBe("1,235");
  });
  it("reads durations as seconds, minutes or hours", () => {
    expect(formatDuration(42.4)).toBe("42 s");
    expect(formatDuration(185)).toBe("3 m 05 s");
    expect(formatDuration(7440)).toBe("2 h 04 m");
    expect(formatDuration(-1)).toBe("–");
  });
  it("abbreviates rates", () => {
    expect(formatRate(7.25)).toBe("7.3");
    expect(formatRate(850.4)).toBe("850");
    expect(formatRate(12938.7)).toBe("12.9 k");
    expect(formatRate(1_200_000)).toBe("1.20 M");
  });
  it("uses binary units for sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(100084)).toBe("97.7 KB");
    expect(formatBytes(1.5 * 1024 * 1024)).toBe("1.5 MB");
  });
  it("formats counts, percentages and style metrics", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatPercent(0.98765)).toBe("98.8 %");
    expect(formatPercent(0.021369, 2)).toBe("2.14 %");
    expect(formatMetric(96.69)).toBe("96.7");
    expect(formatMetric(0.2336)).toBe("0.234");
    expect(formatMetric(123.4)).toBe("123");
  });
});
