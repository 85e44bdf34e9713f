// What the copied share says about a style passage, in words: new writing in the style, partly copied, or memorized.
import type { Copied } from "@/lib/api";
import { formatPercent } from "@/lib/format";

export type Verdict = { kind: "new" | "partly" | "memorized" | "unknown"; text: string };

/** Shares at or above these read as partly copied and as memorized. */
const PARTLY = 0.2;
const MEMORIZED = 0.5;

/** The verdict on a passage's copied share (null when the passage is too short to measure). */
export function copyVerdict(copied: Copied | null): Verdict {
  if (!copied || copied.share === null) return { kind: "unknown", text: "The passage is too short to tell whether it is copied." };
  const share = formatPercent(copied.share, 0);
  const what = `${share} of its ${copied.ngram}-word sequences appear word for word in your text` +
    (copied.longest_copied_words > 0 ? ` (longest copied stretch: ${copied.longest_copied_words} words)` : "");
  if (copied.share >= MEMORIZED) {
    return { kind: "memorized", text: `The model has memorized your text rather than learned its style: ${what}. ` +
      "A longer text, fewer steps or a smaller model give it room to write new sentences." };
  }
  if (copied.share >= PARTLY) return { kind: "partly", text: `Partly copied: ${what}.` };
  return { kind: "new", text: `Mostly new writing: ${what}.` };
}
