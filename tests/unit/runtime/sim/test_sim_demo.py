"""The chroot demo on the simulated host: the chroot sees the host's processes, hostname and
network devices; the container sees its own; nothing is left behind."""
from runtime.sim.demo import HOST_PROCESSES, SERVE_PID, chroot_vs_namespaces


def test_chroot_fences_only_files_while_namespaces_fence_the_rest(sim, started):
    other = started(name="other", network="bridge")           # a container is a host process too
    result = chroot_vs_namespaces(sim)
    chroot, container, host = result["chroot"], result["container"], result["host"]
    assert result["simulated"] is True and host["pid"] == SERVE_PID
    assert chroot["sees_host_processes"] and chroot["hostname_is_host"] and chroot["sees_host_interfaces"]
    assert sim.truth.host_pid("other") in chroot["pids"] and chroot["processes"] > len(HOST_PROCESSES)
    assert set(chroot["interfaces"]) >= {"lo", "eth0", "onggi0"}
    assert chroot["files"] == container["files"] and "bin" in chroot["files"] and not chroot["sees_host_files"]
    assert container["pids"] == [1] and not container["sees_host_processes"]
    assert container["hostname"] == container["id"][:12] and not container["hostname_is_host"]
    assert container["interfaces"] == ["lo"] and not container["sees_host_interfaces"]
    assert "1 root     sh -c echo '@@files'; ls -1 /;" in container["output"]   # PID 1 is the script
    assert [c.name for c in sim.ps(all=True)] == [other.name]                # the demo's is gone


def test_proc_net_dev_lists_the_namespaces_devices(sim, started):
    c = started(name="c", network="bridge")
    code, out = c.exec_output(["cat", "/proc/net/dev"])
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith("Inter-|") and [ln.split(":")[0].strip() for ln in lines[2:]] == \
        ["lo", "eth0"]
