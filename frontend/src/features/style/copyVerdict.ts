// What a style passage says, in words: new writing in the style, partly copied, memorized, or the noise of a model that
// has barely learned the text.
import type { Copied } from "@/lib/api";
import { formatLoss, formatPercent } from "@/lib/format";

export type Verdict = { kind: "new" | "partly" | "memorized" | "unlearned" | "unknown"; text: string };

/** How the passage's model did (its export's verification loss, in nats per token) on the part of the text it did not
 *  train on (heldOut), or on the text itself when that was too short to hold a part back; the size of its vocabulary,
 *  and the step its weights are from. */
export type Learning = { valLoss: number; vocabSize: number; step: number | null; heldOut: boolean };

/** Shares at or above these read as partly copied and as memorized. */
const PARTLY = 0.2;
const MEMORIZED = 0.5;
/** A validation loss at or above this share of uniform guessing's (ln of the vocabulary size) has learned next to
 *  nothing: a passage from it is new only because it is noise. */
const BARELY_LEARNED = 0.9;

/** The verdict on a passage's copied share (null when the passage is too short to measure), given what its model
 *  learned when that is known. */
export function copyVerdict(copied: Copied | null, learning: Learning | null = null): Verdict {
  if (!copied || copied.share === null) return { kind: "unknown", text: "The passage is too short to tell whether it is copied." };
  const share = formatPercent(copied.share, 0);
  const what = `${share} of its ${copied.ngram}-word sequences appear word for word in your text` +
    (copied.longest_copied_words > 0 ? ` (longest copied stretch: ${copied.longest_copied_words} words)` : "");
  if (copied.share >= MEMORIZED) {
    return { kind: "memorized", text: `The model has memorized your text rather than learned its style: ${what}. ` +
      "A longer text, fewer steps or a smaller model give it room to write new sentences." };
  }
  if (learning && learning.vocabSize > 1 && learning.valLoss >= BARELY_LEARNED * Math.log(learning.vocabSize)) {
    const guessing = Math.log(learning.vocabSize);
    const where = learning.heldOut ? "on the part it did not train on" : "even on the text it trained on";
    return { kind: "unlearned", text: `The model has barely learned your text, so this is mostly noise rather than your style: ${where} ` +
      `it predicts hardly better than guessing (loss ${formatLoss(learning.valLoss)}` +
      `${learning.step !== null ? ` at step ${learning.step}` : ""}; guessing among its ${learning.vocabSize} tokens: ${formatLoss(guessing)}). ` +
      `${what[0].toUpperCase()}${what.slice(1)}. A longer text teaches it more.` };
  }
  if (copied.share >= PARTLY) return { kind: "partly", text: `Partly copied: ${what}.` };
  return { kind: "new", text: `Mostly new writing: ${what}.` };
}
