// Browser tests: Debian's Chromium driven by playwright-core against a real `python -m bullet_dashboard` (real native
// library, temporary data folder, free port; see dashboard.mjs for BULLET_PYTHON and CHROMIUM), first on loopback, then
// bound to every interface with a token. The tests run in order because later ones use the model the training test
// builds. Each saves a screenshot under frontend/test-results/.
// The last line is "N passed, N failed".
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, python, repo, startServer, stopServer } from "./dashboard.mjs";

// BROWSER_TESTS="switching,overlaid" runs only the tests whose names contain one of the words (while developing).
const only = process.env.BROWSER_TESTS?.split(",").filter(Boolean);
const results = resolve(dirname(fileURLToPath(import.meta.url)), "../test-results");
const TIMEOUT = 90_000;

mkdirSync(results, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), "bullet-ui-test-"));

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Reads a downloaded .bullet with bullet_native.inspect: it must be the tiny preset's shape. */
function checkTinyModel(file) {
  const report = JSON.parse(execFileSync(python, ["-c",
    "import bullet_native, json, sys; print(json.dumps(bullet_native.inspect(sys.argv[1])['header']))", file], { cwd: repo }).toString());
  check(report.hidden_size === 64 && report.num_layers === 2, `unexpected header ${JSON.stringify(report)}`);
}

/** On the Train tab: the tiny preset on the bundled poetry with these fields set, "Train now", then the first sample
 *  and chart points (over the event stream). */
async function trainTinyOnPoetry(page, fields) {
  await page.getByRole("radio", { name: /Poetry/ }).click();
  await page.getByLabel("Dataset poetry").waitFor();
  await page.getByRole("radio", { name: "tiny" }).click();
  await page.getByText("Optimizer and schedule").click();
  await page.getByText("Evaluation and samples").click();
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(String(value));
  await page.getByText("Config is valid.").waitFor();
  await page.getByRole("button", { name: "Train now" }).click();
  await page.waitForURL(/\/train\/[\w.-]+$/);
  await page.locator("[data-testid=samples] li").first().waitFor({ timeout: TIMEOUT });
  const points = Number((await page.getByTestId("chart-points").textContent()).split(" ")[0]);
  check(points > 0, "the loss chart has no points");
}


const shared = { sessionId: null, modelName: null, runs: [] };

