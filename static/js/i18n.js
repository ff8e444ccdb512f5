// The page's words, Korean first and English second. Elements carry data-i18n="key";
// apply() rewrites them in the current language. The choice is kept in localStorage.
export const STRINGS = {
  "nav.live": ["실시간 보기", "Live"],
  "nav.step": ["한 단계씩 실행", "Step-through"],
  "nav.term": ["터미널", "Terminal"],
  "nav.lessons": ["강의", "Lessons"],
  "tools.presenter": ["발표 모드", "Presenter"],
  "conn.on": ["연결됨", "connected"],
  "conn.off": ["연결 끊김", "disconnected"],
  "run.title": ["컨테이너 실행", "Run a container"],
  "run.image": ["이미지", "Image"],
  "run.cmd": ["명령", "Command"],
  "run.name": ["이름 (선택)", "Name (optional)"],
  "run.network": ["네트워크", "Network"],
  "run.memory": ["메모리 한도", "Memory limit"],
  "run.submit": ["실행 (run -d)", "Run (run -d)"],
  "run.notice.exited": ["{name} 컨테이너가 끝났습니다 (종료 코드 {code}).", "{name} exited with code {code}."],
  "run.notice.no_output": ["(출력 없음)", "(no output)"],
  "run.notice.hidden": ["지금 목록에는 실행 중인 컨테이너만 나옵니다.", "The list shows running containers only."],
  "run.notice.show_all": ["'모두' 켜서 보기", "tick 'all' to see it"],
  "run.notice.close": ["닫기", "close"],
  "containers.title": ["컨테이너", "Containers"],
  "containers.all": ["모두", "all"],
  "containers.none": ["컨테이너가 없습니다", "No containers"],
  "containers.start": ["시작", "start"],
  "containers.stop": ["정지", "stop"],
  "containers.remove": ["삭제", "remove"],
  "containers.terminal": ["터미널", "terminal"],
  "containers.layers": ["레이어", "layers"],
  "events.title": ["이벤트", "Events"],
  "view.namespaces": ["네임스페이스", "Namespaces"],
  "view.cgroups": ["cgroup", "cgroups"],
  "view.network": ["네트워크", "Network"],
  "view.layers": ["이미지 레이어", "Image layers"],
  "help.namespaces": ["/proc/PID/ns 의 inode 번호: 같으면 같은 네임스페이스입니다.", "Inode numbers behind /proc/PID/ns: equal means the same namespace."],
  "help.cgroups": ["cgroupfs 에서 읽은 사용량과 한도 (1초마다 갱신).", "Usage and limits read from cgroupfs (refreshed every second)."],
  "oom.note": ["OOM 강제 종료(OOM kill): {name} — 메모리가 한도 {max}에 닿아(최대 {peak}) 커널이 프로세스 {n}개를 강제로 끝냈습니다",
    "OOM kill: {name} — memory reached its {max} limit (peak {peak}); the kernel killed {n} process(es)"],
  "help.network": ["netlink 로 읽은 브리지, veth 쌍, 컨테이너의 네트워크 네임스페이스.", "Bridges, veth pairs and each container's netns, read over netlink."],
  "help.layers": ["레이어 디렉터리에서 읽었습니다. 레이어를 누르면 파일 목록이 열립니다.", "Read from the layer directories. Click a layer to list its files."],
  "layers.all": ["모든 이미지", "all images"],
  "layers.range": ["레이어 범위 비교", "Compare layers"],
  "layers.compare": ["비교", "compare"],
  "layers.wasted": ["낭비", "wasted"],
  "layers.why.overwritten": ["레이어 {by}에서 덮어씀", "overwritten by layer {by}"],
  "layers.why.deleted": ["레이어 {by}에서 지움", "deleted by layer {by}"],
  "layers.why.hidden": ["레이어 {by}의 불투명 디렉터리가 가림", "hidden by an opaque dir in layer {by}"],
  "layers.images": ["이미지", "Images"],
  "layers.containers": ["컨테이너", "Containers"],
  "status.created": ["만들어짐", "created"],
  "status.running": ["실행 중", "running"],
  "status.exited": ["종료됨", "exited"],
  "status.removing": ["삭제 중", "removing"],
  "error.0": ["서버에 연결할 수 없습니다 (onggi serve 가 실행 중인지 확인하세요)", "cannot reach the server (is onggi serve running?)"],
  "error.400": ["입력이 올바르지 않습니다", "Bad request"],
  "error.401": ["토큰이 없거나 틀립니다", "Missing or wrong token"],
  "error.404": ["찾을 수 없습니다", "Not found"],
  "error.409": ["지금 상태에서는 할 수 없습니다", "Not possible in the current state"],
  "error.500": ["서버 오류", "Server error"],
  "error.501": ["이 호스트에서는 지원하지 않습니다", "Not supported on this host"],
  "error.502": ["레지스트리가 거절했거나 응답하지 않습니다", "The registry refused or failed"],
  "error.503": ["이 호스트에서는 지금 할 수 없습니다", "Not possible on this host now"],
  "layers.nochanges": ["변경 없음", "no changes"],
  "step.title": ["실제 컨테이너 실행을 한 단계씩", "A real launch, one step at a time"],
  "step.room": ["방 이름", "Room"],
  "step.start": ["시작", "Start"],
  "step.join": ["이 방 지켜보기", "Watch this room"],
  "step.back": ["◀ 이전", "◀ Back"],
  "step.next": ["다음 단계 실행 ▶", "Run next step ▶"],
  "step.forward": ["앞으로 ▶▶", "Forward ▶▶"],
  "step.cancel": ["취소 (모두 정리)", "Cancel (clean up)"],
  "step.report": ["커널이 보여 주는 것 (보고서)", "What the kernel shows (report)"],
  "step.cannot_undo": ["이전 화면을 보고 있을 뿐입니다. 커널에서 이미 한 일은 되돌릴 수 없습니다.", "You are looking at an earlier snapshot. The kernel cannot undo what a step already did."],
  "step.before": ["실행 전", "before"],
  "step.after": ["실행 후", "after"],
  "step.status.starting": ["준비 중", "starting"],
  "step.status.paused": ["멈춤: 다음을 누르세요", "paused: press Next"],
  "step.status.running": ["실행 중", "running"],
  "step.status.started": ["완료: 컨테이너가 실행 중입니다", "done: the container runs"],
  "step.status.cancelled": ["취소됨: 만든 것을 모두 지웠습니다", "cancelled: everything made was removed"],
  "step.status.failed": ["실패", "failed"],
  "step.watching": ["지켜보는 중 (진행은 강사가 합니다)", "watching (the instructor drives)"],
  "step.status.waiting": ["멈춤: 강사가 다음 단계를 실행하기를 기다립니다", "paused: waiting for the instructor"],
  "term.container": ["실행 중인 컨테이너", "Running container"],
  "term.exec": ["접속 (exec -it sh)", "Attach (exec -it sh)"],
  "term.or": ["또는", "or"],
  "term.run": ["새로 실행 (run -it sh)", "Run new (run -it sh)"],
  "term.close": ["닫기", "Close"],
  "term.exited": ["세션이 끝났습니다", "session ended"],
  "term.none": ["(실행 중인 컨테이너 없음)", "(no running container)"],
  "lessons.title": ["강의", "Lessons"],
  "lessons.soon": ["강의는 곧 이곳에 올라옵니다. 지금은 실시간 보기, 한 단계씩 실행, 터미널을 써 보세요.", "Lessons arrive here soon. Meanwhile, try Live, Step-through and Terminal."],
  "lessons.back": ["실시간 보기로 돌아가기", "Back to Live"],
  "sim.title": ["모의 실행 (simulated)", "Simulated (모의 실행)"],
  "sim.note": ["그림과 결과는 모두 모형에서 나온 것이며, 커널에는 아무것도 만들지 않습니다.",
               "Every view and result comes from a model; nothing is made in the kernel."],
};

const listeners = [];

export function lang() {
  const saved = localStorage.getItem("onggi.lang");
  return saved === "en" ? "en" : "ko";
}

// t("layers.why.deleted", { by: 2 }): words order differently in Korean and English,
// so a number goes where its language puts it rather than being glued on after.
export function t(key, params) {
  const pair = STRINGS[key];
  if (!pair) return key;
  const text = lang() === "en" ? pair[1] : pair[0];
  return params ? text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m)) : text;
}

export function apply(root = document) {
  document.documentElement.lang = lang();
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  // Text the server gives in both languages (the simulated banner's reason).
  for (const el of root.querySelectorAll("[data-ko][data-en]")) {
    el.textContent = lang() === "en" ? el.dataset.en : el.dataset.ko;
  }
  const toggle = document.getElementById("lang-toggle");
  if (toggle) toggle.textContent = lang() === "en" ? "한국어" : "English";
}

export function setLang(value) {
  localStorage.setItem("onggi.lang", value);
  apply();
  for (const fn of listeners) fn(value);
}

export function onLang(fn) { listeners.push(fn); }
