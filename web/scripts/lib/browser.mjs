// Chromium through playwright-core, shared by the browser tests (e2e/) and the
// experiment's UI recorder (scripts/record-ui.mjs), so both see the pages the same way.
//
// Debian's Chromium is used instead of a Playwright browser download (none can be
// fetched here); CHROMIUM_PATH overrides its location.
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const VIEWPORT = { width: 1280, height: 800 };
export const DEMO = { email: "demo@lab.test", password: "demo-password" };

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox", // we run as root in CI, where the sandbox cannot start
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  // Nothing in the background may try to reach the internet (there is none here).
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** `options` go to Playwright's launch (e.g. `handleSIGTERM: false` to stop the caller's own way). */
export function launchBrowser(options = {}) {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, ...options });
}

/** A fresh context (own cookies) at the lab's screenshot size. */
export function newContext(browser, baseURL) {
  return browser.newContext({ baseURL, viewport: VIEWPORT });
}

/** Fills the login form the way a person would; resolves once the todos page is shown. */
export async function logIn(page, { email, password } = DEMO, { timeout = 30_000 } = {}) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL("**/todos", { timeout });
}
