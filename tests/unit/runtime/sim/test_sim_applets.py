"""The tiny shell's applets in a simulated container, against what busybox 1.35 prints in a real
onggi container (the shapes below were copied from real runs)."""
import re
import time


def test_top_bn1_prints_one_screen_with_the_cpu_quota_applied(sim, started):
    # Real, two CPUs, --cpus 0.2:  "CPU:  10% usr ..." and the loop at "  10%"; `top -bn1` (the
    # flags run together) is one screen and exits 0, as `top -b -n 1` is.
    c = started("sh", "-c", "while :; do :; done", cpus=0.2)
    share = 20 / sim.host["ncpu"]
    for argv in (["top", "-bn1"], ["top", "-b", "-n", "1"], ["top", "-n1"]):
        code, out = c.exec_output(argv, timeout=3)
        assert code == 0, (argv, out)
        lines = out.splitlines()
        assert lines[1] == f"CPU:{share:4.0f}% usr   0% sys   0% nic{100 - share:4.0f}% idle   0% io   0% irq   0% sirq"
        assert lines[3] == "  PID  PPID USER     STAT   VSZ %VSZ %CPU COMMAND"
        assert lines[4] == f"    1     0 root     R     2268   0% {share:3.0f}% sh -c while :; do :; done"


def test_top_without_a_count_keeps_running_until_stopped(sim, started):
    c = started()
    code, out = c.exec_output(["top", "-b"], timeout=0.3)
    assert code == 137 and out.startswith("Mem: ")


def test_uptime_is_busyboxs_shape(sim, started):
    c = started()
    sim.boot_time = time.time() - (3 * 3600 + 7 * 60 + 5)
    _, out = c.exec_output(["uptime"])
    assert re.fullmatch(r" \d\d:\d\d:\d\d up  3:07,  0 users,  load average: \d\.\d\d, \d\.\d\d, \d\.\d\d\n", out)
    sim.boot_time = time.time() - (7 * 60 + 5)
    _, out = c.exec_output(["uptime"])
    assert " up 7 min,  0 users," in out


def test_hostname_i_prints_the_containers_address_not_its_name(sim, started):
    c = started(network="bridge", name="web")
    ip = c.inspect()["NetworkSettings"]["IPAddress"]
    assert c.exec_output(["hostname", "-i"]) == (0, ip + "\n")
    assert c.exec_output(["hostname", "-d"]) == (0, "")
    alone = started(network="none", name="alone")
    host = alone.inspect()["Config"]["Hostname"]
    assert alone.exec_output(["hostname", "-i"]) == (1, f"hostname: {host}: Host name lookup failure\n")


def test_route_and_netstat_answer_as_busybox_does(sim, started):
    c = started(network="bridge", name="web")
    gw = c.inspect()["NetworkSettings"]["Gateway"]
    net = gw.rsplit(".", 2)[0]
    code, out = c.exec_output(["route"])
    assert code == 0 and out.splitlines() == [
        "Kernel IP routing table",
        "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface",
        f"default         {gw:<15} 0.0.0.0         UG    0      0        0 eth0",
        f"{net + '.0.0':<15} *               255.255.0.0     U     0      0        0 eth0"]
    assert f"0.0.0.0         {gw:<15} 0.0.0.0         UG        0 0          0 eth0" in \
        c.exec_output(["netstat", "-rn"])[1]
    code, out = c.exec_output(["sh", "-c", "httpd -p 8000; netstat -tln"])
    assert code == 0 and out.splitlines() == [
        "Active Internet connections (only servers)",
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       ",
        "tcp        0      0 :::8000                 :::*                    LISTEN      "]
    code, out = c.exec_output(["netstat", "-tlnp"])
    assert code == 1 and out.startswith("netstat: invalid option -- 'p'\nBusyBox v1.35.0")
    assert c.exec_output(["route", "add", "default", "gw", "1.2.3.4"]) == \
        (1, "route: SIOCADDRT: Operation not permitted\n")


