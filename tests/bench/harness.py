"""Paired, alternating timing of two commands: the way every onggi benchmark compares
itself with its peer. Alternating A, B, A, B... spreads whatever else the machine is
doing over both sides; medians ignore the odd outlier; the ratio is A over B."""
from __future__ import annotations

import statistics
import subprocess
import time


def time_once(argv, env=None, check=True) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def paired(a, b, *, runs: int = 30, warmup: int = 3, settle: float = 0.0) -> dict:
    """a and b are callables returning seconds. Returns medians (ms) and the ratio a/b.

    settle: seconds to sleep before each timed call, so that neither side is timed
    while the other's background work (a server forking its next worker, a
    kernel grace period, a cgroup's teardown) still holds the machine: each
    starts as a command typed at a quiet prompt does.
    """
    for _ in range(warmup):
        a()
        b()
    ta, tb = [], []
    for _ in range(runs):
        time.sleep(settle)
        ta.append(a())
        time.sleep(settle)
        tb.append(b())
    ma, mb = statistics.median(ta) * 1000, statistics.median(tb) * 1000
    return {"a_median_ms": ma, "b_median_ms": mb, "ratio": ma / mb, "runs": runs,
            "a_p90_ms": sorted(ta)[int(runs * 0.9) - 1] * 1000, "b_p90_ms": sorted(tb)[int(runs * 0.9) - 1] * 1000}


def report(title: str, a_name: str, b_name: str, result: dict) -> str:
    text = (f"\n{title}\n"
            f"  {a_name:<44} median {result['a_median_ms']:8.1f} ms   p90 {result['a_p90_ms']:8.1f} ms\n"
            f"  {b_name:<44} median {result['b_median_ms']:8.1f} ms   p90 {result['b_p90_ms']:8.1f} ms\n"
            f"  ratio {a_name.split()[0]}/{b_name.split()[0]} = {result['ratio']:.2f}   ({result['runs']} paired runs)\n")
    print(text)
    return text
