"""The diagrams' words, Korean first and English second (``t(key, lang)``)."""
from __future__ import annotations

WORDS = {
    "host": ("호스트", "host"),
    "host_sub": ("onggi serve 프로세스의 네임스페이스", "namespaces of the onggi serve process"),
    "own": ("새로 만듦", "own"),
    "shared": ("호스트와 공유", "shared with host"),
    "no_containers": ("실행 중인 컨테이너가 없습니다", "no container is running"),
    "pid_host_inside": ("PID 호스트 → 안", "PID host → inside"),
    "root_fs": ("루트(/) 파일시스템", "root (/) filesystem"),
    "caps": ("권한(capability)", "capabilities"),
    "no_new_privs": ("새 권한 금지", "no_new_privs"),
    "legend_ns": ("초록 = 컨테이너만의 네임스페이스, 회색 = 호스트와 같은 inode",
                  "green = the container's own namespace, grey = same inode as the host"),
    "ns_pid": ("프로세스 번호", "process IDs"),
    "ns_mnt": ("마운트", "mounts"),
    "ns_uts": ("호스트 이름", "hostname"),
    "ns_ipc": ("IPC", "IPC"),
    "ns_net": ("네트워크", "network"),
    "ns_cgroup": ("cgroup 루트", "cgroup root"),
    "ns_user": ("사용자 ID", "user IDs"),
    "ns_time": ("시계", "clocks"),
    "cgroup_root": ("cgroup 부모", "cgroup parent"),
    "memory": ("메모리", "memory"),
    "pids": ("프로세스 수", "process count"),
    "cpu": ("CPU 사용 시간", "CPU time"),
    "throttled": ("제한됨", "throttled"),
    "times": ("회", "×"),
    "no_limit": ("제한 없음", "no limit"),
    "oom": ("OOM 강제 종료", "OOM kills"),
    "no_cgroups": ("cgroup이 없습니다 (실행 중인 컨테이너 없음)", "no cgroups (no container is running)"),
    "procs": ("호스트 PID", "host PIDs"),
    "cpu_quota": ("CPU 한도", "CPU quota"),
    "per": ("마다", "per"),
    "bridge": ("브리지", "bridge"),
    "netns": ("네트워크 네임스페이스", "network namespace"),
    "ports": ("포트 공개", "published ports"),
    "network": ("네트워크", "network"),
    "mode_none": ("네트워크 없음 (lo만)", "no network (lo only)"),
    "mode_host": ("호스트 네트워크 공유", "shares the host's network"),
    "net_unavailable": ("네트워크 정보를 읽을 수 없습니다", "cannot read the network topology"),
    "no_network": ("브리지도 컨테이너도 없습니다", "no bridges and no containers"),
    "image": ("이미지", "image"),
    "layer": ("레이어", "layer"),
    "upper": ("쓰기 레이어 (upperdir)", "writable layer (upperdir)"),
    "init": ("init 레이어 (/etc/hosts 등)", "init layer (/etc/hosts...)"),
    "merged": ("합쳐진 루트 (overlay)", "merged root (overlay)"),
    "mounted": ("마운트됨", "mounted"),
    "not_mounted": ("마운트 안 됨", "not mounted"),
    "added": ("추가", "added"),
    "modified": ("수정", "modified"),
    "deleted": ("삭제", "deleted"),
    "wasted": ("낭비", "wasted"),
    "shared_by": ("공유", "shared by"),
    "status_created": ("만들어짐", "created"),
    "status_running": ("실행 중", "running"),
    "status_exited": ("종료됨", "exited"),
    "status_removing": ("삭제 중", "removing"),
    "containers": ("컨테이너", "containers"),
    "images": ("이미지", "images"),
    "no_images": ("이미지가 없습니다", "no images"),
    "files": ("파일", "files"),
    "made_by": ("만든 명령", "made by"),
    "readonly": ("읽기 전용", "read-only"),
    "writable": ("쓰기 가능", "writable"),
    "simulated": ("모의 실행 (simulated): 커널이 아니라 모형이 보여 주는 그림입니다",
                  "simulated: drawn from a model, not from the kernel"),
}


def t(key: str, lang: str = "ko") -> str:
    ko, en = WORDS[key]
    return en if lang == "en" else ko


def status(value: str, lang: str = "ko") -> str:
    """A container's status (created, running...) in LANG; one we have no words for as it is."""
    key = f"status_{value}"
    return t(key, lang) if key in WORDS else value


def shared_counts(images: int, containers: int, lang: str = "ko") -> str:
    """Who shares a layer. Korean counts after the noun ("이미지 2개") and has no plural;
    English put one thing in the plural ("1 images")."""
    if lang == "en":
        return f"shared by: {_many(images, 'image')}, {_many(containers, 'container')}"
    return f"이미지 {images}개, 컨테이너 {containers}개가 함께 씀"


def _many(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