def test_ifconfig_and_ip_addr_show_what_busybox_shows(sim, started):
    c = started(network="bridge", name="web")
    code, out = c.exec_output(["ifconfig"])
    blocks = out.split("\n\n")
    assert code == 0 and blocks[0].startswith("eth0      Link encap:Ethernet  HWaddr 02:42:")
    assert re.search(r"inet addr:10\.\d+\.0\.2  Bcast:10\.\d+\.255\.255  Mask:255\.255\.0\.0\n", blocks[0])
    assert "UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1" in blocks[0]
    assert blocks[1].startswith("lo        Link encap:Local Loopback  \n")
    assert "UP LOOPBACK RUNNING  MTU:65536  Metric:1" in blocks[1]      # not lo at MTU 1500
    mac = c.inspect()["NetworkSettings"]["MacAddress"]
    assert mac == "02:42:" + mac[6:]
    _, out = c.exec_output(["ip", "addr"])
    assert "    inet6 ::1/128 scope host \n" in out
    assert re.search(r"    inet6 fe80::42:[0-9a-f]+:fe[0-9a-f]+:2/64 scope link \n", out)
    assert "inet6" not in c.exec_output(["ip", "-4", "addr"])[1]


def test_proc_self_ns_lists_the_namespace_links_the_lesson_asks_for(sim, started):
    # Lesson 3 runs `ls -l /proc/self/ns` in a container; it said "No such file or directory".
    c = started(network="bridge", name="jail")
    ns = c.inspect()["Namespaces"]
    code, out = c.exec_output(["ls", "-l", "/proc/self/ns"])
    lines = out.splitlines()
    assert code == 0 and lines[0] == "total 0" and len(lines) == 11
    assert re.fullmatch(r"lrwxrwxrwx    1 root     root             0 \w{3} [ \d]\d \d\d:\d\d pid -> pid:\[(\d+)\]",
                        lines[5])
    assert f"pid -> pid:[{ns['pid']['Inode']}]" in out and f"uts -> uts:[{ns['uts']['Inode']}]" in out
    assert f"user -> user:[{ns['user']['HostInode']}]" in out          # no user namespace: the host's
    assert c.exec_output(["readlink", "/proc/1/ns/net"]) == (0, f"net:[{ns['net']['Inode']}]\n")
    assert c.exec_output(["readlink", "/etc/hostname"])[0] == 1
    code, out = c.exec_output(["ls", "/proc/1"])
    assert code == 0 and {"ns", "status", "cmdline", "exe"} <= set(out.split())
    assert "/proc/1/exe -> /bin/sleep" in c.exec_output(["ls", "-l", "/proc/1/exe"])[1]


def test_nslookup_asks_the_dns_server_which_knows_no_container_names(sim, started):
    # Lesson 9: names live in /etc/hosts, which ping and wget read and nslookup does not. The
    # simulation answered "Server: 127.0.0.11 ... Address: 10.x" (Docker's DNS, which onggi has not).
    client = started(network="bridge", name="client")
    assert " client\n" in client.exec_output(["cat", "/etc/hosts"])[1]
    assert client.exec_output(["ping", "-c", "1", "client"])[0] == 0
    code, out = client.exec_output(["nslookup", "client"])
    assert code == 1 and out == ("Server:\t\t10.0.2.3\nAddress:\t10.0.2.3:53\n\n** server can't find client: "
                                 "NXDOMAIN\n\n** server can't find client: NXDOMAIN\n\n")


def test_wget_says_what_busybox_says_and_sees_a_server_started_on_the_same_line(sim, started):
    c = started(network="bridge", name="box")
    ip = c.inspect()["NetworkSettings"]["IPAddress"]
    code, out = c.exec_output(["sh", "-c", "mkdir /www; echo hi > /www/index.html; httpd -p 80 -h /www; "
                                           "wget -T 2 -O- http://box/; wget -S -O /dev/null http://box/nope"])
    assert out.splitlines() == [
        f"Connecting to box ({ip}:80)", "writing to stdout", "hi",
        "-                    100% |********************************|     3  0:00:00 ETA", "written to stdout",
        f"Connecting to box ({ip}:80)", "  HTTP/1.1 404 Not Found",
        "wget: server returned error: HTTP/1.1 404 Not Found"]
    assert code == 1
