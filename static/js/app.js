// The dashboard: Socket.IO connection, tabs, containers, events, the four live views.
import { ackError, api, el, errorText, human } from "./api.js";
import { setupChrome } from "./chrome.js";
import { onPick, oomNote, putSvg } from "./diagrams.js";
import { apply, lang, onLang, t } from "./i18n.js";
import { clearNotice, forget, onEvent as launchEvent, rerenderNotice, watchLaunch } from "./launched.js";
import { rerender as rerenderSteps, setupSteps } from "./step.js";
import { openExec, refit, setRunning, setupTerminal } from "./term.js";

const $ = (id) => document.getElementById(id);
// panel: what the layer panel shows ({layer: i} or {from, to}), to show again in another language.
const live = { view: "namespaces", query: {}, key: null, layers: null, panel: null };
let containers = [];

// -- the connection: the HttpOnly cookie carries the token --------------------------------
const socket = window.io({ transports: ["websocket"] });
window.onggiSocket = socket;     // for tests and the curious
socket.on("connect", () => {
  $("conn").dataset.i18n = "conn.on"; $("conn").classList.add("on"); apply($("conn").parentElement);
  subscribe();
  refreshContainers();
});
socket.on("disconnect", () => {
  $("conn").dataset.i18n = "conn.off"; $("conn").classList.remove("on"); apply($("conn").parentElement);
  live.key = null;
});
socket.on("backlog", (events) => { $("events").innerHTML = ""; feed.length = 0; for (const e of events) addEvent(e); });
socket.on("event", (e) => {
  addEvent(e);
  launchEvent(e);
  if (e.type.startsWith("container.") && e.type !== "container.step") scheduleRefresh();
  if (e.type === "container.oom" && live.view === "cgroups") oomNote($("diagram"), e);
});
socket.on("diagram", (d) => {
  if (d.key !== live.key) return;
  putSvg($("diagram"), d.svg);
  if (live.view === "cgroups") for (const g of $("diagram").querySelectorAll("g.oom")) g.classList.add("flash");
});

// -- tabs ------------------------------------------------------------------------------------
function showTab() {
  const tab = (location.hash || "#live").slice(1);
  for (const name of ["live", "step", "term"]) {
    $(`tab-${name}`).hidden = name !== tab;
  }
  for (const a of document.querySelectorAll("nav a[data-tab]")) a.classList.toggle("active", a.dataset.tab === tab);
  if (tab === "term") setTimeout(refit, 0);
}
window.addEventListener("hashchange", showTab);

// -- events feed --------------------------------------------------------------------------------
const feed = [];           // the events shown (newest last), to say them again in another language
function addEvent(e) {
  feed.push(e);
  if (feed.length > 100) feed.shift();
  showEvent(e);
}

function showEvent(e) {
  const when = new Date(e.time * 1000).toLocaleTimeString(lang() === "en" ? "en-GB" : "ko-KR");
  const d = e.data || {};
  const detail = d.name || d.step || d.ref || d.exit_code !== undefined && `exit ${d.exit_code}` || "";
  // The step's phase in the page's words ("실행 후"), as the step-through says it; event names stay as logged.
  const phase = e.type === "container.step" ? ` ${d.index}/${d.total} ${["before", "after"].includes(d.phase) ? t(`step.${d.phase}`) : d.phase}` : "";
  const li = el("li", { class: e.type.replace(".", "-") },
    el("time", {}, when), " ", el("b", {}, e.type), " ", el("code", {}, (e.id || "").slice(0, 12)),
    ` ${detail}${phase}`);
  const list = $("events");
  list.prepend(li);
  while (list.children.length > 100) list.lastChild.remove();
}

// -- containers --------------------------------------------------------------------------------
let refreshTimer = null;
let refreshes = 0;          // answers can come back out of order: only the newest request's counts
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshContainers, 80);
}

