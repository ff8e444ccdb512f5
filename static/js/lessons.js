// Lessons: the list (/lessons) and one lesson's page (/lessons/<id>).
// A lesson page shows one step at a time: its text, its button (or a command to type in the
// browser terminal), its goal checks (re-run whenever a runtime event arrives, and every few
// seconds for what changes without one, turning green by themselves), hints one at a time, the
// worked solution behind a click, and quizzes. Beside it: the step's live diagram (pushed over
// Socket.IO) and a terminal into a container. Korean and English switch at any moment.
import { api, el, errorText, human } from "./api.js";
import { oomNote, putSvg } from "./diagrams.js";
import { STRINGS, apply, lang, onLang, t } from "./i18n.js";
import "./chrome.js";

Object.assign(STRINGS, {
  "lesson.all": ["← 모든 강의", "← All lessons"],
  "lesson.simulated": ["모의 실행", "simulated"],
  "lesson.intro": ["들어가며", "Introduction"],
  "lesson.prev": ["◀ 이전", "◀ Back"],
  "lesson.next": ["다음 ▶", "Next ▶"],
  "lesson.finish": ["강의 목록으로 ✓", "Back to the lessons ✓"],
  "lesson.hint": ["힌트 보기", "Show a hint"],
  "lesson.more_hint": ["힌트 하나 더", "Another hint"],
  "lesson.no_hint": ["힌트가 더 없습니다", "No more hints"],
  "lesson.solution": ["풀이 보기", "Show the worked solution"],
  "lesson.checks": ["확인할 것", "Goals"],
  "lesson.no_checks": ["읽고 다음으로 넘어가세요.", "Read it, then go on."],
  "lesson.done": ["완료!", "Done!"],
  "lesson.not_yet": ["아직", "not yet"],
  "lesson.seen": ["본 것", "seen"],
  "lesson.missing": ["남은 것", "missing"],
  "lesson.running": ["실행 중…", "running…"],
  "lesson.failed": ["실패", "failed"],
  "lesson.copy": ["복사", "Copy"],
  "lesson.copied": ["복사했습니다", "copied"],
  "lesson.type": ["터미널에 입력", "Type it into the terminal"],
  "lesson.type_in": ["이 명령을 이 컨테이너의 터미널에 입력하세요:", "Type this in the terminal of this container:"],
  "lesson.terminal": ["터미널", "Terminal"],
  "lesson.term_close": ["닫기", "Close"],
  "lesson.term_none": ["열린 터미널이 없습니다", "no terminal open"],
  "lesson.term_ended": ["세션이 끝났습니다", "session ended"],
  "lesson.term_open": ["터미널 열기", "Open a terminal"],
  "lesson.reset": ["처음부터 다시", "Start over"],
  "lesson.reset_sure": ["정말요? 다시 누르면 만든 것을 지우고 처음부터", "Sure? Press again: removes what you made, starts over"],
  "lesson.cleanup": ["정리하기", "Clean up"],
  "lesson.cleaned": ["정리했습니다", "Cleaned up"],
  "lesson.quiz": ["퀴즈", "Quiz"],
  "lesson.answer": ["답하기", "Answer"],
  "lesson.right": ["맞았습니다!", "Right!"],
  "lesson.wrong": ["아닙니다. 답은", "Not quite. The answer is"],
  "lesson.skipped": ["이 질문은 건너뜁니다:", "This question is skipped:"],
  "lesson.your_answer": ["답", "answer"],
  "lesson.unavailable": ["이 강의는 실제 컨테이너가 필요합니다. 모의 실행에서는 읽기만 할 수 있습니다.",
    "This lesson needs real containers: in simulated mode you can only read it."],
  "lesson.files": ["빌드에 쓸 파일 (고쳐 보세요)", "Files for the build (edit them)"],
  "lesson.no_view": ["이 단계에는 그림이 없습니다", "no diagram for this step"],
  "lesson.view_wait": ["아직 그릴 것이 없습니다: 단계의 동작을 먼저 하세요", "nothing to draw yet: do the step first"],
  "lesson.view.namespaces": ["네임스페이스", "Namespaces"],
  "lesson.view.cgroups": ["cgroup", "cgroups"],
  "lesson.view.network": ["네트워크", "Network"],
  "lesson.view.layers": ["이미지 레이어", "Image layers"],
  "lesson.view.vm": ["가상 머신 vs 컨테이너", "VM vs container"],
  "lesson.view.components": ["Docker 구성 요소", "Docker's components"],
  "lesson.view.multihost": ["여러 호스트 (모의)", "Several hosts (simulated)"],
  "lesson.vm.side": ["", ""],
  "lesson.vm.vm": ["가상 머신", "VM"],
  "lesson.vm.ct": ["컨테이너", "container"],
  "lesson.vm.start": ["시작 시간", "start time"],
  "lesson.vm.memory": ["메모리", "memory"],
  "lesson.vm.kernel": ["uname -r", "uname -r"],
  "lesson.vm.mode.kvm": ["KVM (하드웨어 가상화)", "KVM (hardware virtualization)"],
  "lesson.vm.mode.tcg": ["TCG (소프트웨어 에뮬레이션)", "TCG (software emulation)"],
  "lesson.vm.mode.modeled": ["모형 (이 컴퓨터에 qemu가 없어 전형적인 값, 측정 아님)", "modeled (no qemu here: typical figures, not measured)"],
  "lesson.vm.host": ["호스트 커널", "host kernel"],
  "lesson.chroot.chroot": ["chroot만", "chroot alone"],
  "lesson.chroot.container": ["네임스페이스 (컨테이너)", "namespaces (a container)"],
  "lesson.chroot.files": ["/에 있는 항목", "entries in /"],
  "lesson.live_pending": ["({name}이(가) 생기면 채워집니다. 앞 단계를 먼저 하세요)", "(filled in once {name} exists: do the earlier steps first)"],
  "lesson.chroot.image_files": ["이미지의 파일만", "the image's files only"],
  "lesson.chroot.procs": ["보이는 프로세스", "processes seen"],
  "lesson.chroot.hostname": ["hostname", "hostname"],
  "lesson.chroot.ifaces": ["네트워크 장치", "network devices"],
  "lesson.chroot.host_yes": ["호스트 것이 보임", "the host's show"],
  "lesson.chroot.host_no": ["자기 것만", "only its own"],
  "lessons.minutes": ["분", "min"],
  "lessons.steps": ["단계", "steps"],
  "lessons.start": ["시작하기", "Start"],
  "lessons.resume": ["이어서 하기", "Resume"],
  "lessons.export": ["진도 내보내기", "Export progress"],
  "lessons.malformed": ["이 강의 파일은 잘못된 곳이 있어 목록에서 빠졌습니다. 고친 뒤 저장하면 다시 읽습니다 (형식은 lessons/README.md, 검사는 python -m web.lessons.validate):",
    "These lesson files are malformed, so their lessons are left out of the list. Fix and save, and they are read again (the format is in lessons/README.md; check with python -m web.lessons.validate):"],
  "lessons.import": ["진도 가져오기", "Import progress"],
  "lessons.imported": ["가져왔습니다:", "imported:"],
  "lessons.import_bad": ["진도 파일이 아닙니다: '진도 내보내기'로 받은 JSON 파일을 고르세요",
    "not a progress file: choose the JSON file 'Export progress' gave you"],
  "lessons.needs_real": ["실제 컨테이너 필요", "needs real containers"],
  "lessons.done": ["완료", "done"],
});

