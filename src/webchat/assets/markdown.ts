/**
 * Safe markdown for the page, plain browser JavaScript (loaded before app.js): code
 * blocks, inline code, bold, italic, http(s) links, lists, headings as bold, line
 * breaks. It builds elements one by one and puts every piece of input in text nodes, so
 * no input can become markup; links accept http: and https: only.
 * (The source avoids backticks and "${": a backtick is written \x60.)
 */
export const MARKDOWN_JS = String.raw`(function () {
"use strict";

/** Build an element: props set attributes ("text" sets textContent); children are nodes or strings (text nodes). */
function h(tag, props) {
  var e = document.createElement(tag);
  if (props) {
    for (var k in props) {
      if (k === "text") e.textContent = props[k];
      else if (k === "class") e.className = props[k];
      else e.setAttribute(k, props[k]);
    }
  }
  for (var i = 2; i < arguments.length; i++) {
    var c = arguments[i];
    if (c !== null && c !== undefined) e.append(c);
  }
  return e;
}

var INLINE = /\x60([^\x60\n]+)\x60|\*\*(?=\S)([^*\n]+?)\*\*|__(?=\S)([^_\n]+?)__|\*(?=[^\s*])([^*\n]+?)\*|(?<!\w)_(?=[^\s_])([^_\n]+?)_(?!\w)|\[([^\]\n]+)\]\(([^()\s]+)\)|(https?:\/\/[^\s<>"'()\[\]]*[^\s<>"'()\[\].,;:!?])/g;

function safeUrl(raw) {
  try {
    var u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (e) {
    return null;
  }
}

function link(url, parent) {
  var a = h("a", { rel: "noopener noreferrer nofollow", target: "_blank" });
  a.href = url;
  parent.append(a);
  return a;
}

function inline(text, parent, depth) {
  var re = new RegExp(INLINE.source, "g");
  var last = 0;
  var m;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    if (m[1] !== undefined) parent.append(h("code", { text: m[1] }));
    else if (m[2] !== undefined || m[3] !== undefined) {
      var b = h("strong");
      nested(m[2] !== undefined ? m[2] : m[3], b, depth);
      parent.append(b);
    } else if (m[4] !== undefined || m[5] !== undefined) {
      var i = h("em");
      nested(m[4] !== undefined ? m[4] : m[5], i, depth);
      parent.append(i);
    } else if (m[6] !== undefined) {
      var url = safeUrl(m[7]);
      if (url) nested(m[6], link(url, parent), depth);
      else parent.append(m[0]);
    } else if (m[8] !== undefined) {
      var bare = safeUrl(m[8]);
      if (bare) link(bare, parent).textContent = m[8];
      else parent.append(m[8]);
    }
    last = re.lastIndex;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function nested(text, parent, depth) {
  if (depth >= 3) parent.append(text);
  else inline(text, parent, depth + 1);
}

function blocks(text, parent) {
  var paras = text.split(/\n[ \t]*\n/);
  for (var p = 0; p < paras.length; p++) {
    var para = paras[p].replace(/^\n+|\n+$/g, "");
    if (!para.trim()) continue;
    var lines = para.split("\n");
    var bullet = /^\s*[-*+]\s+/;
    var numbered = /^\s*\d+[.)]\s+/;
    if (lines.every(function (l) { return bullet.test(l); }) || lines.every(function (l) { return numbered.test(l); })) {
      var isNum = numbered.test(lines[0]);
      var list = h(isNum ? "ol" : "ul");
      lines.forEach(function (l) {
        var li = h("li");
        inline(l.replace(isNum ? numbered : bullet, ""), li, 0);
        list.append(li);
      });
      parent.append(list);
      continue;
    }
    var el = h("p");
    lines.forEach(function (l, i) {
      if (i > 0) el.append(h("br"));
      var heading = /^#{1,6}\s+(.*)$/.exec(l);
      if (heading) {
        var s = h("strong");
        inline(heading[1], s, 1);
        el.append(s);
      } else inline(l, el, 0);
    });
    parent.append(el);
  }
}

function renderMarkdown(src, target) {
  var frag = document.createDocumentFragment();
  var parts = src.split("\x60\x60\x60");
  for (var i = 0; i < parts.length; i++) {
    var part = parts[i];
    if (i % 2 === 1) {
      var nl = part.indexOf("\n");
      var lang = "";
      var code = part;
      if (nl >= 0 && /^[\w+#.-]*$/.test(part.slice(0, nl).trim())) {
        lang = part.slice(0, nl).trim();
        code = part.slice(nl + 1);
      }
      var c = h("code", { text: code.replace(/\n$/, "") });
      if (lang) c.setAttribute("data-lang", lang);
      frag.append(h("pre", null, c));
    } else blocks(part, frag);
  }
  target.replaceChildren(frag);
}

window.ClawdisMarkdown = Object.freeze({ h: h, render: renderMarkdown });
})();
`;
