// UI benchmark: a session emitting about 10 events/s (the speed limit at 10 steps/s, a metrics event per step)
// while the Train page shows it in headless Chromium. Reports frames per second (requestAnimationFrame in the page)
// and the JS heap (DevTools protocol, after a forced GC) per interval, so a leak shows as a rising heap.
//   node bench/ui/run.mjs [seconds=300]    (needs ./build.sh first; BULLET_PYTHON and CHROMIUM as in the browser tests)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium, startServer, stopServer } from "../../frontend/browser-tests/dashboard.mjs";

const seconds = Number(process.argv[2] ?? 300);
const interval = Math.min(30, Math.max(5, Math.round(seconds / 10)));
const dataDir = mkdtempSync(join(tmpdir(), "bullet-ui-bench-"));

const server = startServer(dataDir);
const base = await server.url;

async function post(path, body) {
  const r = await fetch(base + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body ?? {}) });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

// Enough steps to outlast the measurement at 10 steps/s.
const steps = Math.ceil(seconds * 10 * 1.5) + 200;
const session = await post("/api/sessions", {
  config: { preset: "tiny", total_steps: steps, eval_every: 50, sample_every: 50, attention_every: 200 }, dataset: "children_stories", start: false,
});
await post(`/api/sessions/${session.id}/speed`, { steps_per_second: 10 });
await post(`/api/sessions/${session.id}/start`);

const browser = await launchChromium(["--js-flags=--expose-gc"]);
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const cdp = await page.context().newCDPSession(page);
await cdp.send("Performance.enable");
await page.goto(`${base}/train/${session.id}`);
await page.getByTestId("chart-points").waitFor();
await page.evaluate(() => {
  window.__frames = 0;
  const tick = () => {
    window.__frames++;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
});

async function heapMB() {
  await page.evaluate(() => window.gc?.());
  const { metrics } = await cdp.send("Performance.getMetrics");
  return metrics.find((m) => m.name === "JSHeapUsedSize").value / 2 ** 20;
}
const points = async () => Number((await page.getByTestId("chart-points").textContent()).split(" ")[0]);

console.log(`session ${session.id}: ${seconds} s at 10 steps/s, reporting every ${interval} s`);
console.log("time_s  fps   heap_MB  chart_points");
const rows = [];
let lastFrames = await page.evaluate(() => window.__frames);
let lastTime = Date.now();
for (let t = interval; t <= seconds; t += interval) {
  await new Promise((r) => setTimeout(r, interval * 1000));
  const frames = await page.evaluate(() => window.__frames);
  const now = Date.now();
  const fps = ((frames - lastFrames) * 1000) / (now - lastTime);
  [lastFrames, lastTime] = [frames, now];
  const row = { t, fps, heap: await heapMB(), points: await points() };
  rows.push(row);
  console.log(`${String(t).padStart(6)}  ${fps.toFixed(1).padStart(4)}  ${row.heap.toFixed(2).padStart(7)}  ${row.points}`);
}
const fpsMin = Math.min(...rows.map((r) => r.fps));
const fpsMean = rows.reduce((a, r) => a + r.fps, 0) / rows.length;
const first = rows[0];
const last = rows[rows.length - 1];
console.log(`fps: mean ${fpsMean.toFixed(1)}, min ${fpsMin.toFixed(1)} (target >= 30)`);
console.log(`heap: ${first.heap.toFixed(2)} MB at ${first.t} s -> ${last.heap.toFixed(2)} MB at ${last.t} s ` +
  `(${((last.heap / first.heap - 1) * 100).toFixed(1)} %) while the chart went from ${first.points} to ${last.points} points`);

await browser.close();
await stopServer(server);
rmSync(dataDir, { recursive: true, force: true });