async function refreshContainers() {
  const mine = ++refreshes;
  let answer;
  try {
    answer = await api("GET", `/api/containers?all=${$("show-all").checked ? 1 : 0}`);
  } catch (err) { return; }
  // An older request (say, before "all" was ticked) must not overwrite a newer one's list.
  if (mine !== refreshes) return;
  containers = answer;
  const list = $("containers");
  list.innerHTML = "";
  if (!containers.length) list.append(el("li", { class: "empty" }, t("containers.none")));
  for (const c of containers) {
    const running = c.status === "running";
    // While one action is on its way (a stop takes its grace period), the row's buttons are
    // disabled: a second click would send the request again.
    const act = (label, fn, cls = "") => el("button", { type: "button", class: cls, onclick: async (ev) => {
      const buttons = [...ev.currentTarget.parentElement.querySelectorAll("button")];
      buttons.forEach((b) => { b.disabled = true; });
      try { await fn(); } finally { buttons.forEach((b) => { b.disabled = false; }); }
    } }, t(label));
    list.append(el("li", { class: `container ${c.status}`, dataset: { id: c.id } },
      el("div", { class: "row1" }, el("span", { class: `dot ${c.status}` }), el("b", {}, c.name),
        " ", el("code", {}, c.short_id), " ", el("span", { class: "small" }, c.image)),
      el("div", { class: "row2 small" }, el("code", {}, c.command.join(" ")), " · ", t(`status.${c.status}`),
        c.pid ? ` · PID ${c.pid}` : "", c.exit_code !== null && !running ? ` · exit ${c.exit_code}` : ""),
      el("div", { class: "actions" },
        running ? act("containers.stop", () => { forget(c.id); return act_("POST", `/api/containers/${c.id}/stop?t=2`); })
          : act("containers.start", () => act_("POST", `/api/containers/${c.id}/start`)),
        act("containers.remove", () => { forget(c.id); return act_("DELETE", `/api/containers/${c.id}?force=1`); }, "danger"),
        running ? act("containers.terminal", () => { location.hash = "#term"; setTimeout(() => openExec(c.id), 50); }) : null,
        act("containers.layers", () => selectLayers(`container=${c.id}`)))));
  }
  setRunning(containers);
  fillLayerTargets();
}

async function act_(method, path) {
  $("run-error").textContent = "";
  try { await api(method, path); } catch (err) { $("run-error").textContent = errorText(err); }
  refreshContainers();
}

$("show-all").addEventListener("change", refreshContainers);
// The browser's own validation (a required image, the name's pattern) stops a submit before
// our handler runs: the last run's error or notice would stay as if it were about this one.
$("run-form").addEventListener("invalid", () => { $("run-error").textContent = ""; clearNotice(); }, true);
$("run-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = { image: f.get("image"), cmd: f.get("cmd") || null };
  for (const k of ["name", "network", "memory"]) if (f.get(k)) body[k] = f.get(k);
  $("run-error").textContent = "";
  clearNotice();
  const button = ev.target.querySelector("button[type=submit]");
  button.disabled = true;
  try { watchLaunch(await api("POST", "/api/containers", body)); ev.target.elements.name.value = ""; }
  catch (err) { $("run-error").textContent = errorText(err); }
  finally { button.disabled = false; }
  refreshContainers();
});

// -- the four views -----------------------------------------------------------------------------
function subscribe() {
  if (live.key) socket.emit("unsubscribe", { key: live.key });
  live.key = null;
  const query = live.view === "layers" ? live.query : {};
  socket.emit("subscribe", { diagram: live.view, lang: lang(), query }, (ack) => {
    if (ack.error) { $("diagram").textContent = ackError(ack); return; }
    live.key = ack.key;
    $("diagram").innerHTML = "";          // a new view or language: nothing to compare with
    putSvg($("diagram"), ack.svg);
  });
  for (const b of document.querySelectorAll(".view-tabs button")) b.classList.toggle("active", b.dataset.view === live.view);
  $("diagram").dataset.view = live.view;
  $("view-help").textContent = t(`help.${live.view}`);
  $("layers-target").hidden = live.view !== "layers";
  $("layer-panel").hidden = true;
  live.panel = null;
  if (live.view === "layers" && Object.keys(live.query).length) loadLayers();
}

for (const b of document.querySelectorAll(".view-tabs button")) {
  b.addEventListener("click", () => { live.view = b.dataset.view; $("diagram").innerHTML = ""; subscribe(); });
}

async function fillLayerTargets() {
  const sel = $("layers-target");
  const keep = sel.value;
  let images = [];
  try { images = await api("GET", "/api/images"); } catch (err) { /* shown elsewhere */ }
  sel.innerHTML = "";
  sel.append(el("option", { value: "" }, t("layers.all")));
  // Groups, not emoji, say which is which: a classroom PC may have no emoji font (a box shows).
  const group = (label, options) => { if (options.length) sel.append(el("optgroup", { label }, ...options)); };
  group(t("layers.images"), images.map((i) => el("option", { value: `image=${i.id}` }, i.tags[0] || i.short_id)));
  group(t("layers.containers"), containers.map((c) => el("option", { value: `container=${c.id}` }, c.name)));
  sel.value = [...sel.options].some((o) => o.value === keep) ? keep : "";
}

function selectLayers(value) {
  live.view = "layers";
  live.query = value ? Object.fromEntries(new URLSearchParams(value)) : {};
  location.hash = "#live";
  const sel = $("layers-target");
  if (![...sel.options].some((o) => o.value === value)) sel.append(el("option", { value }, value));
  sel.value = value;
  $("diagram").innerHTML = "";
  subscribe();
}
$("layers-target").addEventListener("change", (ev) => selectLayers(ev.target.value));

