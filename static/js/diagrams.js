// Putting SVG diagrams in the page, and highlighting what changed between two renders.
// The server keeps element ids stable (ns-<id>-net, cg-<id>-memory, layer-<hex>...), so
// an element whose text differs from the previous render, or that is new, changed.

import { human } from "./api.js";
import { t } from "./i18n.js";

function textsOf(root) {
  const map = new Map();
  if (!root) return map;
  for (const g of root.querySelectorAll("g[id]")) {
    if (g.id === "graph0") continue;
    map.set(g.id, g.textContent.replace(/\s+/g, " ").trim());
  }
  return map;
}

function parse(svg) {
  const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
  return doc.documentElement;
}

// Replace the diagram in `box` with `svg`; highlight what differs from `before`
// (an SVG string) or, when not given, from what the box showed until now.
export function putSvg(box, svg, before = undefined) {
  const old = before === undefined ? textsOf(box.querySelector("svg")) : textsOf(before ? parse(before) : null);
  box.innerHTML = svg;
  const el = box.querySelector("svg");
  if (!el) return [];
  el.setAttribute("preserveAspectRatio", "xMidYMin meet");
  // The height Graphviz drew it at ("538pt"): presenter mode scales a view up to the screen, never below this.
  if (el.getAttribute("height")) el.style.setProperty("--natural-h", el.getAttribute("height"));
  const changed = [];
  if (old.size === 0 && before === undefined) return changed;     // first render: nothing to compare
  for (const [id, text] of textsOf(el)) {
    if (old.get(id) !== text) changed.push(id);
  }
  for (const id of changed) {
    const g = el.getElementById ? el.getElementById(id) : el.querySelector(`[id="${CSS.escape(id)}"]`);
    if (!g) continue;
    // Highlight the innermost changes (a cell) rather than the whole table around them.
    if (changed.some((other) => other !== id && g.querySelector(`[id="${CSS.escape(other)}"]`))) continue;
    g.classList.add("changed");
  }
  return changed;
}

export function flash(box, id) {
  const g = box.querySelector(`[id="${CSS.escape(id)}"]`);
  if (!g) return;
  g.classList.remove("flash");
  void g.getBBox();
  g.classList.add("flash");
}

// An OOM kill (a container.oom event): flash the cgroup's node and say it in a note above the
// view. When the OOM killer takes PID 1, the container exits and its cgroup, so the node, is
// gone a moment later: the note, with what the kernel counted just before (the event carries
// it), stays for a few seconds, in the page's language.
export function oomNote(box, e) {
  const id = e.id.slice(0, 12);
  flash(box, `cg-${id}`);
  const d = e.data || {};
  const name = d.name || id;
  const old = box.parentElement.querySelector(`.oom-note[data-id="${id}"]`);
  if (old) old.remove();
  const note = document.createElement("div");
  note.className = "oom-note";
  note.dataset.id = id;
  note.textContent = t("oom.note", { name, peak: human(d.memory_peak), max: d.memory_max ? human(d.memory_max) : "-",
    n: d.oom_kills || 1 });
  box.before(note);
  setTimeout(() => note.remove(), 8000);
}

// Clicks on diagram links are ours: call `onPick(id)` with the element id the server gave.
export function onPick(box, fn) {
  box.addEventListener("click", (ev) => {
    const a = ev.target.closest("a");
    const g = ev.target.closest("g.node");
    if (a || g) ev.preventDefault();
    const node = g ? g.id : null;
    const cell = a && a.parentElement && a.parentElement.id ? a.parentElement.id.replace(/^a_/, "") : null;
    if (node || cell) fn(node, cell);
  });
}