/** A JSON request to the API; a failure throws with the server's message. */
async function api(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method, headers: body ? { "Content-Type": "application/json" } : undefined, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  check(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Character-level tiny runs of a few dozen steps: seconds each, with evaluations and samples every 6 steps. */
const QUICK_RUN = { preset: "tiny", tokenizer: "char", warmup_steps: 4, eval_every: 6, sample_every: 6, attention_every: 12 };

/** Starts quick runs of the given step counts on the poetry dataset (named quick-<steps>-<n>), waits until each has completed; returns {id, name} of each. */
async function finishedRuns(base, stepCounts) {
  const runs = [];
  for (const steps of stepCounts) {
    const s = await api(base, "POST", "/api/sessions", {
      dataset: "poetry", name: `quick-${steps}-${runs.length}`, config: { ...QUICK_RUN, total_steps: steps }, auto_export: false, start: true,
    });
    runs.push({ id: s.id, name: s.name });
  }
  for (const { id } of runs) {
    for (let i = 0; ; i++) {
      const s = await api(base, "GET", `/api/sessions/${id}`);
      if (s.state === "completed") break;
      check(i < TIMEOUT / 250 && !["failed", "stopped"].includes(s.state), `run ${id} did not complete: ${s.state} ${s.error ?? ""}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return runs;
}


/** Stories to train on, then letter soup the stories never show as the validation part: the better a model fits the
 *  stories, the worse it does on the soup, so validation loss rises while training loss falls (overfitting, made sure). */
function memorizingText() {
  const names = ["Tom", "Anna", "the dog", "a little fox", "Grandma", "the rabbit"];
  const verbs = ["saw", "liked", "ran to", "sang for", "waved at", "found"];
  const places = ["the park", "the river", "the old barn", "the market", "the garden", "the school"];
  const stories = Array.from({ length: 30 }, (_, i) => `${names[i % 6]} ${verbs[(i * 5) % 6]} ${names[(i * 7 + 1) % 6].toLowerCase()} at ${places[(i * 11) % 6]}.`).join(" ");
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const soup = Array.from({ length: 90 }, () => Array.from({ length: 2 + Math.floor(next() * 6) }, () => "qxzjkvwy"[Math.floor(next() * 8)]).join("")).join(" ");
  const text = `${stories} ${soup}`;
  return { text, valFraction: Math.round((soup.length / text.length) * 1000) / 1000 };
}

/** A session that trains at `speed` steps per second (set before it starts, so no step runs unthrottled). */
async function slowSession(base, body, speed) {
  const s = await api(base, "POST", "/api/sessions", { ...body, start: false });
  await api(base, "POST", `/api/sessions/${s.id}/speed`, { steps_per_second: speed });
  await api(base, "POST", `/api/sessions/${s.id}/start`);
  return s;
}

/** Later tests need the trained session and model; without them they fail at once instead of timing out. */
function needTraining() {
  check(shared.sessionId && shared.modelName, "skipped: the training test did not produce a session and model");
}

const tests = [
  ["app opens with header, tabs and server status", async (page, base) => {
    await page.goto(`${base}/`);
    await page.locator(".brand", { hasText: "Bullet Dashboard" }).waitFor();
    await page.getByTestId("server-status").filter({ hasText: "native" }).waitFor();
    for (const tab of ["Train", "Runs", "Attention", "Style", "Playground", "Models"]) await page.getByRole("link", { name: tab, exact: true }).waitFor();
    check(new URL(page.url()).pathname === "/", "the app opened somewhere else");
    // Keyboard: the first Tab reaches the skip link, the next the first tab link.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    check(focused === "Train", `keyboard focus went to ${focused}`);
  }],

  ["train the tiny preset on a bundled dataset, pause and resume, wait for the verified build", async (page, base) => {
    await page.goto(`${base}/train`);
    // A few hundred steps keep the run short; evaluation, samples and attention every 20 steps give the chart points.
    await trainTinyOnPoetry(page, { "Steps": 240, "Evaluate every": 20, "Sample every": 20, "Attention every": 40 });
    shared.sessionId = decodeURIComponent(new URL(page.url()).pathname.split("/")[2]);
    const points = async () => Number((await page.getByTestId("chart-points").textContent()).split(" ")[0]);
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByTestId("session-state").filter({ hasText: "paused" }).waitFor();
    // Events arrive in order: once the stream has delivered "paused", every step before it is on the chart.
    await page.getByTestId("console").locator(".console-paused").first().waitFor();
    const pausedAt = await points();
    await page.waitForTimeout(1500);
    check((await points()) === pausedAt, "the chart kept growing while paused");
    await page.screenshot({ path: join(results, "02a-train-paused.png"), fullPage: true });
    await page.getByRole("button", { name: "Resume", exact: true }).click();
    await page.getByTestId("download").waitFor({ timeout: TIMEOUT });
    check((await points()) > pausedAt, "the chart did not grow after resuming");
    await page.getByTestId("session-state").filter({ hasText: "completed" }).waitFor();
    await page.getByText("Top-1 agreement").waitFor();
    // Hovering the chart shows the sample nearest that step.
    const box = await page.locator("[data-testid=loss-chart] .u-over").boundingBox();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    await page.getByText(/Sample nearest step \d+/).waitFor();
  }],

  ["download the .bullet and check it with bullet_native.inspect", async (page, base) => {
    check(shared.sessionId, "skipped: the training test did not produce a session");
    await page.goto(`${base}/train/${shared.sessionId}`);
    const link = page.getByTestId("download");
    await link.waitFor({ timeout: TIMEOUT });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const file = join(dataDir, "downloaded.bullet");
    await download.saveAs(file);
    checkTinyModel(file);
    shared.modelName = download.suggestedFilename().replace(/\.bullet$/, "");
  }],

  ["download the model as GGUF (f16) from the models table and read its header", async (page, base) => {
    needTraining();
    await page.goto(`${base}/models`);
    await page.getByRole("combobox", { name: `GGUF type for ${shared.modelName}` }).selectOption("f16");
    const link = page.getByRole("group", { name: `GGUF download of ${shared.modelName}` }).getByRole("link", { name: "Download GGUF" });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    check(download.suggestedFilename() === `${shared.modelName}-f16.gguf`, `unexpected file name ${download.suggestedFilename()}`);
    const file = join(dataDir, "downloaded.gguf");
    await download.saveAs(file);
    const bytes = readFileSync(file);
    check(bytes.subarray(0, 4).toString("latin1") === "GGUF" && bytes.readUInt32LE(4) === 3, "the download is not a GGUF v3 file");
    // The pytest suite's independent GGUF reader: file type 1 is F16, and the dims are the trained model's.
    const kv = JSON.parse(execFileSync(python, ["-c",
      "import json, sys; sys.path.insert(0, 'python/tests'); from pathlib import Path; from test_gguf import read_gguf; "
      + "kv = read_gguf(Path(sys.argv[1]))['kv']; print(json.dumps([kv['general.file_type'], kv['llama.embedding_length'], kv['llama.block_count']]))",
      file], { cwd: repo }).toString());
    check(JSON.stringify(kv) === "[1,64,2]", `unexpected GGUF header ${JSON.stringify(kv)}`);
  }],

  ["reload and back/forward keep the tab and session; a finished session replays", async (page, base) => {
    needTraining();
    await page.goto(`${base}/train/${shared.sessionId}`);
    await page.reload();
    await page.getByTestId("download").waitFor({ timeout: TIMEOUT });
    const replayed = Number((await page.getByTestId("chart-points").textContent()).split(" ")[0]);
    check(replayed === 240, `the replay drew ${replayed} points, not 240`);
    await page.getByRole("link", { name: "Models", exact: true }).click();
    await page.waitForURL(/\/models$/);
    await page.goBack();
    await page.waitForURL(new RegExp(`/train/${shared.sessionId}$`));
    await page.getByTestId("download").waitFor();
  }],

  ["switching sessions shows each one whole: its own events, chart range, console and samples", async (page, base) => {
    shared.runs = await finishedRuns(base, [24, 60]);
    const [short, long] = shared.runs;
    const streams = [];
    page.on("request", (r) => r.url().includes("/events") && streams.push(r.url()));
    const expectWhole = async ({ id }, steps) => {
      await page.getByTestId("progress-text").filter({ hasText: `step ${steps} / ${steps}` }).waitFor();
      await page.waitForFunction((n) => document.querySelector("[data-testid=chart-points]")?.textContent === `${n} points`, steps);
      check(Number(await page.locator(".chart").first().getAttribute("data-x-max")) === steps, `the chart's x-axis does not end at step ${steps}`);
      check((await page.locator(".console-seq").first().textContent()) === "#1", "the console does not start at the first event");
      check((await page.locator("[data-testid=samples] li").count()) === steps / 6, `expected ${steps / 6} samples`);
      check(streams.at(-1).endsWith(`/api/sessions/${id}/events`), `the stream of ${id} was opened as ${streams.at(-1)}`);
    };
    await page.goto(`${base}/train/${long.id}`);
    await expectWhole(long, 60);
    await page.locator(".session-list button", { hasText: short.name }).click();
    await expectWhole(short, 24);
    await page.locator(".session-list button", { hasText: long.name }).click();
    await expectWhole(long, 60);
  }],

  ["the smoothing slider changes the drawn loss line, and 0 draws the raw values", async (page, base) => {
    check(shared.runs.length === 2, "skipped: the switching test did not produce finished runs");
    const [, long] = shared.runs;
    await page.goto(`${base}/train/${long.id}`);
    await page.getByTestId("chart-points").filter({ hasText: "60 points" }).waitFor();
    const canvas = page.getByTestId("loss-chart").locator("canvas");
    const drawn = () => canvas.evaluate((c) => c.toDataURL());
    const smoothing = page.getByRole("slider", { name: "Smoothing" });
    await smoothing.fill("0");
    await page.getByTestId("smoothing-value").filter({ hasText: "0.00" }).waitFor();
    const raw = await drawn();
    await smoothing.fill("0.95");
    await page.getByTestId("smoothing-value").filter({ hasText: "0.95" }).waitFor();
    const smooth = await drawn();
    check(smooth !== raw, "the chart looks the same with smoothing 0 and 0.95");
    const box = await page.locator("[data-testid=loss-chart] .u-over").boundingBox();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    const [train, smoothed] = (await page.getByTestId("chart-readout").textContent()).match(/train ([\d.]+) \(smoothed ([\d.]+)\)/).slice(1);
    check(train !== smoothed, `at 0.95 the smoothed value equals the raw one (${train})`);
    await smoothing.fill("0");
    await page.getByTestId("smoothing-value").filter({ hasText: "0.00" }).waitFor();
    await page.mouse.move(box.x + box.width * 0.6 + 1, box.y + box.height / 2);
    const again = (await page.getByTestId("chart-readout").textContent()).match(/train ([\d.]+) \(smoothed ([\d.]+)\)/).slice(1);
    check(again[0] === again[1], `at 0 the smoothed value ${again[1]} differs from the raw ${again[0]}`);
    await page.mouse.move(0, 0);
    check((await drawn()) === raw, "going back to 0 did not draw the raw line again");
  }],

  ["two finished runs overlaid in the Runs view, kept after a reload", async (page, base) => {
    check(shared.runs.length === 2, "skipped: the switching test did not produce finished runs");
    const [short, long] = shared.runs;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/runs`);
    await page.getByRole("link", { name: "Runs", exact: true }).waitFor();
    const overflow = await page.locator(".runs-table").evaluate((t) => t.scrollWidth - t.parentElement.clientWidth);
    check(overflow <= 0, `at 1280 px the runs table is ${overflow} px wider than its panel (the last columns are hidden)`);
    for (const run of [short, long]) await page.getByRole("checkbox", { name: `Compare ${run.name}` }).check();
    const lines = page.getByTestId("compare-lines");
    await lines.filter({ hasText: `${short.name}: 24 points` }).filter({ hasText: `${long.name}: 60 points` }).waitFor();
    const chart = page.getByTestId("compare-chart");
    await page.waitForFunction(() => document.querySelector("[data-testid=compare-chart]")?.getAttribute("data-x-max") === "60");
    // By tokens the shorter run ends at 24 steps' worth.
    await page.getByRole("combobox", { name: "x axis" }).selectOption("tokens");
    await page.waitForFunction(() => document.querySelector("[data-testid=compare-chart]")?.getAttribute("data-x-max") === String(60 * 16 * 64));
    const box = await chart.locator(".u-over").boundingBox();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    const readout = await page.locator(".compare-readout tbody tr").allTextContents();
    check(readout.length === 2 && readout.every((row) => /\d\.\d{3}/.test(row)), `the readout does not show both runs: ${readout}`);
    await page.getByRole("combobox", { name: "x axis" }).selectOption("step");
    check(new URL(page.url()).searchParams.get("compare")?.split(",").length === 2, `the choice is not in the address: ${page.url()}`);
    await page.reload();
    await lines.filter({ hasText: `${short.name}: 24 points` }).filter({ hasText: `${long.name}: 60 points` }).waitFor();
  }],

  ["a run's checkpoints are listed in Runs and open the attention of their step", async (page, base) => {
    check(shared.runs.length === 2, "skipped: the switching test did not produce finished runs");
    const [, long] = shared.runs;
    await page.goto(`${base}/runs`);
    await page.getByRole("button", { name: `Checkpoints of ${long.name}` }).click();
    const rows = page.locator("[data-testid=checkpoints] tbody tr");
    await rows.first().waitFor();
    check((await rows.filter({ hasText: "best so far" }).count()) === 1, "no best checkpoint is listed");
    const last = rows.filter({ hasText: "last weights" });
    check((await last.locator("td").first().textContent()) === "60", "the last weights are not at step 60");
    await last.getByRole("button", { name: "Attention" }).click();
    await page.waitForURL(new RegExp(`/attention/${long.id}\\?step=60$`));
    await page.getByTestId("attention-step").filter({ hasText: "step 60 (5 of 5)" }).waitFor();
  }],

  ["a run shows its own settings; a new run starts from them with Train now in view at 900 px", async (page, base) => {
    check(shared.runs.length === 2, "skipped: the switching test did not produce finished runs");
    const [, long] = shared.runs;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/train/${long.id}`);
    const settings = page.getByTestId("settings-Train for");
    await settings.getByText("Steps", { exact: true }).waitFor();
    check((await settings.textContent()).includes("Steps60"), `the run's settings do not say 60 steps: ${await settings.textContent()}`);
    check(await page.getByRole("button", { name: "Train now" }).count() === 0, "the new-run form shows while a run is open");
    await page.getByRole("button", { name: "New run from these settings" }).click();
    const train = page.getByRole("button", { name: "Train now" });
    await train.waitFor();
    const box = await train.boundingBox();
    check(box.y >= 0 && box.y + box.height <= 900, `Train now is outside the first 900 px (at y ${box.y})`);
    // The data the run will train on is in view beside the form, not below it.
    const data = await page.getByRole("heading", { name: "Training data" }).boundingBox();
    check(data.y >= 0 && data.y + data.height <= 900 && data.x > box.x + box.width, `the data picker is not in view beside the form (at ${data.x}, ${data.y})`);
    await page.getByText("Optimizer and schedule").click();
    check((await page.getByLabel("Steps", { exact: true }).inputValue()) === "60", "the form did not start from the run's steps");
    check((await page.getByLabel("Tokenizer", { exact: true }).inputValue()) === "char", "the form did not start from the run's tokenizer");
    await page.getByText("On poetry.").waitFor();
    await page.screenshot({ path: join(results, "new-run-from-settings.png") });
  }],

  ["'Train for 1 min' starts a run with a one-minute budget, and 'until stopped' shows no end", async (page, base) => {
    await page.goto(`${base}/train`);
    await page.getByRole("radio", { name: /Poetry/ }).click();
    await page.getByRole("radio", { name: "1 min" }).click();
    await page.getByText("Config is valid.").waitFor();
    await page.getByRole("button", { name: "Train now" }).click();
    await page.waitForURL(/\/train\/[\w.-]+$/);
    const id = decodeURIComponent(new URL(page.url()).pathname.split("/")[2]);
    try {
      await page.getByTestId("session-state").filter({ hasText: "running" }).waitFor({ timeout: TIMEOUT });
      const [started] = await api(base, "GET", `/api/sessions/${id}/log?types=started`);
      check(started.time_budget_s === 60 && started.config.total_steps === 0, `the run's budget is ${started.time_budget_s} s, ${started.config.total_steps} steps`);
    } finally {
      await api(base, "POST", `/api/sessions/${id}/stop`);
    }
    await page.getByRole("button", { name: "New run from these settings" }).click();
    await page.getByRole("radio", { name: "1 min", checked: true }).waitFor();
    await page.getByRole("radio", { name: "until stopped" }).click();
    await page.getByText("trains until you press Stop").waitFor();
  }],

  ["overfitting is shown with 'stop and keep the best'; the export says it took the best, the last weights one click away", async (page, base) => {
    const { text, valFraction } = memorizingText();
    const config = { ...QUICK_RUN, hidden_size: 64, num_layers: 1, max_seq_len: 16, batch_size: 4, learning_rate: 0.01, eval_every: 10,
      eval_batches: 4, sample_every: 20, attention_every: 20, checkpoint_every: 50, total_steps: 2000, val_fraction: valFraction };
    const s = await slowSession(base, { text, name: "memorizer", config }, 10);
    await page.goto(`${base}/train/${s.id}`);
    const warning = page.getByTestId("overfit-warning");
    await warning.filter({ hasText: "validation loss has risen over 3 evaluations" }).waitFor({ timeout: TIMEOUT });
    await page.screenshot({ path: join(results, "overfitting-warned.png") });
    await warning.getByRole("button", { name: "Stop and keep the best" }).click();
    await page.getByTestId("session-state").filter({ hasText: "stopped" }).waitFor({ timeout: TIMEOUT });
    const source = page.getByTestId("export-source");
    await source.filter({ hasText: "Made from the best checkpoint by validation loss" }).waitFor({ timeout: TIMEOUT });
    const best = await page.locator("[data-testid=checkpoints] tr", { hasText: "best so far" }).locator("td").first().textContent();
    check((await source.textContent()).includes(`step ${best}`), `the export does not name the best step ${best}: ${await source.textContent()}`);
    await page.getByRole("button", { name: /Export the last weights instead/ }).click();
    await source.filter({ hasText: "Made from the last weights" }).waitFor({ timeout: TIMEOUT });
  }],

  ["a paused run keeps its slot, the queued one says why, and freeing the slot starts it", async (page, base) => {
    const config = { ...QUICK_RUN, total_steps: 5000 };
    const [a, b] = [await slowSession(base, { dataset: "poetry", name: "slot A", config }, 4), await slowSession(base, { dataset: "poetry", name: "slot B", config }, 4)];
    const c = await api(base, "POST", "/api/sessions", { dataset: "poetry", name: "slot C", config, start: true });
    try {
      await page.goto(`${base}/train/${c.id}`);
      await page.getByRole("status").filter({ hasText: /Queued \(number 1 in line\): all 2 running slots are taken/ }).waitFor();
      await page.locator(".session-list button", { hasText: "slot A" }).click();
      await page.getByRole("button", { name: "Pause" }).click();
      await page.getByTestId("session-state").filter({ hasText: "paused" }).waitFor();
      await page.waitForTimeout(1500);
      check((await api(base, "GET", `/api/sessions/${c.id}`)).state === "queued", "pausing gave the slot away");
      await page.getByRole("button", { name: "Free its slot" }).click();
      await page.getByTestId("session-state").filter({ hasText: "interrupted" }).waitFor({ timeout: TIMEOUT });
      for (let i = 0; (await api(base, "GET", `/api/sessions/${c.id}`)).state !== "running"; i++) {
        check(i < 120, "freeing the slot did not start the queued run");
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      for (const s of [a, b, c]) await api(base, "POST", `/api/sessions/${s.id}/stop`).catch(() => undefined);
    }
  }],

  ["a session is renamed and deleted after confirmation", async (page, base) => {
    const [run] = await finishedRuns(base, [12]);
    await page.goto(`${base}/train/${run.id}`);
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByLabel("Session name").fill("my first poem model");
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator(".session-title", { hasText: "my first poem model" }).waitFor();
    await page.locator(".session-list button", { hasText: "my first poem model" }).waitFor();
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.waitForURL(/\/train$/);
    check(!(await api(base, "GET", "/api/sessions")).some((s) => s.id === run.id), "the session is still listed");
  }],

  ["attention shows a heat map per layer and head, a large view and the timeline", async (page, base) => {
    needTraining();
    // With no session chosen the tab opens the newest one that has trained instead of an empty chooser.
    await page.goto(`${base}/attention`);
    await page.waitForURL(/\/attention\/[\w.-]+$/);
    await page.goto(`${base}/train/${shared.sessionId}`);
    await page.getByRole("link", { name: "Attention", exact: true }).click();
    await page.waitForURL(new RegExp(`/attention/${shared.sessionId}$`));
    const cells = page.locator(".attention-grid canvas");
    await cells.first().waitFor({ timeout: TIMEOUT });
    check((await cells.count()) === 4, `expected 2 layers x 2 heads, saw ${await cells.count()} maps`);
    await page.getByRole("button", { name: "Layer 1, head 0: open the large view" }).click();
    const big = page.getByRole("img", { name: "Large view of layer 1 head 0" });
    const box = await big.boundingBox();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.9);
    await page.getByTestId("attention-cursor").filter({ hasText: /→ key .*: \d\.\d{3}/ }).waitFor();
    const slider = page.getByRole("slider", { name: "Training snapshot" });
    await slider.focus();
    await page.keyboard.press("Home");
    await page.getByTestId("attention-step").filter({ hasText: "step 40 (1 of 6)" }).waitFor();
  }],

  ["playground streams tokens, with a second model side by side", async (page, base) => {
    needTraining();
    await page.goto(`${base}/models`);
    // Other tests export models too: open the one the training test built.
    await page.locator(".models-table tr", { has: page.locator("code", { hasText: new RegExp(`^${shared.modelName}$`) }) })
      .getByRole("button", { name: "Open in Playground" }).click();
    await page.waitForURL(/\/playground\/[\w.-]+$/);
    await page.getByText("Tensors (").waitFor({ timeout: TIMEOUT });
    await page.getByLabel("Max tokens").fill("80");
    await page.getByLabel("Seed").fill("3");
    // The answer comes as a Server-Sent Events stream, one message per token, drawn as it arrives.
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/generate")),
      page.getByRole("button", { name: "Generate" }).click(),
    ]);
    check(response.headers()["content-type"].startsWith("text/event-stream"), "generation was not streamed");
    await page.locator(".gen-stats", { hasText: "done" }).waitFor({ timeout: TIMEOUT });
    const tokens = Number((await page.getByTestId("gen-tokens").first().textContent()).split(" ")[0]);
    check(tokens > 0, "no tokens were generated");
    check(/tokens\/s/.test(await page.locator(".gen-stats").first().textContent()), "no tokens/s shown");
    check((await page.getByTestId("gen-output").first().textContent()).length > 4, "no text was shown");
    await page.getByLabel("Compare with a second model").check();
    await page.getByLabel("Second model", { exact: true }).selectOption(shared.modelName);
    await page.getByRole("button", { name: "Generate" }).click();
    await page.waitForFunction(() => [...document.querySelectorAll(".gen-stats")].filter((e) => e.textContent.includes("done")).length === 2);
    const outputs = await page.getByTestId("gen-output").allTextContents();
    check(outputs.length === 2 && outputs[0] === outputs[1], "the same model, prompt and seed gave different texts side by side");
  }],

  ["a generated token opens a popover with its 10 likeliest candidates and how sampling reshaped them", async (page, base) => {
    needTraining();
    await page.goto(`${base}/playground/${shared.modelName}`);
    await page.getByText("Tensors (").waitFor({ timeout: TIMEOUT });
    await page.getByLabel("Max tokens").fill("30");
    await page.getByLabel("Seed").fill("5");
    await page.getByRole("button", { name: "Generate" }).click();
    await page.locator(".gen-stats", { hasText: "done" }).waitFor({ timeout: TIMEOUT });
    const token = page.getByRole("button", { name: /^Token 5,/ });
    const tint = await token.evaluate((el) => getComputedStyle(el).backgroundColor);
    check(/rgba\(\d+, \d+, \d+, 0.35\)/.test(tint), `the token is not tinted by its probability: ${tint}`);
    await token.click();
    const popover = page.getByTestId("token-popover");
    await popover.waitFor();
    const rows = popover.locator("tbody tr");
    check((await rows.count()) === 10, `the popover lists ${await rows.count()} candidates`);
    const percent = (text) => Number(text.replace(/[^\d.e-]/g, "")) / 100;
    const model = await Promise.all((await rows.all()).map(async (r) => percent(await r.locator("td").nth(2).textContent())));
    check(model.every((p, i) => i === 0 || p <= model[i - 1] + 1e-9), `candidates are not likeliest first: ${model}`);
    check(model.reduce((a, b) => a + b, 0) <= 1.001, "the candidates' probabilities add up to more than 1");
    const chosen = popover.locator("tbody tr.candidate-chosen");
    if ((await chosen.count()) === 1) {
      check((await popover.textContent()).includes("likeliest"), "the popover does not say where the chosen token ranks");
    }
    check(/Temperature 0.8 sharpens the model's probabilities/.test(await popover.textContent()), "the popover does not say what sampling did");
    await page.screenshot({ path: join(results, "token-popover.png") });
    await page.keyboard.press("Escape");
    await popover.waitFor({ state: "detached" });
  }],

  ["uploading a garbage .bullet shows the reader's error", async (page, base) => {
    await page.goto(`${base}/playground`);
    await page.getByTestId("model-file").setInputFiles({ name: "garbage.bullet", mimeType: "application/octet-stream", buffer: Buffer.from("this is not a model\n") });
    await page.getByRole("alert").filter({ hasText: "not a valid .bullet file" }).waitFor({ timeout: TIMEOUT });
  }],

  ["uploading a binary dataset shows the server's message beside the upload", async (page, base) => {
    await page.goto(`${base}/train`);
    await page.getByRole("tab", { name: "Upload" }).click();
    await page.getByTestId("dataset-file").setInputFiles({ name: "photo.txt", mimeType: "text/plain", buffer: Buffer.from([0, 159, 146, 150, 0, 1, 2, 255]) });
    const alert = page.locator(".dropzone ~ .error-text");
    await alert.waitFor({ timeout: TIMEOUT });
    check((await alert.textContent()).length > 10, "the upload error says nothing");
  }],

  ["a bad config value shows the server's rule beside the field", async (page, base) => {
    await page.goto(`${base}/train`);
    await page.getByLabel("Embedding dim", { exact: true }).fill("100");
    const field = page.locator("[data-field=hidden_size] .field-error");
    await field.waitFor();
    check(/multiple of 32/.test(await field.textContent()), `unexpected message: ${await field.textContent()}`);
    check(await page.getByRole("button", { name: "Train now" }).isDisabled(), "Train now stayed enabled with an invalid config");
  }],

  ["style compares original and generated writing with metrics", async (page, base) => {
    needTraining();
    await page.goto(`${base}/style/${shared.sessionId}`);
    await page.getByTestId("style-generated").waitFor({ timeout: TIMEOUT });
    await page.getByText("Vocabulary richness (type/token)").waitFor();
    await page.getByText("Average token probability").waitFor();
    const copied = page.getByTestId("style-copied");
    check(/Copied from your text\s*\d+ %/.test(await copied.textContent()), `no copied share: ${await copied.textContent()}`);
    check(/of its 8-word sequences appear word for word/.test(await copied.textContent()), "the copied share is not explained");
    const first = await page.getByTestId("style-generated").textContent();
    await page.getByLabel("Start the passage with").fill("Beneath ");
    await page.getByRole("button", { name: "Write another passage" }).click();
    await page.getByTestId("style-generated").filter({ hasText: /^Beneath / }).waitFor();
    check((await page.getByTestId("style-generated").textContent()) !== first, "no new passage was written");
  }],

  ["a 150-word letter pasted into Style gives a passage with its copied share", async (page, base) => {
    const letter = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "fixtures", "letter.txt"), "utf8");
    await page.goto(`${base}/style`);
    await page.getByLabel("Your writing").fill(letter);
    await page.getByText("Vocabulary richness (type/token)").waitFor();
    await page.getByRole("button", { name: "Learn my style" }).click();
    await page.waitForURL(/\/style\/[\w.-]+$/);
    const passage = page.getByTestId("style-generated");
    await passage.waitFor({ timeout: TIMEOUT });
    const copied = await page.getByTestId("style-copied").textContent();
    check(/Copied from your text\s*\d+ %/.test(copied), `no copied share: ${copied}`);
    check(/8-word sequences appear word for word|too short to tell/.test(copied), `the share is not explained: ${copied}`);
    // The passage starts from a word that opens the letter's sentences, not from the letter's start ("Dear Maren").
    check(!(await passage.textContent()).startsWith("Dear"), "the passage starts where the letter starts");
    await page.screenshot({ path: join(results, "style-letter.png"), fullPage: true });
  }],

  ["models table sorts and deletes after confirmation", async (page, base) => {
    needTraining();
    await page.goto(`${base}/models`);
    // The table grows with its rows: no model hides behind a scroll box of its own inside the page.
    const box = await page.locator(".models-table").evaluate((t) => getComputedStyle(t.parentElement).maxHeight);
    check(box === "none", `the models table is capped at ${box} and scrolls inside the page`);
    await page.getByRole("button", { name: /Size/ }).click();
    await page.locator("th[aria-sort=ascending]", { hasText: "Size" }).waitFor();
    const before = await page.locator(".models-table tbody tr").count();
    await page.getByRole("button", { name: "Delete", exact: true }).first().click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.waitForFunction((n) => document.querySelectorAll(".models-table tbody tr").length === n - 1 || n === 1, before);
  }],
];