function queryString() { return new URLSearchParams(live.query).toString(); }

async function loadLayers() {
  try { live.layers = await api("GET", `/api/layers?${queryString()}`); } catch (err) { live.layers = null; return; }
  for (const id of ["range-from", "range-to"]) {
    const sel = $(id);
    sel.innerHTML = "";
    for (const l of live.layers.layers) sel.append(el("option", { value: l.index }, `${l.index}: ${l.kind === "image" ? l.diff_id.slice(7, 19) : l.kind}`));
  }
  const range = live.panel && live.panel.from !== undefined ? live.panel : null;
  $("range-from").value = range ? range.from : 0;
  $("range-to").value = range ? range.to : live.layers.layers.length - 1;
}

onPick($("diagram"), async (node, cell) => {
  if (live.view !== "layers") return;
  const id = node || (cell || "").replace(/-(title|size|files|added|modified|deleted|wasted|shared|state)$/, "");
  if (!Object.keys(live.query).length) {
    if (id.startsWith("img-")) selectLayers(`image=${id.slice(4)}`);
    else if (id.endsWith("-upper")) selectLayers(`container=${id.slice(6, 18)}`);
    return;
  }
  if (!live.layers) await loadLayers();
  const layer = live.layers && live.layers.layers.find((l) => l.node_id === id);
  if (layer) showLayer(layer.index);
});

async function showLayer(index) {
  const panel = $("layer-panel");
  panel.hidden = false;
  live.panel = { layer: index };
  $("layer-content").textContent = "";
  let data;
  try { data = await api("GET", `/api/layers/${index}?${queryString()}`); }
  catch (err) { $("layer-files").textContent = errorText(err); return; }
  $("layer-title").textContent = `${data.index}: ${data.kind === "image" ? data.diff_id.slice(7, 19) : data.kind} · ${human(data.size)} · ${t("layers.wasted")} ${human(data.wasted_bytes)}`;
  const ul = $("layer-files");
  ul.innerHTML = "";
  if (!data.changes.length) ul.append(el("li", {}, t("layers.nochanges")));
  for (const c of data.changes) {
    ul.append(el("li", { class: `change ${c.kind}`, onclick: () => showFile(index, c.path) },
      el("span", { class: "kind" }, c.kind), " ", el("code", {}, c.path), " ", el("span", { class: "small" }, c.size ? human(c.size) : "")));
  }
  for (const w of data.wasted) {
    ul.append(el("li", { class: "wasted", onclick: () => showFile(index, w.path) },
      el("span", { class: "kind" }, "W"), " ", el("code", {}, w.path), " ",
      el("span", { class: "small" }, `${human(w.size)} · ${t(`layers.why.${w.why}`, { by: w.by })}`)));
  }
}

async function showFile(index, path) {
  try {
    const f = await api("GET", `/api/layers/file?${queryString()}&layer=${index}&path=${encodeURIComponent(path)}`);
    let text = f.kind === "symlink" ? `→ ${f.target}` : f.kind === "whiteout" ? "(whiteout)" :
      f.kind === "dir" ? f.entries.join("\n") : f.text;
    if (f.truncated) text += "\n…";
    $("layer-content").textContent = `${f.path} (${f.kind}, ${human(f.size)})\n\n${text}`;
  } catch (err) { $("layer-content").textContent = errorText(err); }
}

$("range-go").addEventListener("click", () => showRange($("range-from").value, $("range-to").value));

async function showRange(from, to) {
  live.panel = { from, to };
  try {
    const d = await api("GET", `/api/layers/diff?${queryString()}&from=${from}&to=${to}`);
    const ul = $("layer-files");
    ul.innerHTML = "";
    $("layer-panel").hidden = false;
    $("layer-title").textContent = `${t("layers.range")}: ${from} → ${to} (${d.changes.length})`;
    for (const c of d.changes) ul.append(el("li", { class: `change ${c.kind}` }, el("span", { class: "kind" }, c.kind), " ", el("code", {}, c.path), " ", el("span", { class: "small" }, c.size ? human(c.size) : "")));
  } catch (err) { $("layer-files").textContent = errorText(err); }
}

// Another language redraws the view; the layer panel the instructor had open stays open.
function relang() {
  const panel = live.panel;
  subscribe();
  live.panel = panel;                   // before subscribe's loadLayers() answers and fills the range
  if (panel && panel.layer !== undefined) showLayer(panel.layer);
  else if (panel) showRange(panel.from, panel.to);
}

// -- start ----------------------------------------------------------------------------------------
setupChrome();
setupSteps(socket);
setupTerminal(socket);
onLang(() => {
  relang(); rerenderSteps(); refreshContainers(); rerenderNotice();
  $("events").innerHTML = "";
  for (const e of feed) showEvent(e);
});
showTab();
