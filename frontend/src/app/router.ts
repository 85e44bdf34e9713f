// The URL names the tab and what it shows (/train/<session>, /playground/<model>), so reload and back/forward work.
import { useEffect, useState } from "react";

export const TABS = ["train", "runs", "attention", "style", "playground", "models"] as const;
export type Tab = (typeof TABS)[number];
export type Route = { tab: Tab; id: string | null; query: URLSearchParams };

/** The tab and id named by a path; unknown paths open Train. */
export function parseRoute(pathname: string, search = ""): Route {
  const [first, second] = pathname.split("/").filter(Boolean);
  const tab = (TABS as readonly string[]).includes(first) ? (first as Tab) : "train";
  return { tab, id: tab === first && second ? decodeURIComponent(second) : null, query: new URLSearchParams(search) };
}

/** The path of a tab and optional id. */
export function pathOf(tab: Tab, id?: string | null): string {
  return id ? `/${tab}/${encodeURIComponent(id)}` : `/${tab}`;
}

/** The Runs view with the runs it compares. */
export function runsPath(compared: string[]): string {
  return compared.length ? `/runs?compare=${compared.map(encodeURIComponent).join(",")}` : "/runs";
}

/** Goes to a path in this single-page app (a history entry, no reload). */
export function navigate(path: string, replace = false): void {
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

/** The current route, updated on navigate and on back/forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname, window.location.search));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname, window.location.search));
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return route;
}
