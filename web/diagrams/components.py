"""The components view: Docker's parts and what onggi really has of each.

Client -> Engine -> Registry are real here: the client is the ``onggi`` CLI (or
this page), the engine is onggi's runtime (live counts of its containers,
images and networks, read now), the registry is the classroom registry the
server starts (its repositories, asked of it with ``GET /v2/_catalog``).
Compose, Machine and Swarm are drawn dashed and marked *simulated*: onggi has
none of them; after a lesson's ``simulate: {scenario: compose, do: up}`` the
project Compose would make (its network and one container per service, from
the lesson folder's compose.yaml) hangs under the engine, simulated.
Query: ``component=engine`` (client, engine, registry, compose, machine, swarm)
to highlight one; ``result=ID``, the Compose simulation's state.
"""
from __future__ import annotations

from .html import HEAD, NOTE, OWN, PALE, cell, mark_simulated, new_graph, row, table

PARTS = ("client", "engine", "registry", "compose", "machine", "swarm")
REAL = ("client", "engine", "registry")
MAX_REPOS = 5                   # repository names listed in the registry's box
W = {
    "client": ("클라이언트", "client"),
    "client_is": ("onggi CLI · 이 브라우저 (docker 명령)", "the onggi CLI · this page (the docker command)"),
    "engine": ("엔진 (Engine)", "Engine"),
    "engine_is": ("onggi 런타임 (dockerd + containerd + runc 역할)", "onggi's runtime (dockerd + containerd + runc)"),
    "registry": ("레지스트리 (Registry)", "Registry"),
    "registry_is": ("교실 레지스트리 localhost:5000", "the classroom registry localhost:5000"),
    "compose": ("Compose", "Compose"),
    "compose_is": ("compose.yaml 하나로 여러 컨테이너", "many containers from one compose.yaml"),
    "machine": ("Machine", "Machine"),
    "machine_is": ("엔진이 설치된 호스트(VM)를 만듦", "makes hosts (VMs) with an Engine"),
    "swarm": ("Swarm", "Swarm"),
    "swarm_is": ("여러 호스트를 하나처럼", "many hosts as one"),
    "running": ("실행 중", "running"),
    "containers": ("컨테이너", "containers"),
    "images": ("이미지", "images"),
    "networks": ("사용자 네트워크", "user networks"),
    "repositories": ("저장소 (repository)", "repositories"),
    "no_registry": ("실행 중이 아님", "not running"),
    "simulated": ("모의 (simulated): onggi에는 없습니다", "simulated: onggi has none"),
    "real": ("실제", "real"),
    "api": ("REST API", "REST API"),
    "push_pull": ("push / pull", "push / pull"),
    "project": ("프로젝트", "project"),
    "network_sim": ("네트워크 (모의)", "network (simulated)"),
    "container_sim": ("컨테이너 (모의)", "container (simulated)"),
    "title": ("Docker의 구성 요소", "Docker's components"),
    "sim_runtime": ("모의 실행 중인 onggi", "onggi runs simulated"),
}


def w(key, lang):
    ko, en = W[key]
    return en if lang == "en" else ko


def collect(rt, scans, query) -> dict:
    from web.lessons.progress import read_result
    containers = rt.ps(all=True)
    images = rt.images.list()
    counts = {
        "running": sum(1 for c in containers if c.state.status.value == "running"),
        "containers": len(containers),
        "images": len(images),
        "networks": sum(1 for n in rt.networks.list() if not n.builtin),
    }
    compose = None
    found = read_result(rt.config.root / "lessons.sqlite", query.get("result"))
    if found and found["kind"] == "simulate" and found["data"].get("scenario") == "compose":
        compose = found["data"].get("state")
    highlight = query.get("component") if query.get("component") in PARTS else None
    return {"counts": counts, "repositories": _repositories(rt), "highlight": highlight, "compose": compose,
            "simulated_runtime": bool(getattr(rt, "simulated", False))}


