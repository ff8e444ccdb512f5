// The run form's last container, followed until it ends. One that ends at once (echo hi,
// true) left the running-only list before the learner saw it, and nothing seemed to have
// happened. Docker prints the output; here the form says how it ended, shows what it
// printed, and offers the "all" list where it still is. The notice stays until the learner
// runs the next one or closes it.
import { api, el } from "./api.js";
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const TAIL = 20;
let launched = null;     // {id}: started from the form, not yet ended
let shown = null;        // {c, output}: what the notice says, to say again in another language

export function watchLaunch(c) {
  clearNotice();
  launched = { id: c.id };
  check();                // `true` may be over before the POST's answer arrived
}

export function onEvent(e) {
  if (launched && e.id === launched.id && e.type === "container.exited") check();
}

// The learner stopped or removed it: that end is no news.
export function forget(id) {
  if (launched && launched.id === id) launched = null;
}

export function clearNotice() {
  launched = null;
  shown = null;
  $("run-notice").hidden = true;
  $("run-notice").replaceChildren();
}

export function rerenderNotice() { if (shown) render(); }

async function check() {
  const mine = launched;
  let list;
  try { list = await api("GET", "/api/containers?all=1"); } catch (err) { return; }
  const c = list.find((x) => x.id === mine.id);
  if (!c || c.status !== "exited" || launched !== mine) return;
  launched = null;
  let lines = [];
  try { lines = await api("GET", `/api/containers/${c.id}/logs?tail=${TAIL}`); } catch (err) { /* the exit code says enough */ }
  shown = { c, output: lines.map((l) => l.text).join("") };
  render();
}

function render() {
  const { c, output } = shown;
  const box = $("run-notice");
  const all = $("show-all");
  box.className = `run-notice ${c.exit_code === 0 ? "ok" : "bad"}`;
  box.replaceChildren(...[
    el("button", { type: "button", class: "close", title: t("run.notice.close"), "aria-label": t("run.notice.close"),
      onclick: clearNotice }, "×"),
    el("p", {}, t("run.notice.exited", { name: c.name, code: c.exit_code }), c.error ? ` ${c.error}` : ""),
    output ? el("pre", { class: "output" }, output) : el("p", { class: "small" }, t("run.notice.no_output")),
    all.checked ? null : el("p", { class: "small" }, t("run.notice.hidden"), " ",
      el("button", { type: "button", class: "show-all", onclick: () => {
        all.checked = true;
        all.dispatchEvent(new Event("change"));
        render();
      } }, t("run.notice.show_all"))),
  ].filter(Boolean));
  box.hidden = false;
}
