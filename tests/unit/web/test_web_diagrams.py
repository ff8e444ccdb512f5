"""Each view drawn from a hand-made model: stable ids, both languages, what the kernel said."""
import html
import re

import pytest

from web.diagrams import to_svg as _to_svg
from web.diagrams import cgroups, layers, namespaces, network

CID = "ab" * 32
HOST = {"pid": 1, "ns": {k: 4026531830 + i for i, k in enumerate(
    ("pid", "mnt", "uts", "ipc", "net", "cgroup", "user", "time"))}}


def to_svg(graph) -> str:
    """The SVG with dot's entities (it writes - as &#45;) decoded, as a browser reads it."""
    return html.unescape(_to_svg(graph))


def ids(svg: str) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', svg))


def ns_model(pid_inode=4026532001, cmd="sleep 60"):
    ns = dict(HOST["ns"], pid=pid_inode, mnt=4026532002, net=4026532003)
    return {"host": HOST, "containers": [{"id": CID, "name": "web", "ns": ns, "more": 0, "root": "overlay",
                                          "caps": {"effective": 14, "all": 41, "no_new_privs": True},
                                          "procs": [{"pid": 4242, "nspid": [4242, 1], "cmd": cmd}]}]}


@pytest.mark.parametrize("lang,own,shared", [("ko", "새로 만듦", "호스트와 공유"), ("en", "own", "shared with host")])
def test_namespaces_marks_own_and_shared(lang, own, shared):
    svg = to_svg(namespaces.draw(ns_model(), lang))
    assert own in svg and shared in svg
    assert "4242 → 1" in svg and "4026532001" in svg
    assert {"ns-host", f"ns-{CID[:12]}", f"a_ns-{CID[:12]}-pid", f"a_ns-{CID[:12]}-net"} <= ids(svg)


def test_namespaces_ids_are_stable_and_text_follows_the_kernel():
    a = to_svg(namespaces.draw(ns_model(), "en"))
    b = to_svg(namespaces.draw(ns_model(pid_inode=4026532999, cmd="sh"), "en"))
    assert ids(a) == ids(b)
    assert "4026532999" in b and "4026532001" not in b


def test_namespaces_without_containers_says_so():
    svg = to_svg(namespaces.draw({"host": HOST, "containers": []}, "ko"))
    assert "실행 중인 컨테이너가 없습니다" in svg


def cg_model(oom=0):
    stats = {"memory_current": 32 << 20, "memory_max": 64 << 20, "pids_current": 3, "pids_max": 10,
             "cpu_usage_ns": 1_500_000_000, "cpu_nr_throttled": 7, "oom_kills": oom}
    return {"parent": "/onggi", "version": "v2", "children": [
        {"name": CID, "path": f"/onggi/{CID}", "procs": [4242], "stats": stats, "container": "web",
         "limits": {"memory": 64 << 20, "cpu_quota": 50000, "cpu_period": 100000, "pids": 10}, "children": []}]}


def test_cgroups_gauges_and_oom_class():
    svg = to_svg(cgroups.draw(cg_model(), "en"))
    assert "32.0 MiB / 64.0 MiB" in svg and "3 / 10" in svg and "1.50 s" in svg and "0.50 CPU" in svg
    assert 'class="node oom"' not in svg
    assert {f"cg-{CID[:12]}", f"a_cg-{CID[:12]}-memory", f"a_cg-{CID[:12]}-pids"} <= ids(svg)
    oom = to_svg(cgroups.draw(cg_model(oom=1), "ko"))
    assert "oom" in re.search(r'<g id="cg-abababababab" class="([^"]+)"', oom).group(1)
    assert "OOM 강제 종료: 1" in oom


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_cgroups_gauge_rows_have_distinct_labels(lang):
    from web.diagrams.text import t
    labels = [t(k, lang) for k in ("memory", "pids", "cpu", "throttled", "procs")]
    assert len(set(labels)) == len(labels), labels
    svg = to_svg(cgroups.draw(cg_model(), lang))
    assert all(label in svg for label in labels)


