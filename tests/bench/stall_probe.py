"""A probe for the moments a core stops for everything on it: the opening benchmark runs one
per core beside the server (``tests/bench/opening.py``) and reports business B's slowest
searches with and without the ones that such a stall overlapped.

The probe is pinned to its core at the highest real-time priority the machine allows
(``SCHED_FIFO`` 99; else nice -20; else as it is, and it says which) and sleeps ``period``
again and again. At that priority nothing on the guest keeps it from its core for long: the
kernel preempts every thread of the server, PostgreSQL, the driver and the quiet lane's own
real-time threads for it. A wake-up ``threshold`` or more late therefore means the core did
not run at all: on a VM, the hypervisor ran another guest (the steal time of ``vmstat``'s
``st`` column, which counts the same thing in 10 ms ticks without saying when). Its own cost is
~10 us of CPU a wake-up, 500 a second at the default period.

    python tests/bench/stall_probe.py --cpu 0 --out FILE [--period-ms 2] [--threshold-ms 4]

It runs until SIGTERM or SIGINT, then writes ``FILE``: a first line ``policy <fifo|nice|none>
cpu <n> wakeups <count> period_ms <p> threshold_ms <t>``, then ``<epoch seconds> <ms>`` per
stall, when the wake-up was due and how late it came.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple


class Stall(NamedTuple):
    cpu: int
    start: float  # epoch seconds: when the probe's wake-up was due
    ms: float  # how late it came


class Probe(NamedTuple):
    policy: str
    cpu: int
    wakeups: int
    stalls: list[Stall]


def raise_self() -> str:
    """The highest priority this process may take: ``fifo``, ``nice`` or ``none``."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(99))
        return "fifo"
    except (PermissionError, OSError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -20)
        return "nice"
    except (PermissionError, OSError):
        return "none"


def watch(
    period: float,
    threshold: float,
    stopped: Callable[[], bool],
    *,
    cpu: int = -1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
) -> tuple[int, list[Stall]]:
    """Sleep ``period`` seconds until ``stopped()``; (wake-ups, the stalls of ``threshold``
    seconds or more)."""
    stalls: list[Stall] = []
    wakeups = 0
    offset = wall() - clock()  # epoch seconds of the monotonic clock's zero, read once
    while not stopped():
        due = clock() + period
        sleep(period)
        late = clock() - due
        wakeups += 1
        if late >= threshold:
            stalls.append(Stall(cpu, due + offset, late * 1000))
    return wakeups, stalls


def write(path: Path, probe: Probe, period: float, threshold: float) -> None:
    lines = [
        f"policy {probe.policy} cpu {probe.cpu} wakeups {probe.wakeups} "
        f"period_ms {period * 1000:g} threshold_ms {threshold * 1000:g}",
        *(f"{stall.start:.6f} {stall.ms:.3f}" for stall in probe.stalls),
    ]
    path.write_text("\n".join(lines) + "\n")


def read(path: Path) -> Probe:
    head, *rest = path.read_text().splitlines()
    words = head.split()
    fields = dict(zip(words[::2], words[1::2], strict=True))
    cpu = int(fields["cpu"])
    stalls = [Stall(cpu, float(at), float(ms)) for at, ms in (line.split() for line in rest)]
    return Probe(fields["policy"], cpu, int(fields["wakeups"]), stalls)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpu", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--period-ms", type=float, default=2.0)
    parser.add_argument("--threshold-ms", type=float, default=4.0)
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.cpu})
    policy = raise_self()
    done: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: done.append(number))
    period, threshold = args.period_ms / 1000, args.threshold_ms / 1000
    wakeups, stalls = watch(period, threshold, lambda: bool(done), cpu=args.cpu)
    write(args.out, Probe(policy, args.cpu, wakeups, stalls), period, threshold)


if __name__ == "__main__":
    main()
