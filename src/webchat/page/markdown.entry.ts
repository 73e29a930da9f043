/// <reference lib="dom" />
/** `/markdown.js`: the renderer on `window.ClawdisMarkdown` (the page's own script bundles its copy). */
import { h, renderMarkdown } from "./markdown.ts";

declare global {
  interface Window {
    ClawdisMarkdown: Readonly<{ h: typeof h; render: typeof renderMarkdown }>;
  }
}

window.ClawdisMarkdown = Object.freeze({ h, render: renderMarkdown });
