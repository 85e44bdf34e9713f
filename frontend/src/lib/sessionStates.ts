// The states of a training session, as the native library names them (its SessionState enum, in that order).
// Mirrored in bullet_native.SESSION_STATES; python/tests/test_session_states.py fails when the lists differ.
export const SESSION_STATES = [
  "preparing",
  "ready",
  "running",
  "paused",
  "completed",
  "stopped",
  "early_stopped",
  "failed",
  "queued",
  "interrupted",
] as const;

export type SessionState = (typeof SESSION_STATES)[number];

/** States after which a session trains no more. */
export const FINISHED_STATES: readonly SessionState[] = ["completed", "stopped", "early_stopped", "failed"];

/** True for a state after which a session trains no more. */
export function isFinished(state: string): boolean {
  return (FINISHED_STATES as readonly string[]).includes(state);
}

/** True while a worker holds the session (it trains, waits or takes controls): neither finished nor interrupted. */
export function isLive(state: string): boolean {
  return !isFinished(state) && state !== "interrupted";
}
