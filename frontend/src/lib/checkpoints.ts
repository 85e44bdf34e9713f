// Reading a session's checkpoints: their folder names, which holds the last weights, and where an export came from.
import type { Checkpoint as SessionCheckpoint, Verification } from "@/lib/api";
import { formatLoss } from "@/lib/format";

/** What these functions read of a checkpoint and of an export's verification. */
type Checkpoint = Pick<SessionCheckpoint, "path" | "step" | "best" | "val_loss">;
type ExportOrigin = Pick<Verification, "step" | "checkpoint">;

/** A checkpoint's folder name ("best", "step-0000200"), which the server's routes take. */
export function checkpointName(c: Checkpoint): string {
  return c.path.split(/[\\/]/).filter(Boolean).at(-1) ?? c.path;
}

/** The checkpoint of the highest step that is not the best-so-far copy: the weights training ended with. */
export function lastWeights<C extends Checkpoint>(checkpoints: C[]): C | null {
  return checkpoints.filter((c) => !c.best).reduce<C | null>((last, c) => (last === null || (c.step ?? 0) >= (last.step ?? 0) ? c : last), null);
}

/** Where an export's weights came from, in words. */
export function exportSource(v: ExportOrigin, checkpoints: Checkpoint[]): string {
  const step = v.step != null ? `step ${v.step.toLocaleString("en-US")}` : "";
  if (!v.checkpoint) return `the weights at ${step || "the time of export"}`;
  if (v.checkpoint === "best") {
    const best = checkpoints.find((c) => c.best);
    return `the best checkpoint by validation loss (${step}${best?.val_loss != null ? `, validation loss ${formatLoss(best.val_loss)}` : ""})`;
  }
  const last = lastWeights(checkpoints);
  const isLast = last !== null && checkpointName(last) === v.checkpoint;
  return `${isLast ? "the last weights" : "the checkpoint"} (${step || v.checkpoint})`;
}

/** The last weights to offer instead of an export that took the best checkpoint: none when the export took something
 *  else, or when the best is the last step (the same weights). */
export function otherLastWeights<C extends Checkpoint>(v: ExportOrigin | null | undefined, checkpoints: C[]): C | null {
  const last = lastWeights(checkpoints);
  return v?.checkpoint === "best" && last !== null && last.step !== v.step ? last : null;
}