def test_network_draws_bridge_veth_and_container_end():
    model = {"networks": [], "bridges": [{"name": "onggi0", "ifindex": 3, "mac": "", "state": "up",
                                           "addresses": ["10.88.0.1/16"], "network": "bridge"}],
             "veths": [{"name": "veth1a2b", "ifindex": 9, "bridge": "onggi0", "alias": CID, "container": CID,
                        "peer_ifindex": 2}],
             "containers": [{"id": CID, "name": "web", "pid": 4242, "netns_inode": 4026532003,
                             "network_mode": "bridge", "routes": [{"dst": "default", "gateway": "10.88.0.1", "dev": "eth0"}],
                             "interfaces": [{"name": "eth0", "ifindex": 2, "mac": "", "addresses": ["10.88.0.2/16"],
                                             "state": "up", "peer_ifindex": 9}]}],
             "ports": [{"container": CID, "host_ip": "0.0.0.0", "host_port": 8080, "port": 80, "proto": "tcp"}]}
    svg = to_svg(network.draw(model, "en"))
    assert "bridge onggi0" in svg and "10.88.0.2/16" in svg and "0.0.0.0:8080 → 80/tcp" in svg
    assert {"net-br-onggi0", "net-veth-9", f"net-c-{CID[:12]}", "net-cable-9"} <= ids(svg)


def test_network_without_the_topology_reader_says_so():
    svg = to_svg(network.draw({"unavailable": "no module"}, "ko"))
    assert "네트워크 정보를 읽을 수 없습니다" in svg


def test_layers_stack_shows_changes_and_waste():
    model = {"mode": "stack", "title": "app:1", "merged": None, "layers": [
        {"index": 0, "kind": "image", "node_id": "layer-aaaaaaaaaaaa", "diff_id": "sha256:" + "a" * 64,
         "created_by": "ADD rootfs.tar /", "images": ["app:1", "app:2"], "containers": [], "dir": "/x",
         "size": 5000, "files": 3, "counts": {"A": 3, "M": 0, "D": 0}, "wasted_bytes": 4096},
        {"index": 1, "kind": "image", "node_id": "layer-bbbbbbbbbbbb", "diff_id": "sha256:" + "b" * 64,
         "created_by": "/bin/sh -c rm /big", "images": ["app:1"], "containers": ["web"], "dir": "/y",
         "size": 0, "files": 1, "counts": {"A": 0, "M": 0, "D": 1}, "wasted_bytes": 0}]}
    svg = to_svg(layers.draw(model, "en"))
    assert "wasted: 4.0 KiB" in svg and "-1 deleted" in svg and "RUN rm /big" in svg
    assert "shared by: 2 images" in svg
    assert {"layer-aaaaaaaaaaaa", "layer-bbbbbbbbbbbb", "a_layer-aaaaaaaaaaaa-wasted"} <= ids(svg)


def test_layers_show_the_dockerfile_line_once_for_buildkit_style_history():
    # onggi's builder (and Docker since BuildKit) record "RUN /bin/sh -c X": the view said "RUN RUN X".
    model = {"mode": "stack", "title": "app:1", "merged": None, "layers": [
        {"index": 0, "kind": "image", "node_id": "layer-aaaaaaaaaaaa", "diff_id": "sha256:" + "a" * 64,
         "created_by": "RUN /bin/sh -c rm /big", "images": ["app:1"], "containers": [], "dir": "/x",
         "size": 0, "files": 1, "counts": {"A": 0, "M": 0, "D": 1}, "wasted_bytes": 0}]}
    svg = to_svg(layers.draw(model, "en"))
    assert "RUN rm /big" in svg and "RUN RUN" not in svg
    overview = {"mode": "overview", "sizes": {"a" * 64: 10}, "containers": [],
                "images": [{"id": "sha256:" + "c" * 64, "label": "app:1", "tags": ["app:1"],
                            "layers": ["a" * 64], "made_by": ["RUN /bin/sh -c echo hi"]}]}
    svg = to_svg(layers.draw(overview, "ko"))
    assert "RUN echo hi" in svg and "RUN RUN" not in svg


def test_layers_overview_says_a_containers_status_in_the_pages_language():
    model = {"mode": "overview", "sizes": {"a" * 64: 10},
             "images": [{"id": "sha256:" + "c" * 64, "label": "app:1", "tags": ["app:1"],
                         "layers": ["a" * 64], "made_by": [""]}],
             "containers": [{"id": CID, "name": "web", "image_id": "x", "status": "running",
                             "top": "a" * 64, "upper_size": 0},
                            {"id": "cd" * 32, "name": "old", "image_id": "x", "status": "exited",
                             "top": "a" * 64, "upper_size": 0}]}
    ko = to_svg(layers.draw(model, "ko"))
    assert "실행 중" in ko and "종료됨" in ko and "running" not in ko and "exited" not in ko
    en = to_svg(layers.draw(model, "en"))
    assert "running" in en and "exited" in en