const $ = (id) => document.getElementById(id);
const both = (pair) => (pair ? (lang() === "en" ? pair.en : pair.ko) : "");
const html = (markup) => { const d = document.createElement("div"); d.innerHTML = markup; return d; };
// A check's words with `code` shown as code (the text itself is never taken as markup).
function prose(text) {
  const span = document.createElement("span");
  String(text).split("`").forEach((part, i) => span.append(i % 2 ? el("code", {}, part) : part));
  return span;
}
for (const a of document.querySelectorAll('nav a[href="/lessons"]')) a.classList.add("active");

// == the list ==================================================================================
async function listPage() {
  let data;
  try { data = await api("GET", "/api/lessons"); } catch (err) {
    $("lesson-list").append(el("li", { class: "lesson-error" }, errorText(err)));
    return;
  }
  const render = () => {
    const list = $("lesson-list");
    list.innerHTML = "";
    for (const l of data.lessons) {
      const done = l.progress.passed || 0;
      const begun = Boolean(l.progress.step);
      const card = el("li", { class: `lesson-card${l.available ? "" : " unavailable"}`, dataset: { id: l.id } },
        el("div", { class: "num" }, String(l.number).padStart(2, "0")),
        el("div", { class: "body" },
          el("h3", {}, el("a", { href: `/lessons/${l.id}` }, both(l.title))),
          el("p", {}, both(l.summary)),
          el("div", { class: "meta small" },
            ...l.labels.map((x) => el("span", { class: `label ${x}` }, x[0].toUpperCase() + x.slice(1))),
            ` ${l.minutes}${t("lessons.minutes")} · ${l.steps} ${t("lessons.steps")}`,
            l.available ? null : el("span", { class: "label warn" }, t("lessons.needs_real"))),
          el("div", { class: "bar" }, el("span", { style: `width:${Math.round(100 * done / l.steps)}%` })),
          el("div", { class: "small" }, `${done} / ${l.steps} ${t("lessons.done")}`)),
        el("a", { class: "button primary go", href: `/lessons/${l.id}` }, t(begun ? "lessons.resume" : "lessons.start")));
      list.append(card);
    }
  };
  render();
  onLang(render);
  $("import-file").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    try {
      let doc;
      // A file that is not JSON at all gets a sentence in the learner's language, not the
      // browser's parser message.
      try { doc = JSON.parse(await file.text()); } catch {
        $("import-status").textContent = `${t("lessons.import_bad")} (${file.name})`;
        ev.target.value = "";
        return;
      }
      const out = await api("POST", "/api/lessons/progress/import", doc);
      $("import-status").textContent = `${t("lessons.imported")} ${out.imported.join(", ")}`;
      data = await api("GET", "/api/lessons");
      render();
    } catch (err) { $("import-status").textContent = errorText(err); }
    ev.target.value = "";
  });
}

