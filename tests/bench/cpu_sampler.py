"""The machine's CPU each second, by kind of process, while something else runs (the opening
benchmark, say): busy cores of the whole machine from ``/proc/stat``, and the cores used by
gunicorn, PostgreSQL, Redis, the opening's families' driver, wrk and everything else, from each
process's ``/proc/<pid>/stat`` (a process that started within the second counts all it used;
one that ended within it loses its last second: short-lived PostgreSQL backends are
undercounted). docs/benchmarks.md, issue 21, "Tenth pass".

    .venv/bin/python tests/bench/cpu_sampler.py [--seconds 300] > /tmp/cpu.tsv &

One line a second: the Unix time, the busy cores, then ``kind=cores`` pairs. Linux only.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = ("gunicorn", "postgres", "redis", "driver", "wrk", "other")


def kind_of(name: str, cmdline: str) -> str:
    if "gunicorn" in cmdline:
        return "gunicorn"
    if name.startswith("postgres") or "postgres" in cmdline.split(" ", 1)[0]:
        return "postgres"
    if name.startswith("redis"):
        return "redis"
    if "opening_driver" in cmdline:
        return "driver"
    if name == "wrk":
        return "wrk"
    return "other"


def processes() -> dict[int, tuple[str, float]]:
    """Each process's kind and CPU seconds so far."""
    out: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        name = stat.split("(", 1)[1].rsplit(")", 1)[0]
        fields = stat.rsplit(")", 1)[1].split()
        out[int(entry)] = (kind_of(name, cmdline), (int(fields[11]) + int(fields[12])) / TICKS)
    return out


def machine() -> tuple[float, float]:
    """All CPU seconds so far, and the idle ones."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return sum(values) / TICKS, (values[3] + values[4]) / TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args()
    before, (total, idle) = processes(), machine()
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        time.sleep(1)
        now, (total2, idle2) = processes(), machine()
        used: Counter[str] = Counter()
        for pid, (kind, cpu) in now.items():
            used[kind] += cpu - before[pid][1] if pid in before else cpu
        busy = (total2 - total) - (idle2 - idle)
        pairs = " ".join(f"{kind}={used[kind]:.2f}" for kind in GROUPS)
        print(f"{time.time():.1f}\t{busy:.2f}\t{pairs}", flush=True)
        before, total, idle = now, total2, idle2


if __name__ == "__main__":
    main()