def test_layers_shared_counts_read_as_korean():
    model = {"mode": "stack", "title": "app:1", "merged": None, "layers": [
        {"index": 0, "kind": "image", "node_id": "layer-aaaaaaaaaaaa", "diff_id": "sha256:" + "a" * 64,
         "created_by": "", "images": ["app:1", "app:2"], "containers": ["web", "db", "x"], "dir": "/x",
         "size": 0, "files": 1, "counts": {"A": 1, "M": 0, "D": 0}, "wasted_bytes": 0}]}
    ko = to_svg(layers.draw(model, "ko"))
    assert "이미지 2개, 컨테이너 3개가 함께 씀" in ko      # not "공유: 2 이미지, 3 컨테이너"
    assert "shared by: 2 images, 3 containers" in to_svg(layers.draw(model, "en"))
    model["layers"][0]["containers"] = ["web"]             # one is not "1 containers"
    assert "shared by: 2 images, 1 container" in to_svg(layers.draw(model, "en"))
    model["layers"][0]["images"] = ["app:1"]
    assert "shared by: 1 image, 1 container" in to_svg(layers.draw(model, "en"))


def _node_y(svg: str, node: str) -> float:
    """Where dot put NODE: the y of its first text line."""
    block = svg[svg.index(f'<g id="{node}" class="node'):]
    return float(re.search(r'<text [^>]*y="([-\d.]+)"', block).group(1))


def test_cgroups_many_containers_wrap_into_rows_and_paths_stay_short():
    # Twenty containers in one row were drawn so small that nobody could read a gauge.
    one = cg_model()["children"][0]
    ids_ = [f"{i:02d}" * 32 for i in range(7)]
    model = {"parent": "/onggi", "version": "v2",
             "children": [dict(one, name=cid, path=f"/onggi/{cid}") for cid in ids_]}
    svg = to_svg(cgroups.draw(model, "en"))
    ys = [_node_y(svg, f"cg-{cid[:12]}") for cid in ids_]
    assert len(set(ys[:3])) == 1, ys                      # the first row, side by side
    assert ys[3] > ys[0] and ys[6] > ys[3], ys            # then the next rows, each further down
    assert f"/onggi/{ids_[0][:12]}…" in svg and f">/onggi/{ids_[0]}<" not in svg
    assert f'title="/onggi/{ids_[0]}"' in svg             # the whole path is the tooltip


def test_layers_merged_mountpoint_is_short_with_the_whole_path_as_tooltip():
    # The mountpoint (root, containers/, 64 hex digits, merged) ran past the right edge of its cell.
    mountpoint = f"/var/lib/onggi/containers/{CID}/merged"
    model = {"mode": "stack", "title": "web", "layers": [],
             "merged": {"mountpoint": mountpoint, "mounted": True, "node_id": f"layer-{CID[:12]}-merged"}}
    svg = to_svg(layers.draw(model, "en"))
    assert f">/var/lib/onggi/containers/{CID[:12]}…/merged<" in svg
    assert f">{mountpoint}<" not in svg
    assert f'title="{mountpoint}"' in svg


def test_namespaces_long_command_is_short_with_the_whole_line_as_tooltip():
    # During a step-through the container's process is still onggi's launcher, waiting on its pipe:
    # "/work/main/.venv/bin/python -m runtime.c" (cut at 40, no mark) ran past its cell.
    cmd = "/opt/onggi/.venv/bin/python -m runtime.container.monitor 7 /var/lib/onggi/containers/x"
    svg = to_svg(namespaces.draw(ns_model(cmd=cmd), "en"))
    shown = re.search(rf'id="a_ns-{CID[:12]}-cmd-0".*?<text[^>]*>([^<]*)<', svg, re.S).group(1)
    assert shown.startswith("python -m runtime.") and shown.endswith("…") and len(shown) <= 28, shown
    assert f'title="{cmd}"' in svg
    assert ">sleep 60<" in to_svg(namespaces.draw(ns_model(), "en"))      # a short one stays whole


def test_layers_overview_wraps_many_containers_into_rows():
    # Eight containers on one row above the image were drawn too small to read a name.
    ids_ = [f"{i:02d}" * 32 for i in range(9)]
    model = {"mode": "overview", "sizes": {"a" * 64: 10},
             "images": [{"id": "sha256:" + "c" * 64, "label": "app:1", "tags": ["app:1"],
                         "layers": ["a" * 64], "made_by": [""]}],
             "containers": [{"id": cid, "name": f"c{i}", "image_id": "x", "status": "running",
                             "top": "a" * 64, "upper_size": 0} for i, cid in enumerate(ids_)]}
    svg = to_svg(layers.draw(model, "en"))
    ys = [_node_y(svg, f"layer-{cid[:12]}-upper") for cid in ids_]
    assert len(set(ys[:4])) == 1, ys                      # the first row, side by side
    assert ys[4] < ys[0] and ys[8] < ys[4], ys            # then the next rows, each further up