// == one lesson ===================================================================================
const S = {
  id: null, doc: null, step: null, socket: null,
  sub: { key: null, failed: false, step: null },
  checks: {},            // step -> last check answer
  outputs: {},           // step -> {text, result, error}
  hints: {},             // step -> how many shown
  action: null,          // the running action's id
  stepper: null,         // the step-through room
  term: null, fit: null, termId: null, termFor: null, pending: new Map(),
  termPicked: null,      // the container the learner chose in the list, until a terminal opens
  checkTimer: null, eventTimer: null, checking: false,
};

function stepIds() { return ["intro", ...S.doc.steps.map((s) => s.id)]; }
function current() { return S.doc.steps.find((s) => s.id === S.step) || null; }

async function lessonPage() {
  S.id = $("lesson").dataset.lesson;
  await loadDoc(decodeURIComponent(location.hash.slice(1)) || undefined);
  connect();
  $("step-prev").addEventListener("click", () => move(-1));
  $("step-next-page").addEventListener("click", () => {
    if (S.step === stepIds()[stepIds().length - 1]) location.href = "/lessons";
    else move(1);
  });
  $("hint-button").addEventListener("click", showHint);
  $("term-close").addEventListener("click", closeTerminal);
  $("term-container").addEventListener("change", (ev) => { S.termPicked = ev.target.value; });
  $("term-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("term-container").value;
    if (name) openTerminal(name);
  });
  $("stepper-next").addEventListener("click", () => stepControl("next"));
  $("stepper-cancel").addEventListener("click", () => stepControl("cancel"));
  twoClick($("lesson-reset"), "lesson.reset", "lesson.reset_sure", async () => {
    try {
      await api("POST", `/api/lessons/${S.id}/reset`);
      S.outputs = {}; S.checks = {}; S.hints = {};
      closeTerminal();
      await loadDoc("intro");
      status("");
    } catch (err) { status(errorText(err)); }
  });
  $("lesson-cleanup").addEventListener("click", async () => {
    try {
      const out = await api("POST", `/api/lessons/${S.id}/cleanup`);
      const gone = [...out.containers, ...out.networks, ...out.images];
      status(`${t("lesson.cleaned")}${gone.length ? ": " + gone.join(", ") : ""}${out.failed.length ? " · " + out.failed.join("; ") : ""}`);
      checkNow();
    } catch (err) { status(errorText(err)); }
  });
  onLang(async () => { await loadDoc(S.step); subscribe(); if (S.termStatus) termStatus(...S.termStatus); });
  setInterval(() => { const s = current(); if (s && !s.passed && s.checks.length) checkNow(); }, 2500);
}

function status(text) { $("lesson-status").textContent = text; }

function twoClick(button, key, sureKey, fn) {
  let armed = null;
  button.addEventListener("click", () => {
    if (armed) { clearTimeout(armed); armed = null; button.dataset.i18n = key; apply(button.parentElement); fn(); return; }
    button.dataset.i18n = sureKey; apply(button.parentElement);
    armed = setTimeout(() => { armed = null; button.dataset.i18n = key; apply(button.parentElement); }, 4000);
  });
}

async function loadDoc(goTo) {
  try { S.doc = await api("GET", `/api/lessons/${S.id}?lang=${lang()}`); } catch (err) { status(errorText(err)); return; }
  $("lesson-title").textContent = `${S.doc.number}. ${S.doc.title}`;
  document.title = `${S.doc.title} · 옹기 onggi`;
  $("unavailable").hidden = S.doc.available;
  show(goTo || S.step || S.doc.progress.step || "intro", { keepDiagram: Boolean(goTo && goTo === S.step) });
}

function renderNav() {
  const nav = $("step-nav");
  nav.innerHTML = "";
  stepIds().forEach((id, i) => {
    const s = S.doc.steps.find((x) => x.id === id);
    const li = el("li", { class: `${id === S.step ? "current" : ""} ${s && s.passed ? "passed" : ""}`, dataset: { step: id },
      title: s ? html(s.title).textContent : t("lesson.intro") },
    el("button", { type: "button", onclick: () => show(id) }, i === 0 ? "·" : String(i)));
    nav.append(li);
  });
}

