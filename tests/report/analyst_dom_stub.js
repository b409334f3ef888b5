// A minimal DOM for running the analyst report script under Node: enough elements to
// render the finding table, type a search, sort, page and expand, and read the result.
"use strict";
const fs = require("fs");

class Node_ {
  constructor(tag) {
    this.tagName = tag; this.children = []; this.listeners = {}; this.attrs = {};
    this.dataset = {}; this.className = ""; this.hidden = false; this.disabled = false;
    this._text = ""; this.classList = { add: (c) => { this.className += " " + c; } };
  }
  appendChild(child) {
    if (child.tagName === "#fragment") { child.children.forEach((c) => this.children.push(c)); }
    else { this.children.push(child); }
    return child;
  }
  replaceChildren(fragment) { this.children = []; if (fragment) { this.appendChild(fragment); } }
  set textContent(value) { this._text = String(value); this.children = []; }
  get textContent() { return this._text + this.children.map((c) => c.textContent).join(""); }
  set innerHTML(_) { throw new Error("innerHTML must not be used"); }
  setAttribute(name, value) { this.attrs[name] = String(value); }
  getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; }
  removeAttribute(name) { delete this.attrs[name]; }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  fire(type) { (this.listeners[type] || []).forEach((fn) => fn({ target: this })); }
  querySelector(sel) { return this.querySelectorAll(sel)[0] || null; }
  querySelectorAll(sel) { return (this.named || {})[sel] || []; }
}
function el(tag, props) { const n = new Node_(tag); Object.assign(n, props || {}); return n; }

const configText = fs.readFileSync(process.argv[2], "utf8");
const script = fs.readFileSync(process.argv[3], "utf8");
const rows = el("tbody"); const noMatch = el("tbody");
const search = el("input", { value: "" });
const selects = ["severity", "service", "state"].map((f) => { const s = el("select", { value: "" }); s.dataset.filter = f; return s; });
const counter = el("output"); const pageText = el("span");
const prev = el("button"); const next = el("button");
const pager = el("div"); pager.named = { ".page-text": [pageText], "button.prev": [prev], "button.next": [next] };
const headers = ["rank", "title", "resource"].map((k) => { const th = el("th"); th.dataset.sort = k; return th; });
const buttons = headers.map((th) => { const b = el("button"); b.parentElement = th; return b; });
const section = el("section");
section.named = {
  "tbody.rows": [rows], "tbody.no-match": [noMatch], "input[data-filter=text]": [search],
  "select[data-filter]": selects, ".shown-count": [counter], ".pager": [pager],
  "th[data-sort]": headers, "th[data-sort] button": buttons,
};
global.document = {
  getElementById: (id) => (id === "findings" ? section : id === "report-config" ? { textContent: configText } : null),
  createElement: (tag) => el(tag),
  createTextNode: (text) => { const n = el("#text"); n.textContent = text; return n; },
  createDocumentFragment: () => el("#fragment"),
};
global.setTimeout = (fn) => { fn(); return 0; };
global.clearTimeout = () => {};

function state() {
  const trs = rows.children.filter((c) => c.className.startsWith("summary-row"));
  return {
    counter: counter.textContent, page: pageText.textContent, prevDisabled: prev.disabled,
    nextDisabled: next.disabled, rows: trs.map((tr) => tr.children.map((td) => td.textContent)),
    details: rows.children.filter((c) => c.className === "detail-row").map((d) => d.textContent),
  };
}
const steps = JSON.parse(process.argv[4] || "[]");
const out = [];
function run() {
  out.push(state());
  for (const step of steps) {
    if (step.search !== undefined) { search.value = step.search; search.fire("input"); }
    if (step.select) { selects.find((s) => s.dataset.filter === step.select[0]).value = step.select[1]; selects.find((s) => s.dataset.filter === step.select[0]).fire("change"); }
    if (step.sort) { buttons[["rank", "title", "resource"].indexOf(step.sort)].fire("click"); }
    if (step.next) { next.fire("click"); }
    if (step.expand !== undefined) { rows.children.filter((c) => c.className.startsWith("summary-row"))[step.expand].children[0].children[0].fire("click"); }
    out.push(state());
  }
  process.stdout.write(JSON.stringify(out));
}
new Function(script)();
// the compressed path finishes asynchronously
const wait = () => (section.className.includes("ready") ? run() : setImmediate(wait));
wait();
