import { formatTime } from "./format";

/**
 * What a session is called on screen: its name, or for sessions named by their id (made before names were readable)
 * the dataset and the time it was created.
 */
export function sessionLabel(s: { id: string; name: string | null; dataset?: string | null; created?: string | null }): string {
  if (s.name && s.name !== s.id) return s.name;
  return `${s.dataset ?? "text"} · ${formatTime(s.created)}`;
}