function show(stepId, { keepDiagram = false } = {}) {
  if (!stepIds().includes(stepId)) stepId = "intro";
  const changed = stepId !== S.step;
  S.step = stepId;
  renderNav();
  const s = current();
  $("step").dataset.step = stepId;
  if (!s) {
    $("step-title").textContent = t("lesson.intro");
    $("step-body").innerHTML = S.doc.intro;
    $("step-action").innerHTML = "";
    $("checks").innerHTML = "";
    $("checks").parentElement.hidden = true;
    $("hint-button").hidden = true; $("hints").innerHTML = ""; $("solution").hidden = true;
    renderQuizzes(S.doc.intro_quizzes);
    renderOutput();
  } else {
    $("step-title").innerHTML = s.title;
    $("step-body").innerHTML = s.html;
    $("checks").parentElement.hidden = false;
    renderAction(s);
    renderChecks();
    renderHints();
    $("solution").hidden = !s.solution;
    if (changed) $("solution").open = false;
    $("solution-text").textContent = s.solution;
    renderQuizzes(s.quizzes);
    renderOutput();
  }
  $("stepper").hidden = !(S.stepper && S.stepperStep === stepId);
  if (changed) { $("vm-console").hidden = true; $("vm-console").textContent = ""; }
  $("step-prev").disabled = stepIds().indexOf(stepId) === 0;
  const last = stepIds().indexOf(stepId) === stepIds().length - 1;
  $("step-next-page").dataset.i18n = last ? "lesson.finish" : "lesson.next";
  $("step-next-page").textContent = t($("step-next-page").dataset.i18n);
  if (changed) {
    api("POST", `/api/lessons/${S.id}/goto`, { step: stepId }).catch(() => {});
    history.replaceState(null, "", `#${stepId}`);
  }
  if (!keepDiagram || changed) subscribe();
  if (changed) refreshRunning();
  if (s && s.checks.length) checkNow();
  if (s && s.action && s.action.kind === "type") prepareTerminal(s.action.container);
  if (changed && hasLive(s)) refreshLive();
}

// A command or solution may hold live values ({{ip_address:net-web}}): the server fills them
// in from the state now, so they are fetched again when the step is shown and when things change.
function hasLive(s) {
  return Boolean(s && s.live);
}

let liveTimer = null;
function refreshLive() {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(async () => {
    let doc;
    try { doc = await api("GET", `/api/lessons/${S.id}?lang=${lang()}`); } catch (err) { return; }
    for (const fresh of doc.steps) {
      const s = S.doc.steps.find((x) => x.id === fresh.id);
      if (!s || !s.live) continue;
      const changed = s.solution !== fresh.solution || (s.action && fresh.action && s.action.command !== fresh.action.command);
      s.solution = fresh.solution;
      if (s.action && fresh.action) s.action.command = fresh.action.command;
      if (changed && s.id === S.step) { renderAction(s); $("solution-text").textContent = s.solution; }
    }
  }, 200);
}

function move(delta) {
  const ids = stepIds();
  const i = ids.indexOf(S.step) + delta;
  if (i >= 0 && i < ids.length) { show(ids[i]); window.scrollTo({ top: 0, behavior: "smooth" }); }
}

// -- the step's action -------------------------------------------------------------------------------
function renderAction(s) {
  const box = $("step-action");
  box.innerHTML = "";
  const a = s.action;
  if (!a) return;
  if (a.kind === "type") {
    // A live value the server could not fill in yet ({{ip_address:net-web}}: no net-web so
    // far) is said in words, and the command cannot be copied or typed until it is there.
    const pending = /\{\{\w+:[^}]+\}\}/.test(a.command);
    const shown = a.command.replace(/\{\{(\w+):([^}]+)\}\}/g, (m, kind, name) => t("lesson.live_pending", { name }));
    const code = el("code", { class: "command" + (pending ? " pending" : "") }, shown);
    const off = pending ? { disabled: "" } : {};        // el() sets attributes: a false one would still disable
    box.append(el("p", { class: "small" }, `${t("lesson.type_in")} `, el("b", {}, a.container)),
      el("div", { class: "command-row" }, code,
        el("button", { type: "button", class: "copy", ...off, onclick: (ev) => copy(a.command, ev.target) }, t("lesson.copy")),
        el("button", { type: "button", class: "type", ...off, onclick: () => typeIntoTerminal(a.container, a.command) }, t("lesson.type"))));
    return;
  }
  if (a.files) {
    const files = el("div", { class: "files-edit" }, el("div", { class: "small" }, t("lesson.files")));
    for (const [name, text] of Object.entries(a.files)) {
      files.append(el("label", {}, el("code", {}, name),
        el("textarea", { "data-file": name, rows: String(Math.max(3, text.split("\n").length + 1)), spellcheck: "false" }, text)));
    }
    box.append(files);
  }
  const button = el("button", { type: "button", class: "primary act", id: "action-button", onclick: () => press(s) }, a.label);
  if (!S.doc.available) button.disabled = true;
  box.append(button);
}

async function copy(text, button) {
  try { await navigator.clipboard.writeText(text); button.textContent = t("lesson.copied"); }
  catch (err) {
    const r = document.createRange(); r.selectNodeContents(button.previousElementSibling);
    const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
  }
  setTimeout(() => { button.textContent = t("lesson.copy"); }, 1500);
}

