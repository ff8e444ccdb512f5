"""The named steps of a launch, and what each one asks of the kernel.

Each step does one kernel thing and then reports what the kernel now shows
(``launch.py``). The texts here are what a learner reads when a step-through
pauses, in the terminal (``onggi run --step``) and in the browser: one short
explanation per language, and the syscalls behind it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    name: str
    syscalls: str
    en: str
    ko: str

    def text(self, lang: str = "en") -> str:
        return self.ko if lang.startswith("ko") else self.en


STEPS = (
    Step("rootfs", "mount(\"overlay\", merged, \"overlay\", 0, \"lowerdir=...,upperdir=...,workdir=...\")",
         "Stack the image's read-only layers (lowerdir) under an empty writable layer "
         "(upperdir) with one overlay mount: the container's root filesystem.",
         "이미지의 읽기 전용 레이어(lowerdir)들 위에 비어 있는 쓰기 레이어(upperdir)를 "
         "얹어 overlay 마운트 하나로 합칩니다. 이것이 컨테이너의 루트 파일시스템입니다."),
    Step("cgroup", "mkdir /sys/fs/cgroup/.../onggi/ID; write memory.max, cpu.max, pids.max "
         "(cgroup v1: memory.limit_in_bytes, cpu.cfs_quota_us, pids.max)",
         "Make the container's control group (cgroup) and write its limits into the "
         "kernel's files: how much memory, how much CPU time, how many processes.",
         "컨테이너 전용 컨트롤 그룹(cgroup)을 만들고 커널 파일에 한도를 적습니다. "
         "메모리는 얼마까지, CPU 시간은 얼마까지, 프로세스는 몇 개까지 쓸 수 있는지 정합니다."),
    Step("namespaces", "clone(CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET); "
         "unshare(CLONE_NEWCGROUP)",
         "Create the container's first process inside new namespaces: it gets its own "
         "process numbers, mounts, hostname, IPC and network. Once it is in its cgroup it "
         "unshares a cgroup namespace too (its cgroup looks like /). It waits for the next steps.",
         "새 네임스페이스(namespace) 안에 컨테이너의 첫 프로세스를 만듭니다. 프로세스 번호, "
         "마운트, 호스트 이름, IPC, 네트워크를 따로 갖게 됩니다. cgroup에 들어간 뒤에는 cgroup "
         "네임스페이스도 새로 만들어 자기 cgroup이 / 로 보입니다. 다음 단계까지 기다립니다."),
    Step("network", "ip link add vethX master onggi0 type veth peer name eth0 netns PID; "
         "ip addr add ... dev eth0; ip route add default via GATEWAY",
         "Wire the network namespace: loopback up, and on a bridge network a virtual cable "
         "(a veth pair) from the host's bridge into the container, with an address and a route.",
         "네트워크 네임스페이스를 연결합니다. 루프백(lo)을 켜고, 브리지 네트워크라면 가상 랜선"
         "(veth 쌍)의 한쪽은 호스트의 브리지에, 다른 쪽은 컨테이너 안 eth0으로 꽂고 주소와 경로를 줍니다."),
    Step("mounts", "mount(\"proc\", ...); mount(\"sysfs\", ..., MS_RDONLY); pivot_root(\".\", \".\")",
         "Inside the container's mount namespace: a fresh /proc, a read-only /sys, a small "
         "/dev, hidden host paths, then pivot_root makes the overlay the new /.",
         "컨테이너의 마운트 네임스페이스 안에서 새 /proc, 읽기 전용 /sys, 최소한의 /dev를 "
         "마운트하고 호스트 정보를 가린 뒤, pivot_root로 overlay를 새 루트(/)로 바꿉니다."),
    Step("exec", "sethostname(); prctl(PR_CAPBSET_DROP); prctl(PR_SET_NO_NEW_PRIVS); execve()",
         "Set the hostname, drop the capabilities a container should not have, forbid "
         "gaining new privileges, and replace the waiting process with your command (PID 1).",
         "호스트 이름을 정하고, 컨테이너에 필요 없는 권한(capability)을 버리고, 새 권한을 "
         "얻지 못하게 막은 뒤, 기다리던 프로세스를 여러분의 명령으로 바꿉니다(PID 1)."),
)
NAMES = tuple(s.name for s in STEPS)
BY_NAME = {s.name: s for s in STEPS}
