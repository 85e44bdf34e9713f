import { useCallback, useEffect, useState } from "react";
import { api, type Status } from "@/lib/api";
import { Banner } from "@/components/Feedback";
import { usePoll } from "@/hooks/usePoll";
import { AttentionPage } from "@/features/attention/AttentionPage";
import { ModelsPage } from "@/features/models/ModelsPage";
import { PlaygroundPage } from "@/features/playground/PlaygroundPage";
import { RunsPage } from "@/features/runs/RunsPage";
import { StylePage } from "@/features/style/StylePage";
import { TrainPage } from "@/features/train/TrainPage";
import { navigate, pathOf, runsPath, TABS, useRoute, type Tab } from "./router";

const TAB_LABELS: Record<Tab, string> = { train: "Train", runs: "Runs", attention: "Attention", style: "Style", playground: "Playground", models: "Models" };

export function App() {
  const route = useRoute();
  const status = usePoll<Status>(() => api.status(), 5000, []);
  // Train and Attention look at the same session: switching tabs keeps it.
  const [lastSession, setLastSession] = useState<string | null>(null);
  const [lastModel, setLastModel] = useState<string | null>(null);
  const [lastCompared, setLastCompared] = useState("");
  useEffect(() => {
    if ((route.tab === "train" || route.tab === "attention") && route.id) setLastSession(route.id);
    if (route.tab === "playground" && route.id) setLastModel(route.id);
    if (route.tab === "runs") setLastCompared(route.query.get("compare") ?? "");
  }, [route.tab, route.id, route.query]);
  useEffect(() => {
    document.title = `${TAB_LABELS[route.tab]} · Bullet Dashboard`;
  }, [route.tab]);

  const hrefOf = (tab: Tab) =>
    tab === "runs" ? runsPath(lastCompared ? lastCompared.split(",") : [])
      : pathOf(tab, tab === "train" || tab === "attention" ? lastSession : tab === "playground" ? lastModel : null);

  const openAttention = useCallback((id: string, replace = false) => navigate(pathOf("attention", id), replace), []);
  const openAttentionAt = (id: string, step: number) => navigate(`${pathOf("attention", id)}?step=${step}`);
  const online = status.data !== null && status.error === null;
  return (
    <div className="app">
      <a className="skip" href="#main">Skip to content</a>
      <header className="header">
        <div className="brand">
          <span className="logo" aria-hidden="true">●</span> Bullet Dashboard
        </div>
        <nav aria-label="Tabs" className="tabs">
          {TABS.map((tab) => (
            <a key={tab} href={hrefOf(tab)} className={route.tab === tab ? "tab tab-on" : "tab"} aria-current={route.tab === tab ? "page" : undefined}
              onClick={(e) => {
                if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                navigate(hrefOf(tab));
              }}>
              {TAB_LABELS[tab]}
            </a>
          ))}
        </nav>
        <div className={`server-status ${online ? "ok" : "down"}`} data-testid="server-status" role="status">
          {online && status.data
            ? <>server {status.data.server} · native {status.data.native} · {status.data.running_sessions}/{status.data.max_running_sessions} training</>
            : status.error ? "server unreachable" : "connecting…"}
        </div>
      </header>
      {status.error && <Banner kind="warning">Lost the connection to the server: {status.error.message} Retrying every few seconds.</Banner>}
      <main id="main" className="content" tabIndex={-1}>
        {route.tab === "train" && (
          <TrainPage sessionId={route.id} initialDataset={route.query.get("dataset")} onOpenSession={(id) => navigate(pathOf("train", id))}
            onOpenAttention={openAttentionAt} />
        )}
        {route.tab === "runs" && (
          <RunsPage compared={route.query.get("compare")?.split(",").filter(Boolean) ?? []} onCompare={(ids) => navigate(runsPath(ids), true)}
            onOpenSession={(id) => navigate(pathOf("train", id))} onOpenAttention={openAttentionAt} />
        )}
        {route.tab === "attention" && <AttentionPage sessionId={route.id} atStep={Number(route.query.get("step") ?? "") || null} onOpenSession={openAttention} />}
        {route.tab === "style" && <StylePage sessionId={route.id} onOpenSession={(id) => navigate(pathOf("style", id || null))} />}
        {route.tab === "playground" && <PlaygroundPage model={route.id} onOpenModel={(name) => navigate(pathOf("playground", name))} />}
        {route.tab === "models" && <ModelsPage onOpenInPlayground={(name) => navigate(pathOf("playground", name))} />}
      </main>
    </div>
  );
}