// Bound to every interface, the server requires a token and prints it in its URL; the tests still connect through
// 127.0.0.1. The browser holds the token only in an HttpOnly cookie, which the UI's requests, event stream and
// downloads carry by themselves.
const networkTests = [
  ["the printed URL's token opens the UI, which trains, streams and downloads with the cookie alone", async (page, base, printed) => {
    const token = new URL(printed).searchParams.get("token");
    check(token, `the printed URL has no token: ${printed}`);
    await page.goto(printed);
    await page.getByTestId("server-status").filter({ hasText: "native" }).waitFor();
    check(!page.url().includes(token), `the token stayed in the address bar: ${page.url()}`);
    const cookie = (await page.context().cookies()).find((c) => c.value === token);
    check(cookie?.httpOnly && cookie.sameSite === "Strict", `the token's cookie is ${JSON.stringify(cookie)}`);
    check(!(await page.evaluate(() => document.cookie)).includes(token), "the page's scripts can read the token");

    await page.getByRole("link", { name: "Train", exact: true }).click();
    await trainTinyOnPoetry(page, { "Steps": 120, "Evaluate every": 20, "Sample every": 20 });
    await page.screenshot({ path: join(results, "network-training.png"), fullPage: true });
    const link = page.getByTestId("download");
    await link.waitFor({ timeout: TIMEOUT });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const file = join(dataDir, "network.bullet");
    await download.saveAs(file);
    checkTinyModel(file);
    const links = await page.locator("a[href]").evaluateAll((anchors) => anchors.map((a) => a.href));
    check(!links.some((href) => href.includes(token)), "a link in the page carries the token");

    // Without the cookie, a page asks for the token; typing it in opens the UI.
    const stranger = await page.context().browser().newContext();
    try {
      const other = await stranger.newPage();
      await other.goto(`${base}/models`);
      await other.getByText("needs its access token").waitFor();
      await other.screenshot({ path: join(results, "network-token-asked.png") });
      await other.getByLabel("Token").fill(token);
      await other.getByRole("button", { name: "Open the dashboard" }).click();
      await other.getByRole("button", { name: "Open in Playground" }).first().waitFor();
      check(new URL(other.url()).pathname === "/models" && !other.url().includes(token), `the form led to ${other.url()}`);
    } finally {
      await stranger.close();
    }
  }],
];

