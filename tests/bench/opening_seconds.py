"""One opening benchmark run, second by second: what each kind of request cost and how the
checkout slots were held. Reads a run's work folder (``workdir`` in its report); run by hand::

    .venv/bin/python tests/bench/opening_seconds.py /tmp/bench-opening-XXXX

Three tables (docs/benchmarks.md, "Eleventh pass" and "Eighteenth pass"):

- **CPU by second**: for each second from the opening, each kind's requests and the thread CPU
  they took (the run's record of each request, ``cpu.by_kind`` in ``result.json``, from the
  workers' CPU logs: ``GUNICORN_CPU_LOG_DIR``), and the registrations that second. A saturated
  server shows a flat total: a kind that takes more leaves less to the others.
- **Slots**: at a few moments, the families the line had let in and that had not finished yet
  (a checkout slot each, while the opening is paced by checkout), and how many of those had not
  yet seen their pass (the family's own clock: the answer that showed it). When most slots are
  held by families that do not know yet, the loop waits on the polls, not on the checkouts.
- **By worker**: each gunicorn worker's requests by host (business), before the opening (the
  throughput rounds, business B's calm minute, the pre-queue's joins) and from the opening to
  the last seat, from its own CPU log (``cpu/cpu-<pid>.log``). A keep-alive connection stays
  with the worker that accepted it, and a worker computes on one core at most: a business whose
  connections were all accepted by one worker shows in one row (docs/benchmarks.md,
  "Eighteenth pass").
- **Pass seen**: how long after the line let each family in it saw its pass (the queue's
  ``admitted_at`` against the answer that showed it), for the families let in at the opening
  itself and for those let in after it, at p10, p25, p50, p75 and p90 (docs/benchmarks.md,
  "Twenty-seventh pass").

Asserts nothing.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

# The benchmarks' modules import each other as top-level modules (run by hand or by run.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load

KINDS = ("join", "poll", "search", "hold", "checkout", "leave", "B")


def by_second(by_kind: list, opens: float, until: float) -> dict[int, dict[str, tuple[int, int]]]:
    """{second: {kind: (requests, cpu µs)}}, seconds from the opening, -1 to ``until``, from a
    run's own record of each request (``result["cpu"]["by_kind"]``: when it was answered, its
    thread CPU in seconds and its kind, as ``opening.py`` names them; business B's kinds are
    one column here)."""
    seconds: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for answered, cpu, kind in by_kind:
        at = answered - opens
        if at < -1 or at > until:
            continue
        cell = seconds[int(at // 1)].setdefault("B" if kind.startswith("B ") else kind, [0, 0])
        cell[0] += 1
        cell[1] += round(cpu * 1_000_000)
    return {s: {k: (n, us) for k, (n, us) in seconds[s].items()} for s in sorted(seconds)}


def slots(result: dict, moments=(1, 3, 5, 7, 9)) -> list[tuple[float, int, int]]:
    """(moment, let in and not finished, of which not yet seen) from a run's result."""
    opens = result["opens_epoch"]
    admitted_at = {k: v - opens for k, v in result["fairness"].get("admitted_at", {}).items()}
    families = result["driver"]["families"]
    rows = []
    for t in moments:
        held = [
            f
            for f in families
            if admitted_at.get(str(f.get("family")), 1e9) <= t and f.get("finished", 1e9) > t
        ]
        rows.append((t, len(held), sum(1 for f in held if f.get("admitted", 1e9) > t)))
    return rows


AT_THE_OPENING = 0.5  # let in within this many seconds of the opening: at the opening itself
PERCENTILES = (10, 25, 50, 75, 90)


def pass_seen(result: dict) -> dict[str, list[float]]:
    """{"at the opening" | "after it": sorted seconds from each family's admission (the queue's
    clock) to the answer that showed it its pass (the driver's, the same machine's)}."""
    opens = result["opens_epoch"]
    admitted_at = result["fairness"].get("admitted_at", {})
    seen: dict[str, list[float]] = {"at the opening": [], "after it": []}
    for family in result["driver"]["families"]:
        at = admitted_at.get(str(family.get("family")))
        if at is None or "admitted" not in family:
            continue
        group = "at the opening" if at - opens < AT_THE_OPENING else "after it"
        seen[group].append(max(0.0, opens + family["admitted"] - at))
    return {group: sorted(values) for group, values in seen.items()}


def percentiles(values: list[float]) -> list[float]:
    """``PERCENTILES`` of sorted ``values`` (nearest rank, rounded down)."""
    return [values[min(len(values) - 1, len(values) * p // 100)] for p in PERCENTILES]


def by_worker(cpu_dir: Path, opens: float, until: float) -> dict[str, dict[str, list[int]]]:
    """{worker pid: {host: [requests before the opening, requests from it to ``until``
    seconds after]}} from the workers' CPU logs (``load.read_cpu_file``; a garbage
    collection's line is not a request)."""
    workers: dict[str, dict[str, list[int]]] = {}
    for path in sorted(cpu_dir.glob("cpu-*.log")):
        hosts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for line in load.read_cpu_file(path):
            at = line.at - opens
            if line.method != "GC" and at <= until:
                hosts[line.host][0 if at < 0 else 1] += 1
        workers[path.stem.removeprefix("cpu-")] = dict(hosts)
    return workers


def report(workdir: Path) -> None:
    result = json.loads((workdir / "result.json").read_text())
    opens = result["opens_epoch"]
    families = result["driver"]["families"]
    finished = sorted(f["finished"] for f in families if f.get("outcome") == "registered")
    until = (finished[-1] if finished else 20.0) + 3
    regs = Counter(int(t // 1) for t in finished)
    print(f"CPU by second from the opening ({workdir}): requests / thread CPU ms, registrations")
    print("  sec " + "".join(f"{k:>14}" for k in KINDS) + "   total CPU  regs")
    for second, kinds in by_second(result["cpu"]["by_kind"], opens, until).items():
        cells = "".join(
            f"{kinds.get(k, (0, 0))[0]:>6}/{kinds.get(k, (0, 0))[1] / 1000:>6.0f}ms" for k in KINDS
        )
        total = sum(us for _n, us in kinds.values()) / 1e6
        print(f"  {second:>3} {cells}   {total:>6.2f} s  {regs.get(second, 0):>4}")
    print("Checkout slots: let in and not finished (of which not yet seen their pass)")
    for t, held, unseen in slots(result):
        print(f"  {t:>3} s after the opening: {held:>4} ({unseen} not yet seen)")
    workers = by_worker(workdir / "cpu", opens, finished[-1] if finished else until)
    hosts = sorted({host for counts in workers.values() for host in counts})
    print("By worker: requests before the opening / from it to the last seat, by host")
    print("  worker " + "".join(f"{host[:30]:>32}" for host in hosts))
    for pid, counts in workers.items():
        cells = "".join(
            f"{counts.get(h, [0, 0])[0]:>18} / {counts.get(h, [0, 0])[1]:>11}" for h in hosts
        )
        print(f"  {pid:>6} {cells}")
    print("Pass seen after admission, s: " + " / ".join(f"p{p}" for p in PERCENTILES))
    for group, values in pass_seen(result).items():
        shown = " / ".join(f"{v:.2f}" for v in percentiles(values)) if values else "-"
        print(f"  let in {group:<14} {len(values):>5} families: {shown}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: opening_seconds.py WORKDIR")
    report(Path(sys.argv[1]))
