/** What the WebChat browser tests share. */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";

/** Poll `cond` until it holds (no fixed sleeps: the machine may be busy). */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** The URL from the "webchat on http://…" log line. */
export async function webchatUrlFrom(out: () => string): Promise<string> {
  let url = "";
  await until(() => !!(url = /webchat on (http:\/\/\S+)/.exec(out())?.[1] ?? ""), 10_000, `the webchat line in:\n${out()}`);
  return url;
}

/** Debian's headless Chromium through playwright-core, as every WebChat browser test runs it. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CLAWDIS_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) throw new Error(`${executablePath} is missing: apt-get install chromium (.ci/run does)`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Where the browser tests write their screenshots: dist/screenshots (git-ignored) by default,
 * so a test run leaves the work tree clean; `UPDATE_SCREENSHOTS=1` refreshes the README's copies.
 */
export function screenshotPath(root: string, name: string): string {
  const dir = process.env.UPDATE_SCREENSHOTS ? join(root, "test", "e2e", "screenshots") : join(root, "dist", "screenshots");
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
