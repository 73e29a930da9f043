/** Every asset the page needs, embedded as strings: nothing is read from disk or fetched from a CDN. */
import { ICON_SVG, INDEX_HTML } from "./page.ts";
import { MARKDOWN_JS } from "./markdown.ts";
import { APP_JS } from "./script.ts";
import { APP_CSS } from "./styles.ts";

export interface Asset {
  body: string;
  type: string;
}

/** URL path → asset. */
export const ASSETS: Record<string, Asset> = {
  "/": { body: INDEX_HTML, type: "text/html; charset=utf-8" },
  "/markdown.js": { body: MARKDOWN_JS, type: "text/javascript; charset=utf-8" },
  "/app.js": { body: APP_JS, type: "text/javascript; charset=utf-8" },
  "/app.css": { body: APP_CSS, type: "text/css; charset=utf-8" },
  "/icon.svg": { body: ICON_SVG, type: "image/svg+xml" },
};