function press(s) {
  const files = {};
  for (const ta of document.querySelectorAll("#step-action textarea[data-file]")) files[ta.dataset.file] = ta.value;
  const button = $("action-button");
  if (button) button.disabled = true;
  S.outputs[s.id] = { text: "", result: null, error: null, running: true };
  renderOutput();
  ensureTerminal();
  const size = S.term ? { rows: S.term.rows, cols: S.term.cols } : {};
  S.socket.emit("lesson.action", { lesson: S.id, step: s.id, files: Object.keys(files).length ? files : undefined, ...size }, (ack) => {
    if (button) button.disabled = false;
    const out = S.outputs[s.id];
    if (ack.error) { out.running = false; out.error = errorText({ message: ack.error, hint: ack.hint }); renderOutput(); return; }
    if (ack.terminal) {
      out.running = false;
      bindTerminal(ack.terminal, ack.container);
      renderOutput();
    } else if (ack.step_through) {
      out.running = false;
      S.stepper = ack.step_through;
      S.stepperStep = s.id;
      $("stepper").hidden = false;
      renderOutput();
    } else {
      S.action = ack.action;
    }
    checkSoon();
  });
}

function renderOutput() {
  const out = S.outputs[S.step];
  const pre = $("action-output");
  const result = $("action-result");
  result.innerHTML = "";
  if (!out) {
    const s = current();
    const r = s && s.result;
    if (r) { S.outputs[S.step] = { text: r.data.output || "", result: r, error: null, running: false }; return renderOutput(); }
    pre.hidden = true; pre.textContent = "";
    return;
  }
  const text = [out.running ? t("lesson.running") : "", (out.text || "").replace(/\n$/, ""),
    out.error ? `${t("lesson.failed")}: ${out.error}` : ""].filter(Boolean).join("\n");
  pre.hidden = !text.trim();
  pre.textContent = text;
  pre.classList.toggle("error", Boolean(out.error));
  pre.scrollTop = pre.scrollHeight;
  if (out.result) renderResult(out.result, result);
}

