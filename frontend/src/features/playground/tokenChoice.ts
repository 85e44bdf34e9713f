// How a generated token's choice reads: its tint by probability, visible whitespace, and what sampling did to the
// candidates (the numbers come from the native runtime; nothing is recomputed here).
import type { Candidate, TokenChoice } from "@/lib/api";

/** A background colour for a token chosen with model probability p: red when unlikely, through amber, to green. */
export function tintOf(p: number): string {
  const clamped = Math.min(1, Math.max(0, p));
  // Hue follows the square root, so the many tokens between 1 % and 30 % are told apart.
  const hue = Math.round(120 * Math.sqrt(clamped));
  return `hsla(${hue}, 70%, 45%, 0.35)`;
}

/** A token's text with spaces, line breaks and tabs made visible (an empty token reads as ∅). */
export function showToken(text: string): string {
  return text.replace(/ /g, "␣").replace(/\n/g, "↵").replace(/\t/g, "⇥") || "∅";
}

/** A probability as a percentage with enough digits for small ones. */
export function formatProbability(p: number): string {
  if (p >= 0.1) return `${(p * 100).toFixed(1)} %`;
  if (p >= 0.001) return `${(p * 100).toFixed(2)} %`;
  return p === 0 ? "0 %" : `${(p * 100).toExponential(1)} %`;
}

export type Reshaping = { rank: number | null; kept: number; cut: number; topShare: number; note: string };

/**
 * What sampling did to the candidates shown: where the chosen token ranks among them, how many the cut-offs
 * (top-k, top-p) removed, and how much of the model's probability the shown candidates hold.
 */
export function reshapingOf(choice: TokenChoice, sampling: { temperature: number; top_k: number; top_p: number }): Reshaping {
  const rank = choice.top.findIndex((c) => c.id === choice.chosen.id);
  const cut = choice.top.filter((c) => c.p_sampled === 0).length;
  const topShare = choice.top.reduce((a, c) => a + c.p, 0);
  const greedy = sampling.temperature === 0 || sampling.top_k === 1;
  const note = greedy
    ? "Greedy decoding: the likeliest token is always taken."
    : `Temperature ${sampling.temperature} ${sampling.temperature < 1 ? "sharpens" : sampling.temperature > 1 ? "flattens" : "keeps"} the model's ` +
      `probabilities; ${cut > 0 ? `top-k ${sampling.top_k || "off"} and top-p ${sampling.top_p} cut ${cut} of these ${choice.top.length}` : `no candidate shown was cut by top-k ${sampling.top_k || "off"} or top-p ${sampling.top_p}`}.`;
  return { rank: rank >= 0 ? rank + 1 : null, kept: choice.top.length - cut, cut, topShare, note };
}

/** Candidates as shown: the chosen token marked. */
export function rowsOf(choice: TokenChoice): (Candidate & { chosen: boolean })[] {
  return choice.top.map((c) => ({ ...c, chosen: c.id === choice.chosen.id }));
}
