// node shot.mjs URL OUT.png [width height] [actions-js]
import { chromium } from "playwright-core";
const [url, out, w = "1400", h = "900", actions] = process.argv.slice(2);
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
const p = await b.newPage({ viewport: { width: Number(w), height: Number(h) } });
p.on("pageerror", (e) => console.log("PAGE ERROR", e.message));
p.on("console", (m) => m.type() === "error" && console.log("CONSOLE", m.text()));
await p.goto(url);
await p.waitForTimeout(2500);
if (actions) await eval(`(async () => { ${actions} })()`);
await p.screenshot({ path: out, fullPage: process.env.FULL === "1" });
await b.close();
