// The terminal: xterm.js over Socket.IO to a real `onggi exec -it` / `onggi run -it` on a pty.
import { ackError } from "./api.js";
import { t } from "./i18n.js";

let socket = null, term = null, fit = null, current = null;
const $ = (id) => document.getElementById(id);

// Large type on a projector: the presenter toggle (chrome.js) marks <body> and fires a resize.
const fontSize = () => (document.body.classList.contains("presenter") ? 24 : 15);

function ensureTerminal() {
  if (term) return;
  term = new window.Terminal({ fontSize: fontSize(), cursorBlink: true, convertEol: false,
    fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono CJK KR", monospace' });
  fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open($("terminal"));
  term.onData((data) => { if (current) socket.emit("term.input", { id: current, data }); });
  term.onResize(({ cols, rows }) => { if (current) socket.emit("term.resize", { id: current, cols, rows }); });
  new ResizeObserver(() => refit()).observe($("terminal"));     // window, presenter mode, tab shown
  // The box keeps its size when only the type should grow: presenter mode comes as a window resize.
  window.addEventListener("resize", () => {
    if (term.options.fontSize !== fontSize()) { term.options.fontSize = fontSize(); refit(); }
  });
}

// Never to a size no one could type in (its tab hidden, or the window squeezed for a
// moment): xterm would reflow everything to its 2-column minimum, and the shell, told
// the same, would redraw its line to match.
export function refit() {
  const size = fit && !$("tab-term").hidden && fit.proposeDimensions();
  if (size && size.cols >= 20 && size.rows >= 4) { try { fit.fit(); } catch (e) { /* not visible yet */ } }
}

function open(request) {
  ensureTerminal();
  refit();
  close();
  term.reset();
  $("term-status").textContent = "";
  socket.emit("term.open", { ...request, cols: term.cols, rows: term.rows }, (ack) => {
    if (ack.error) { $("term-status").textContent = ackError(ack); return; }
    current = ack.id;
    $("term-status").textContent = ack.container || "";
    term.focus();
  });
}

function close() {
  if (current) socket.emit("term.close", { id: current });
  current = null;
}

export function openExec(containerId) {
  $("term-container").value = containerId;
  open({ container: containerId });
}

export function setupTerminal(sock) {
  socket = sock;
  socket.on("term.output", (msg) => { if (term && msg.id === current) term.write(msg.data); });
  socket.on("term.exit", (msg) => {
    if (msg.id !== current) return;
    current = null;
    $("term-status").textContent = `${t("term.exited")} (${msg.code})`;
  });
  $("term-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = $("term-container").value;
    if (id) open({ container: id });
  });
  $("term-run").addEventListener("click", () => open({ image: $("term-image").value || "busybox", cmd: ["sh"] }));
  $("term-close").addEventListener("click", () => close());
  window.addEventListener("beforeunload", () => close());
}

export function setRunning(containers) {
  const sel = $("term-container");
  const keep = sel.value;
  sel.innerHTML = "";
  const running = containers.filter((c) => c.status === "running");
  if (!running.length) {
    const o = document.createElement("option");
    o.value = ""; o.textContent = t("term.none");
    sel.append(o);
  }
  for (const c of running) {
    const o = document.createElement("option");
    o.value = c.id; o.textContent = `${c.name} (${c.short_id})`;
    sel.append(o);
  }
  if (running.some((c) => c.id === keep)) sel.value = keep;
}
