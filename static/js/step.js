// The step-through: one real launch, paused before each step; the room watches.
import { ackError } from "./api.js";
import { putSvg } from "./diagrams.js";
import { lang, t } from "./i18n.js";

const byContainer = new Map();   // container id -> its snapshots, by position
let state = null;
let socket = null;

const $ = (id) => document.getElementById(id);

export function setupSteps(sock) {
  socket = sock;
  // Every browser watches its room from the start: the instructor's launch shows up by itself.
  socket.on("connect", () => {
    socket.emit("step.join", { room: new FormData($("step-form")).get("room") || "class" }, () => {});
  });
  socket.on("step.snapshot", (snap) => {
    if (!byContainer.has(snap.container)) byContainer.set(snap.container, []);
    byContainer.get(snap.container)[snap.position] = snap;
  });
  socket.on("step.state", (s) => {
    state = s;
    render();
  });
  $("step-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const spec = { image: f.get("image"), cmd: f.get("cmd") || null };
    if (f.get("network")) spec.network = f.get("network");
    state = null;
    $("step-error").textContent = "";
    socket.emit("step.start", { room: f.get("room"), spec }, (ack) => {
      if (ack.error) $("step-error").textContent = ackError(ack);
    });
  });
  // A submit the browser's validation stopped (no image) never reaches the handler above:
  // the error from the try before would stay as if it were this one's.
  $("step-form").addEventListener("invalid", () => { $("step-error").textContent = ""; }, true);
  $("step-join").addEventListener("click", () => {
    const room = new FormData($("step-form")).get("room");
    socket.emit("step.join", { room }, (ack) => {
      $("step-error").textContent = ack.error ? ackError(ack) : "";
    });
  });
  for (const [id, action] of [["step-next", "next"], ["step-back", "back"], ["step-forward", "forward"], ["step-cancel", "cancel"]]) {
    $(id).addEventListener("click", () => {
      if (!state) return;
      socket.emit("step.control", { room: state.room, action }, (ack) => {
        $("step-error").textContent = ack.error ? ackError(ack) : "";
      });
    });
  }
}

export function rerender() { if (state) render(); }

function render() {
  $("step-panel").hidden = false;
  const lg = lang();
  const s = state;
  const snapshots = byContainer.get(s.container.id) || [];
  const viewing = s.view !== null && s.view !== undefined ? snapshots[s.view] : null;
  const stepIndex = viewing ? viewing.index : (s.current ?? 0);
  const step = s.steps[stepIndex];
  // The list of six steps: done, current, to come.
  const list = $("step-list");
  list.innerHTML = "";
  s.steps.forEach((st, i) => {
    const li = document.createElement("li");
    li.textContent = `${i + 1}. ${st.name}`;
    if (s.done.includes(i)) li.classList.add("done");
    if (i === stepIndex) li.classList.add("current");
    list.append(li);
  });
  const phase = viewing ? t(viewing.phase === "after" ? "step.after" : "step.before") : "";
  $("step-title").textContent = `${stepIndex + 1}/${s.steps.length} ${step.name} · ${phase}`;
  $("step-text").textContent = lg === "en" ? step.en : step.ko;
  $("step-syscall").textContent = step.syscalls;
  const watching = socket.id !== s.owner;
  let status = t(watching && s.status === "paused" ? "step.status.waiting" : `step.status.${s.status}`);
  if (s.error) status += `: ${s.error}`;
  if (watching) status += ` · ${t("step.watching")}`;
  $("step-status").textContent = status;
  $("step-status").className = `badge ${s.status}`;
  $("step-note").hidden = !(s.view !== null && s.view < s.latest);
  $("step-next").disabled = watching || s.status !== "paused";
  $("step-cancel").disabled = watching || s.status !== "paused";
  $("step-back").disabled = watching || !s.view;
  $("step-forward").disabled = watching || s.view === null || s.view >= s.latest;
  $("step-report").textContent = viewing && viewing.report ? JSON.stringify(viewing.report, null, 1) : "";
  if (!viewing) return;
  // Compare with the snapshot just before: after a step, that is the kernel before it.
  const before = s.view > 0 ? snapshots[s.view - 1] : null;
  for (const box of document.querySelectorAll("[data-snap]")) {
    const view = box.dataset.snap;
    const svg = viewing.svgs[view][lg];
    putSvg(box, svg, before ? before.svgs[view][lg] : null);
  }
}
