"""The container's first process: command lookup, error transport, and the order of
the last privileged steps (checked in a forked child on the recording fake)."""
import json
import os
import socket

import pytest

from runtime import errors
from runtime.container import process
from runtime.linux import caps
from runtime.linux import syscalls as sc
from runtime.linux.fake import RecordingSyscalls


def test_lookup_finds_on_path_and_reports_like_docker(tmp_path):
    exe = tmp_path / "tool"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    (tmp_path / "plain").write_text("")
    env = (f"PATH=/nonexistent:{tmp_path}",)
    assert process.lookup("tool", env) == str(exe)
    assert process.lookup(str(exe), ()) == str(exe)
    with pytest.raises(errors.CommandNotFound, match='"nope": executable file not found in \\$PATH'):
        process.lookup("nope", env)
    with pytest.raises(errors.CommandNotExecutable, match="permission denied"):
        process.lookup("plain", env)
    with pytest.raises(errors.CommandNotExecutable):
        process.lookup(str(tmp_path), ())
    with pytest.raises(errors.CommandNotFound) as info:
        process.lookup("/no/such", ())
    assert info.value.exit_code == 127
    assert process.lookup(f"{tmp_path.name}/tool", (), cwd=str(tmp_path.parent)) == str(exe)


def test_errors_cross_the_channel_with_their_class():
    a, b = socket.socketpair()
    process._send_error(b, errors.CommandNotFound('exec: "x": executable file not found in $PATH'))
    child = process.Child(1, a)
    with pytest.raises(errors.CommandNotFound) as info:
        child.command("exec")
    assert info.value.exit_code == 127 and info.value.hint


def test_become_drops_capabilities_before_changing_user(tmp_path):
    """Run become() in a fork (it changes cwd and signals) with a fake; read back the calls."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        fake = RecordingSyscalls()
        plan = process.InitPlan(mounts=None, args=("/bin/true",), env=("PATH=/bin",), cwd=str(tmp_path),
                                user="1000:1000", hostname="box",
                                capabilities=caps.mask(caps.DOCKER_DEFAULT))
        try:
            process.lookup = lambda cmd, env, cwd="/": cmd    # no /bin/true needed in the fake root
            process.become(fake, plan)
            os.write(w, json.dumps([list(map(str, c)) for c in fake.calls]).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    calls = json.loads(data)
    names = [c[0] for c in calls]
    assert names[0] == "sethostname"
    drops = [int(c[2]) for c in calls if c[0] == "prctl" and int(c[1]) == sc.PR_CAPBSET_DROP]
    assert caps.NUMBER["SYS_ADMIN"] in drops and caps.NUMBER["CHOWN"] not in drops
    last_drop = max(i for i, c in enumerate(calls) if c[0] == "prctl" and int(c[1]) == sc.PR_CAPBSET_DROP)
    assert last_drop < names.index("setresuid") < names.index("execve")
    assert "capset" not in names                     # a non-root user keeps no capabilities
    nnp = next(i for i, c in enumerate(calls) if c[0] == "prctl" and int(c[1]) == sc.PR_SET_NO_NEW_PRIVS)
    assert nnp < names.index("execve") == len(names) - 1