function renderResult(r, box) {
  if (r.kind === "vm_boot" && r.data.vm) {
    const vm = r.data.vm, ct = r.data.container || {};
    const ms = (x) => (typeof x === "number" ? (x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`) : "-");
    box.append(el("div", { class: `vm-result ${vm.mode}` },
      el("p", { class: "mode" }, t(`lesson.vm.mode.${vm.mode in { kvm: 1, tcg: 1, modeled: 1 } ? vm.mode : "tcg"}`)),
      el("table", {},
        el("tr", {}, el("th", {}, ""), el("th", {}, t("lesson.vm.vm")), el("th", {}, t("lesson.vm.ct"))),
        el("tr", {}, el("th", {}, t("lesson.vm.start")), el("td", { class: "vm-start" }, ms(vm.start_ms)), el("td", { class: "ct-start" }, ms(ct.start_ms))),
        el("tr", {}, el("th", {}, t("lesson.vm.memory")), el("td", {}, `${vm.memory_reserved_mb || "-"} MiB${vm.qemu_rss_mb ? ` (RSS ${vm.qemu_rss_mb} MiB)` : ""}`),
          el("td", {}, human(ct.memory_bytes))),
        el("tr", {}, el("th", {}, t("lesson.vm.kernel")), el("td", { class: "vm-kernel" }, vm.kernel || vm.error || "-"), el("td", { class: "ct-kernel" }, ct.kernel || "-"))),
      el("p", { class: "small" }, `${t("lesson.vm.host")}: ${r.data.host_kernel || "-"}`)));
  } else if (r.kind === "chroot_demo" && r.data.chroot) {
    const side = (key, d) => el("div", { class: `chroot-side ${key}` },
      el("h4", {}, t(`lesson.chroot.${key}`)),
      el("p", {}, `${t("lesson.chroot.files")}: `, el("b", {}, String((d.files || []).length)), ` (${t(d.sees_host_files ? "lesson.chroot.host_yes" : "lesson.chroot.image_files")})`),
      el("p", {}, `${t("lesson.chroot.procs")}: `, el("b", {}, String(d.processes)), ` (${t(d.sees_host_processes ? "lesson.chroot.host_yes" : "lesson.chroot.host_no")})`),
      el("p", {}, `${t("lesson.chroot.hostname")}: `, el("code", {}, d.hostname || "-"), ` (${t(d.hostname_is_host ? "lesson.chroot.host_yes" : "lesson.chroot.host_no")})`),
      el("p", {}, `${t("lesson.chroot.ifaces")}: `, el("code", {}, (d.interfaces || []).join(", ")), ` (${t(d.sees_host_interfaces ? "lesson.chroot.host_yes" : "lesson.chroot.host_no")})`),
      el("pre", {}, d.output || ""));
    box.append(el("div", { class: "chroot-result" }, side("chroot", r.data.chroot), side("container", r.data.container)));
  }
}

// -- checks ---------------------------------------------------------------------------------------------
function checkSoon(delay = 150) {
  clearTimeout(S.eventTimer);
  S.eventTimer = setTimeout(checkNow, delay);
}

function checkNow() {
  const s = current();
  if (!s || !s.checks.length || !S.socket || !S.socket.connected) return;
  if (S.checking) { checkSoon(400); return; }
  S.checking = true;
  const stepId = s.id;
  S.socket.emit("lesson.check", { lesson: S.id, step: stepId }, (ack) => {
    S.checking = false;
    if (ack.error) { status(errorText({ message: ack.error, hint: ack.hint })); return; }
    S.checks[stepId] = ack;
    const step = S.doc.steps.find((x) => x.id === stepId);
    if (step && ack.passed && !step.passed) { step.passed = true; renderNav(); }
    if (stepId === S.step) renderChecks(ack.newly);
  });
}

function renderChecks(celebrate = false) {
  const s = current();
  const ul = $("checks");
  ul.innerHTML = "";
  if (!s) return;
  if (!s.checks.length) { ul.append(el("li", { class: "check none" }, t("lesson.no_checks"))); return; }
  const ack = S.checks[s.id];
  s.checks.forEach((c, i) => {
    const r = ack && ack.checks[i];
    const li = el("li", { class: `check ${r ? (r.passed ? "passed" : "failed") : "pending"}`, dataset: { kind: c.kind } },
      el("span", { class: "mark" }, r ? (r.passed ? "✓" : "○") : "…"),
      el("span", { class: "seen" }, r ? prose(both(r.seen)) : c.kind));
    if (r && !r.passed && r.missing) li.append(el("span", { class: "missing" }, `${t("lesson.missing")}: `, prose(both(r.missing))));
    ul.append(li);
  });
  if (ack && ack.now) {
    ul.append(el("li", { class: `check all-done${celebrate ? " celebrate" : ""}` }, t("lesson.done")));
  }
  $("step").classList.toggle("passed", Boolean(ack && ack.passed));
}

// -- hints, solution, quizzes ------------------------------------------------------------------------------
function renderHints() {
  const s = current();
  const n = S.hints[s.id] || 0;
  $("hint-button").hidden = !s.hints.length;
  $("hint-button").disabled = n >= s.hints.length;
  $("hint-button").dataset.i18n = n === 0 ? "lesson.hint" : n >= s.hints.length ? "lesson.no_hint" : "lesson.more_hint";
  $("hint-button").textContent = t($("hint-button").dataset.i18n);
  const ol = $("hints");
  ol.innerHTML = "";
  for (const h of s.hints.slice(0, n)) { const li = el("li", {}); li.innerHTML = h; ol.append(li); }
}

function showHint() {
  const s = current();
  if (!s) return;
  S.hints[s.id] = Math.min((S.hints[s.id] || 0) + 1, s.hints.length);
  renderHints();
}

function renderQuizzes(quizzes) {
  const box = $("quizzes");
  box.innerHTML = "";
  for (const q of quizzes || []) {
    const form = el("form", { class: `quiz${q.answered ? " answered" : ""}`, dataset: { quiz: q.id } });
    const head = el("div", { class: "question" }, el("b", {}, `${t("lesson.quiz")} `));
    head.append(...html(q.question).childNodes);
    form.append(head);
    if (q.live) {
      form.append(el("input", { name: "answer", autocomplete: "off", placeholder: t("lesson.your_answer"), value: q.given || "" }));
    } else {
      q.choices.forEach((c, i) => {
        const input = el("input", { type: "radio", name: "answer", value: String(i) });
        if (q.given !== null && String(q.given) === String(i)) input.checked = true;
        const label = el("label", { class: "choice" }, input, " ");
        label.append(...html(c).childNodes);
        form.append(label);
      });
    }
    const verdict = el("div", { class: "verdict", role: "status" });
    if (q.answered) verdict.append(el("p", { class: "right" }, t("lesson.right")));
    form.append(el("button", { type: "submit" }, t("lesson.answer")), verdict);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); answer(q, form); });
    box.append(form);
  }
}

async function answer(q, form) {
  const value = new FormData(form).get("answer");
  const verdict = form.querySelector(".verdict");
  verdict.innerHTML = "";
  try {
    const r = await api("POST", `/api/lessons/${S.id}/quiz`, { quiz: q.id, answer: value });
    if (r.skipped) {
      verdict.append(el("p", { class: "skipped" }, `${t("lesson.skipped")} ${r.why}`));
    } else {
      const shown = q.live ? r.expected : html(q.choices[r.expected]).textContent;
      verdict.append(el("p", { class: r.correct ? "right" : "wrong" }, r.correct ? t("lesson.right") : `${t("lesson.wrong")} ${shown}`));
      q.answered = r.answered; q.given = value;
      form.classList.toggle("answered", r.answered);
    }
    if (r.explain) { const ex = html(both(r.explain)); ex.className = "explain"; verdict.append(ex); }
    checkSoon(50);
  } catch (err) { verdict.append(el("p", { class: "wrong" }, errorText(err))); }
}

// -- the diagram -------------------------------------------------------------------------------------------
function subscribe() {
  const s = current();
  const box = $("diagram");
  if (S.sub.key) S.socket && S.socket.emit("unsubscribe", { key: S.sub.key });
  S.sub = { key: null, failed: false, step: S.step };
  const view = s ? s.view : (S.doc.steps[0] || {}).view;
  $("diagram-card").classList.toggle("no-view", !view || view === "none");
  $("view-name").textContent = view && view !== "none" ? t(`lesson.view.${view}`) : t("lesson.no_view");
  $("view-note").textContent = "";
  if (!view || view === "none" || !S.socket || !S.socket.connected) { box.innerHTML = ""; return; }
  const query = s ? s.query : (S.doc.steps[0] || {}).query || {};
  box.innerHTML = "";
  const asked = S.step;
  S.socket.emit("subscribe", { diagram: view, lang: lang(), query }, (ack) => {
    if (asked !== S.step) { if (ack.key) S.socket.emit("unsubscribe", { key: ack.key }); return; }
    if (ack.error) { S.sub.failed = true; $("view-note").textContent = t("lesson.view_wait"); return; }
    S.sub.key = ack.key;
    putSvg(box, ack.svg);
  });
}

// -- the terminal -------------------------------------------------------------------------------------------
function ensureTerminal() {
  if (S.term || !window.Terminal) return;
  S.term = new window.Terminal({ fontSize: 14, cursorBlink: true, fontFamily: '"DejaVu Sans Mono", "Noto Sans Mono CJK KR", monospace' });
  S.fit = new window.FitAddon.FitAddon();
  S.term.loadAddon(S.fit);
  S.term.open($("terminal"));
  refit();
  S.term.onData((data) => {
    if (S.termId) {
      S.socket.emit("term.input", { id: S.termId, data });
      if (data.includes("\r")) checkSoon(700);
    }
  });
  S.term.onResize(({ cols, rows }) => { if (S.termId) S.socket.emit("term.resize", { id: S.termId, cols, rows }); });
  // Fit whenever the box changes size (window, presenter mode, the panel shown again).
  new ResizeObserver(refit).observe($("terminal"));
  termStatus("lesson.term_none");
}

function termStatus(key, extra = "") {
  S.termStatus = [key, extra];
  $("term-status").textContent = (key ? t(key) : "") + extra;
}

// Never to a size no one could type in (the box hidden, or the window squeezed for a
// moment, as a full-page screenshot does): xterm would reflow everything to its
// 2-column minimum, and the shell, told the same, would redraw its line to match.
function refit() {
  const size = S.fit && S.fit.proposeDimensions();
  if (size && size.cols >= 20 && size.rows >= 4) { try { S.fit.fit(); } catch (e) { /* hidden */ } }
}

function bindTerminal(id, container) {
  ensureTerminal();
  if (S.termId && S.termId !== id) S.socket.emit("term.close", { id: S.termId });
  S.term.reset();
  S.termId = id;
  S.termFor = container;
  S.termPicked = null;
  termStatus("", container || "");
  for (const data of S.pending.get(id) || []) S.term.write(data);
  S.pending.clear();
  S.term.focus();
}

function openTerminal(container) {
  return new Promise((resolve) => {
    ensureTerminal();
    refit();
    S.socket.emit("term.open", { container, cmd: ["sh"], rows: S.term.rows, cols: S.term.cols }, (ack) => {
      if (ack.error) { termStatus("", errorText({ message: ack.error, hint: ack.hint })); resolve(false); return; }
      bindTerminal(ack.id, container);
      resolve(true);
    });
  });
}

function prepareTerminal(container) {
  if (S.termId && S.termFor === container) return;
  if (S.socket && S.socket.connected) openTerminal(container);
}

async function typeIntoTerminal(container, command) {
  if (!(S.termId && S.termFor === container)) {
    if (!(await openTerminal(container))) return;
    await new Promise((r) => setTimeout(r, 400));          // the shell's first prompt
  }
  S.socket.emit("term.input", { id: S.termId, data: command });
  S.term.focus();
}

function closeTerminal() {
  if (S.termId && S.socket) S.socket.emit("term.close", { id: S.termId });
  S.termId = null; S.termFor = null;
  if (S.term) termStatus("lesson.term_none");
}

let runningTimer = null;
function refreshRunning() {
  clearTimeout(runningTimer);
  runningTimer = setTimeout(async () => {
    let list = [];
    try { list = await api("GET", "/api/containers"); } catch (err) { return; }
    const sel = $("term-container");
    // The learner's own choice first: a refresh (any container event) must not take it back.
    const keep = S.termPicked || S.termFor || (current() && current().view_for.container) || sel.value;
    sel.innerHTML = "";
    for (const c of list) sel.append(el("option", { value: c.name }, c.name));
    if (list.some((c) => c.name === keep)) sel.value = keep;
    $("term-form").hidden = !list.length;
  }, 120);
}

// -- the step-through ------------------------------------------------------------------------------------------
function stepControl(action) {
  if (!S.stepper) return;
  if (action === "next") $("stepper-next").disabled = true;      // until the launch pauses again
  S.socket.emit("step.control", { room: S.stepper, action }, (ack) => {
    if (ack.error) $("stepper-text").textContent = errorText({ message: ack.error, hint: ack.hint });
  });
}

function renderStepper(s) {
  $("stepper").hidden = S.stepperStep !== S.step;
  const list = $("stepper-list");
  list.innerHTML = "";
  s.steps.forEach((st, i) => {
    list.append(el("li", { class: `${s.done.includes(i) ? "done" : ""} ${i === s.current && s.status !== "started" ? "current" : ""}` }, `${i + 1}. ${st.name}`));
  });
  const badge = $("stepper-status");
  badge.className = `badge ${s.status}`;
  badge.textContent = t(`step.status.${s.status}`) + (s.error ? `: ${s.error}` : "");
  const st = s.steps[s.current ?? 0];
  $("stepper-text").textContent = st ? `${lang() === "en" ? st.en : st.ko}  ${st.syscalls}` : "";
  const live = ["paused", "running", "starting"].includes(s.status);
  $("stepper-next").disabled = s.status !== "paused";
  $("stepper-cancel").disabled = !live;
}

// The VM's boot messages scroll in the diagram's panel while it boots (the lesson says so).
function vmConsole(text) {
  const pre = $("vm-console");
  pre.hidden = false;
  pre.textContent = (pre.textContent + text).split("\n").slice(-14).join("\n");
}

function stageNote(stage, d) {
  if (stage === "probe") return ` ${d.kvm ? "KVM" : "TCG"}: ${d.why || ""}`;
  if (stage === "prepare") return d.mode ? ` ${d.mode}: ${d.why || ""}` : ` ${d.kernel_release || ""}`;
  if (stage === "vm.booted") return ` ${d.kernel || ""} (${d.start_ms} ms)`;
  if (stage === "container.output") return ` ${d.line || ""}`;
  if (stage === "vm.failed") return ` ${d.error || ""}`;
  return "";
}

// -- the connection ----------------------------------------------------------------------------------------------
function connect() {
  const socket = window.io({ transports: ["websocket"] });
  S.socket = socket;
  window.onggiSocket = socket;
  socket.on("connect", () => {
    $("conn").dataset.i18n = "conn.on"; $("conn").classList.add("on"); apply($("conn").parentElement);
    socket.emit("lesson.join", { lesson: S.id }, (ack) => { if (ack.error) status(errorText({ message: ack.error, hint: ack.hint })); });
    subscribe();
    checkNow();
    refreshRunning();
    const s = current();
    if (s && s.action && s.action.kind === "type") prepareTerminal(s.action.container);
  });
  socket.on("disconnect", () => {
    $("conn").dataset.i18n = "conn.off"; $("conn").classList.remove("on"); apply($("conn").parentElement);
    S.sub.key = null; S.termId = null; S.termFor = null;
  });
  socket.on("event", (e) => {
    checkSoon();
    if (e.type === "container.oom" && current() && current().view === "cgroups") oomNote($("diagram"), e);
    if (hasLive(current()) && e.type !== "container.step") refreshLive();
    if (e.type.startsWith("container.") && e.type !== "container.step" && e.type !== "container.exec") refreshRunning();
    if (S.sub.failed && ["image.built", "image.pulled", "image.tagged", "container.created", "container.started"].includes(e.type)) subscribe();
  });
  socket.on("diagram", (d) => {
    if (d.key !== S.sub.key) return;
    putSvg($("diagram"), d.svg);
    for (const g of $("diagram").querySelectorAll("g.oom")) g.classList.add("flash");     // an OOM kill
  });
  socket.on("lesson.output", (m) => {
    const out = S.outputs[m.step] || (S.outputs[m.step] = { text: "", result: null, error: null, running: true });
    if (m.kind === "output") out.text = (out.text + m.text).slice(-65536);
    if (m.kind === "output" && m.step === S.step && current() && current().view === "vm") vmConsole(m.text);
    else if (m.kind === "stage") out.text += `[${m.stage}]${stageNote(m.stage, m.data || {})}\n`;
    if (m.step === S.step) renderOutput();
  });
  socket.on("lesson.done", (m) => {
    const out = S.outputs[m.step] || (S.outputs[m.step] = { text: "", result: null, error: null });
    out.running = false;
    if (m.ok) {
      out.result = m.result;
      const step = S.doc.steps.find((x) => x.id === m.step);
      if (step) step.result = m.result;
    } else out.error = errorText({ message: m.error, hint: m.hint });
    if (m.queries) {
      let again = false;
      for (const step of S.doc.steps) {
        const q = m.queries[step.id];
        if (q && JSON.stringify(q) !== JSON.stringify(step.query)) { step.query = q; again = again || step.id === S.step; }
      }
      if (again) subscribe();
    }
    if (m.step === S.step) renderOutput();
    checkSoon(50);
  });
  socket.on("step.state", (s) => { if (s.room === S.stepper) { renderStepper(s); if (s.status === "started" || s.status === "cancelled") checkSoon(100); } });
  socket.on("term.output", (m) => {
    if (m.id === S.termId) S.term.write(m.data);
    else { if (!S.pending.has(m.id)) S.pending.set(m.id, []); S.pending.get(m.id).push(m.data); }
  });
  socket.on("term.exit", (m) => {
    if (m.id !== S.termId) return;
    S.termId = null; S.termFor = null;
    termStatus("lesson.term_ended", ` (${m.code})`);
    checkSoon(100);
  });
}

// == start ===================================================================================================
apply();
if ($("lesson")) lessonPage();
else if ($("lessons-page")) listPage();
