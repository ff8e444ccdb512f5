"""The multihost view: several hosts, for Docker Machine and Swarm. Always simulated.

Nothing here is real and the picture says so: onggi has one host. It draws the
state a lesson's ``simulate`` actions built (``web.lessons.actions.simulate``):

* ``scenario=machine``: the learner's computer (the client and its own
  Engine), the hosts Machine made (each a VM with an Engine), and which Engine
  the client talks to (``docker-machine env``: where ``DOCKER_HOST`` points);
* ``scenario=swarm``: three hosts, a manager and workers after ``swarm init``,
  a service's tasks spread over the nodes, a host switched off and its tasks
  rescheduled on the others.

Query: ``scenario`` (machine, swarm) and ``result=ID``, the simulation's state
(without one, the scenario's starting picture).
"""
from __future__ import annotations

from .html import HEAD, NOTE, OWN, PALE, SHARED, WARN, cell, new_graph, row, table

W = {
    "simulated": ("모의 실행: 실제로 만든 것은 없습니다", "simulated: nothing here is real"),
    "mine": ("내 컴퓨터", "your computer"),
    "client": ("클라이언트 (docker)", "client (docker)"),
    "engine": ("Engine", "Engine"),
    "vm": ("VM (Machine이 만듦)", "VM (made by Machine)"),
    "talks": ("DOCKER_HOST", "DOCKER_HOST"),
    "manager": ("매니저 (manager)", "manager"),
    "worker": ("워커 (worker)", "worker"),
    "no_swarm": ("스웜 아님", "not in a swarm"),
    "down": ("꺼짐 (Down)", "Down"),
    "moved": ("다시 배치됨: 원래", "rescheduled from"),
    "task": ("작업 (task)", "task"),
    "no_hosts": ("아직 만든 호스트가 없습니다", "no hosts made yet"),
    "machine_title": ("Docker Machine", "Docker Machine"),
    "swarm_title": ("Docker Swarm", "Docker Swarm"),
}


def w(key, lang):
    ko, en = W[key]
    return en if lang == "en" else ko


def collect(rt, scans, query) -> dict:
    from web.lessons.progress import read_result
    scenario = query.get("scenario") if query.get("scenario") in ("machine", "swarm") else "machine"
    found = read_result(rt.config.root / "lessons.sqlite", query.get("result"))
    state = None
    if found and found["kind"] == "simulate" and found["data"].get("scenario") == scenario:
        state = found["data"].get("state")
    if state is None:
        state = {"hosts": [], "env": None} if scenario == "machine" else \
            {"hosts": ["host-1", "host-2", "host-3"], "manager": None, "tasks": [], "down": []}
    return {"scenario": scenario, "state": state}


def draw(model, lang="ko"):
    g = new_graph("multihost", rankdir="TB", lang=lang)
    title = w("machine_title" if model["scenario"] == "machine" else "swarm_title", lang)
    g.attr(label=f"{title}  ·  {w('simulated', lang)}", labelloc="t", fontsize="14", fontcolor="#8a4b2a")
    if model["scenario"] == "machine":
        _machine(g, model["state"], lang)
    else:
        _swarm(g, model["state"], lang)
    return g


def _engine(node_id, lang, extra=None, bg=HEAD):
    rows = [row(cell(w("engine", lang), bold=True, bg=bg, id=f"{node_id}-title"))]
    if extra:
        rows.append(row(cell(extra, size=9, id=f"{node_id}-note")))
    return table(rows)


def _machine(g, state, lang):
    target = state.get("env")
    with g.subgraph(name="cluster_mine") as mine:
        mine.attr(label=w("mine", lang), id="mh-mine", style="rounded", color="#999999")
        mine.node("mh-client", id="mh-client", label=table([row(cell(w("client", lang), bold=True, bg=OWN,
                                                                       id="mh-client-title"))]))
        mine.node("mh-mine-engine", id="mh-mine-engine", label=_engine("mh-mine-engine", lang))
    for host in state.get("hosts") or []:
        with g.subgraph(name=f"cluster_{host}") as c:
            c.attr(label=f"{host} · {w('vm', lang)}", id=f"mh-{host}", style="rounded,dashed", color="#8a4b2a")
            c.node(f"mh-{host}-engine", id=f"mh-{host}-engine", label=_engine(f"mh-{host}-engine", lang, bg=NOTE))
    g.edge("mh-client", "mh-mine-engine", id="mh-edge-mine",
           **({"style": "dotted", "color": "#aaaaaa"} if target else {"penwidth": "2", "label": w("talks", lang)}))
    if target:
        g.edge("mh-client", f"mh-{target}-engine", id=f"mh-edge-{target}", penwidth="3", color="#2f6db5",
               label=f"{w('talks', lang)}={target}")
    if not state.get("hosts"):
        g.node("mh-empty", id="mh-empty", label=table([row(cell(w("no_hosts", lang), size=10))], cellborder=0))


def _swarm(g, state, lang):
    manager, down = state.get("manager"), set(state.get("down") or [])
    tasks = state.get("tasks") or []
    for host in state.get("hosts") or []:
        is_down = host in down
        role = (w("manager", lang) if host == manager else w("worker", lang)) if manager else w("no_swarm", lang)
        with g.subgraph(name=f"cluster_{host}") as c:
            c.attr(label=f"{host}", id=f"mh-{host}", style="rounded,filled" if is_down else "rounded",
                   fillcolor="#eeeeee", color="#999999" if is_down else ("#2f6db5" if host == manager else "#8a4b2a"))
            rows = [row(cell(w("engine", lang), bold=True, bg=SHARED if is_down else HEAD, id=f"mh-{host}-engine-title")),
                    row(cell(w("down", lang) if is_down else role, size=10, id=f"mh-{host}-role",
                             bg=WARN if is_down else (OWN if host == manager else PALE)))]
            c.node(f"mh-{host}-engine", id=f"mh-{host}-engine", label=table(rows))
            for t in tasks:
                if t["host"] != host:
                    continue
                node = f"mh-task-{t['name']}"
                lines = [row(cell(f"{t['name']}", mono=True, bold=True, bg=NOTE if t.get("moved_from") else OWN,
                                  id=f"{node}-name"))]
                if t.get("moved_from"):
                    lines.append(row(cell(f"{w('moved', lang)} {t['moved_from']}", size=9, id=f"{node}-moved")))
                c.node(node, id=node, label=table(lines))
                g.edge(f"mh-{host}-engine", node, arrowhead="none")
    if manager:
        for host in state.get("hosts") or []:
            if host != manager:
                g.edge(f"mh-{manager}-engine", f"mh-{host}-engine", style="dashed",
                       color="#bbbbbb" if host in down else "#2f6db5", id=f"mh-edge-{host}", constraint="false")