/** Runs `tests` in order against a new server started with `args`, in one browser context; returns [passed, failed]. */
async function runSuite(browser, tests, args, first) {
  const server = startServer(mkdtempSync(join(dataDir, "server-")), args);
  let passed = 0;
  let failed = 0;
  try {
    const [base, printed] = await Promise.all([server.url, server.printed]);
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    context.setDefaultTimeout(30_000);
    for (const [index, [name, fn]] of tests.entries()) {
      if (only && !only.some((word) => name.includes(word))) continue;
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const shot = join(results, `${String(first + index).padStart(2, "0")}-${name.split(" ").slice(0, 4).join("-").replace(/[^\w-]/g, "")}.png`);
      const started = Date.now();
      try {
        await fn(page, base, printed);
        check(errors.length === 0, `the page threw: ${errors.join("; ")}`);
        passed++;
        console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name}\n     ${String(e.message).split("\n").slice(0, 6).join("\n     ")}`);
      } finally {
        await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
        await page.close();
      }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL setup: ${e.message}`);
  } finally {
    await stopServer(server);
  }
  return [passed, failed];
}

async function main() {
  let browser;
  let passed = 0;
  let failed = 0;
  try {
    browser = await launchChromium();
    // Two running slots whatever the machine's cores, so the queue test knows when a third session waits.
    for (const [suite, args, first] of [[tests, ["--max-running", "2"], 1], [networkTests, ["--host", "0.0.0.0"], tests.length + 1]]) {
      const [p, f] = await runSuite(browser, suite, args, first);
      passed += p;
      failed += f;
    }
  } catch (e) {
    failed++;
    console.log(`FAIL setup: ${e.message}`);
  } finally {
    await browser?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  writeFileSync(join(results, "summary.txt"), `${passed} passed, ${failed} failed\n`);
  // Alone on its line (CI reads it), even if the browser's launcher wrote to the terminal without a newline.
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