def _repositories(rt) -> list[str] | None:
    """What the classroom registry holds now (None: no registry runs)."""
    import json
    if getattr(rt, "simulated", False):
        status, body, _ = rt.registry.http_get("/v2/_catalog", {})
        return sorted(json.loads(body)["repositories"]) if status == 200 else None
    from runtime.image.registry.local import announced, catalog
    address = announced(rt.config.run)
    return catalog(address) if address else None


def _box(key, lang, lines, *, highlight, real):
    head = HEAD if real else PALE
    if highlight == key:
        head = "#f6d28b"
    rows = [row(cell(w(key, lang), bold=True, bg=head, id=f"cmp-{key}-title", size=13)),
            row(cell(w(f"{key}_is", lang), size=10))]
    for n, text in enumerate(lines):
        rows.append(row(cell(text, mono=True, id=f"cmp-{key}-{n}", size=10)))
    rows.append(row(cell(w("real", lang) if real else w("simulated", lang), size=9,
                         bg=OWN if real else NOTE, id=f"cmp-{key}-kind")))
    return table(rows, border=3 if highlight == key else 0, cellborder=1)


def draw(model, lang="ko"):
    g = new_graph("components", rankdir="LR", lang=lang)
    title = w("title", lang) + (f" · {w('sim_runtime', lang)}" if model.get("simulated_runtime") else "")
    g.attr(label=title, labelloc="t", fontsize="14")
    if model.get("simulated_runtime"):
        mark_simulated(g, lang)
    c = model["counts"]
    hi = model.get("highlight")
    g.node("cmp-client", id="cmp-client", label=_box("client", lang, ["onggi run / ps / build"], highlight=hi,
                                                     real=True))
    g.node("cmp-engine", id="cmp-engine", label=_box("engine", lang, [
        f"{w('containers', lang)}: {c['running']} {w('running', lang)} / {c['containers']}",
        f"{w('images', lang)}: {c['images']}", f"{w('networks', lang)}: {c['networks']}"],
        highlight=hi, real=True))
    repos = model.get("repositories")
    shown = [w("no_registry", lang)] if repos is None else [f"{w('repositories', lang)}: {len(repos)}"] + [
        *repos[:MAX_REPOS]] + (["…"] if len(repos) > MAX_REPOS else [])
    g.node("cmp-registry", id="cmp-registry", label=_box("registry", lang, shown, highlight=hi, real=True))
    g.edge("cmp-client", "cmp-engine", label=w("api", lang), penwidth="2", id="cmp-edge-api")
    g.edge("cmp-engine", "cmp-registry", label=w("push_pull", lang), dir="both", penwidth="2", id="cmp-edge-registry")
    for key in ("compose", "machine", "swarm"):
        g.node(f"cmp-{key}", id=f"cmp-{key}", label=_box(key, lang, [], highlight=hi, real=False))
    g.edge("cmp-compose", "cmp-engine", style="dashed", id="cmp-edge-compose")
    g.edge("cmp-machine", "cmp-engine", style="dashed", label="docker-machine env", id="cmp-edge-machine")
    g.edge("cmp-swarm", "cmp-engine", style="dashed", id="cmp-edge-swarm")
    compose = model.get("compose")
    if compose and compose.get("up"):
        project = compose.get("project") or "app"
        net = f"{project}_default"
        g.node("cmp-proj-net", id="cmp-proj-net", label=table([
            row(cell(net, mono=True, bold=True, bg=NOTE)), row(cell(w("network_sim", lang), size=9))]))
        g.edge("cmp-engine", "cmp-proj-net", style="dashed", id="cmp-edge-proj")
        for s in compose.get("services") or []:
            node = f"cmp-proj-{s['name']}"
            ports = ", ".join(s.get("ports") or [])
            g.node(node, id=node, label=table([
                row(cell(f"{project}-{s['name']}-1", mono=True, bold=True, bg=NOTE)),
                row(cell(f"{s.get('image', '')}" + (f"  {ports}" if ports else ""), mono=True, size=9)),
                row(cell(w("container_sim", lang), size=9))]))
            g.edge("cmp-proj-net", node, style="dashed", arrowhead="none")
    return g
