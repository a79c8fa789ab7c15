#!/usr/bin/env node
// Opens k6's HTML reports (the web dashboard's export the experiment keeps for every k6 process
// of every run) the way a person would, in headless Chromium, with every request but the file
// itself refused: a self-contained report draws its charts offline. Takes a full-page screenshot
// of each and finds its charts (uPlot canvases, by their panel's title) with something drawn on
// them; a report that asked for anything beyond its own file, or lacks a drawn REQUIRED chart,
// fails.
//
//   node web/scripts/check-k6-report.mjs [--screenshots DIR] REPORT.html...
//
// Prints one JSON line per report ({"report", "ok", "charts": [titles drawn], "blank", "blocked",
// "screenshot"}); exits 1 when a report failed, 2 on bad arguments. Screenshots go to DIR
// (default web/test-results/), named after the report's run folder.
import { mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { VIEWPORT, launchBrowser } from "./lib/browser.mjs";

// k6's overview charts: the request rate is where the bursts show.
const REQUIRED = ["HTTP Performance overview", "Request Rate"];
const DRAW_TIMEOUT_MS = 20_000; // the machine is shared and small

const { values: opts, positionals: reports } = parseArgs({
  options: { screenshots: { type: "string" } },
  allowPositionals: true,
});
if (reports.length === 0) {
  console.error("usage: check-k6-report.mjs [--screenshots DIR] REPORT.html...");
  process.exit(2);
}
const shots = resolve(opts.screenshots ?? join(dirname(fileURLToPath(import.meta.url)), "..", "test-results"));
mkdirSync(shots, { recursive: true });

/** Every chart on the page: its panel's title, and whether its canvas has any pixel drawn. */
function charts() {
  return [...document.querySelectorAll(".uplot")].map((chart) => {
    const canvas = chart.querySelector("canvas");
    const pixels = canvas?.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
    let drawn = false;
    for (let i = 3; i < pixels.length && !drawn; i += 4) drawn = pixels[i] !== 0;
    const title = chart.closest("div:has(> h4)")?.querySelector("h4")?.textContent ?? "";
    return { title, drawn };
  });
}

async function check(browser, report, index) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const file = pathToFileURL(resolve(report)).href;
  const blocked = [];
  await page.route("**/*", (route) => {
    if (route.request().url() === file) return route.continue();
    blocked.push(route.request().url());
    return route.abort();
  });
  await page.goto(file);
  await page.waitForSelector(".uplot canvas", { timeout: DRAW_TIMEOUT_MS });
  await page.waitForLoadState("networkidle");
  const found = await page.evaluate(charts);
  const run = basename(dirname(resolve(report)));
  const screenshot = join(shots, `${index}-${run}-${basename(report, ".html")}.png`);
  await page.screenshot({ path: screenshot, fullPage: true });
  await context.close();
  const drawn = found.filter((c) => c.drawn).map((c) => c.title);
  const missing = REQUIRED.filter((title) => !drawn.includes(title));
  return {
    report,
    ok: blocked.length === 0 && missing.length === 0,
    charts: drawn,
    blank: found.filter((c) => !c.drawn).map((c) => c.title),
    missing,
    blocked,
    screenshot,
  };
}

const browser = await launchBrowser();
let failed = 0;
try {
  for (const [i, report] of reports.entries()) {
    const result = await check(browser, report, i + 1).catch((error) => ({ report, ok: false, error: String(error) }));
    if (!result.ok) failed += 1;
    console.log(JSON.stringify(result));
  }
} finally {
  await browser.close();
}
console.error(`[check-k6-report] ${reports.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
