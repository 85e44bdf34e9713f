// The real dashboard and a headless Chromium, as the browser tests (run.mjs) and the UI benchmark (bench/ui/run.mjs)
// start them: `python -m bullet_dashboard` on a free port with a given data folder, Debian's Chromium by playwright-core.
//   BULLET_PYTHON  the Python that runs the server (default: <repo>/.venv/bin/python)
//   CHROMIUM       the browser (default: /usr/bin/chromium)
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const python = process.env.BULLET_PYTHON ?? join(repo, ".venv/bin/python");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** Starts the server on a free port (more arguments after `args`); `url` resolves with its base URL once it answers
 *  requests, `printed` with the whole URL it printed (with `?token=...` when it requires one). */
export function startServer(dataDir, args = []) {
  const child = spawn(python, ["-m", "bullet_dashboard", "--port", "0", "--data-dir", dataDir, ...args], {
    cwd: repo, stdio: ["ignore", "pipe", "pipe"],
    // The machine's speed calibration goes with the test data, not into the user's cache (a loaded test run would
    // leave its slow measurement for their real runs).
    env: { ...process.env, PYTHONUNBUFFERED: "1", BULLET_NATIVE_CACHE_DIR: process.env.BULLET_NATIVE_CACHE_DIR ?? join(dataDir, "native-cache") },
  });
  let log = "";
  const printed = new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${log}`)), 60_000);
    const read = (chunk) => {
      log += chunk;
      const m = log.match(/(http:\/\/127\.0\.0\.1:\d+)\/\S*(?=\s)/); // the whole URL, not a chunk's part of it
      if (m) {
        clearTimeout(timer);
        resolveUrl(m);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => reject(new Error(`the server exited with ${code}:\n${log}`)));
  });
  const serving = printed.then(async ([whole, base]) => {
    await waitUntilServing(base);
    return [whole, base];
  });
  return { child, url: serving.then(([, base]) => base), printed: serving.then(([whole]) => whole), log: () => log };
}

/** The URL is printed when the socket is bound, a moment before the server accepts: wait until it answers (a server
 *  that requires a token answers 401). */
async function waitUntilServing(base) {
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`${base}/api/status`);
      return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base} did not answer within 20 s`);
}

/** Stops the server with SIGINT (its graceful shutdown), waiting up to 10 s for it to exit. */
export async function stopServer(server) {
  const exited = new Promise((r) => server.child.once("exit", r));
  server.child.kill("SIGINT");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
}

/** Headless Chromium without the background traffic and first-run work that would disturb tests and timings. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: browserPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
      ...extraArgs],
  });
}
