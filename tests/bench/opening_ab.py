"""The opening benchmark, several runs of each configuration, alternated, with the range.

One run of the opening (tests/bench/opening.py) moves 20-30 % with the machine on a shared VM,
so a change smaller than that needs several runs, taken in turn so each configuration gets the
machine's good and bad moments alike::

    .venv/bin/python tests/bench/opening_ab.py --runs 2 four threads2:GUNICORN_THREADS=2

Each variant is ``NAME`` or ``NAME:ENV=VALUE[,ENV=VALUE...]`` (environment for that variant's
runs; ``BENCH_OPENING_SCALE=0.1`` and the like pass through from the shell). The runs go
A, B, A, B, ...; each is a whole ``tests/bench/run.py`` with ``BENCH_ONLY=opening`` (its own
database, dropped after). Prints each run's headline figures (``opening.headline``) and, per
variant, the median and the range. To compare code, run it on each commit with one variant.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import opening  # noqa: E402

WORKDIR = re.compile(r"workdir (/\S+?)\)")

# (label, how to read it from a headline, format)
COLUMNS = (
    ("reg/min", lambda h: h["per_minute"], "{:.0f}"),
    ("seen p50 s", lambda h: h["seen_while_seats_p50_s"], "{:.2f}"),
    ("join p50 ms", lambda h: h["latency_p50_ms"].get("join", float("nan")), "{:.0f}"),
    ("join p90 ms", lambda h: h.get("latency_p90_ms", {}).get("join", float("nan")), "{:.0f}"),
    ("hold p50 ms", lambda h: h["latency_p50_ms"].get("hold", float("nan")), "{:.0f}"),
    ("checkout p50 ms", lambda h: h["latency_p50_ms"].get("checkout", float("nan")), "{:.0f}"),
    ("B p99 x calm", lambda h: h["b_ratio"], "{:.1f}"),
    ("B server x calm", lambda h: h.get("b_server_ratio", float("nan")), "{:.2f}"),
    ("B unstalled x calm", lambda h: h.get("b_unstalled_ratio", float("nan")), "{:.2f}"),
    ("stalled ms", lambda h: h.get("stalled_ms", float("nan")), "{:.0f}"),
    ("search/trivial", lambda h: h["search_trivial"], "{:.2f}"),
    ("trivial rps", lambda h: h["trivial_rps"], "{:.0f}"),
    ("CPU to sold out s", lambda h: h["cpu_until_s"], "{:.1f}"),
    ("server cores", lambda h: h.get("server_cores", float("nan")), "{:.2f}"),
    ("driver cores", lambda h: h.get("driver_cores", float("nan")), "{:.2f}"),
    ("hold ms", lambda h: h["cpu_until_ms_each"].get("hold", float("nan")), "{:.1f}"),
    ("checkout ms", lambda h: h["cpu_until_ms_each"].get("checkout", float("nan")), "{:.1f}"),
    ("join ms", lambda h: h["cpu_until_ms_each"].get("join", float("nan")), "{:.2f}"),
    ("oversold", lambda h: h["oversold"], "{:.0f}"),
    ("5xx", lambda h: h["5xx"], "{:.0f}"),
    ("fairness", lambda h: h["fairness"], "{:.4f}"),
)


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """``NAME`` or ``NAME:ENV=VALUE[,ENV=VALUE...]``."""
    name, _, spec = text.partition(":")
    env: dict[str, str] = {}
    for pair in filter(None, spec.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
            raise SystemExit(f"bad variant {text!r}: give NAME:ENV=VALUE[,ENV=VALUE...]")
        env[key] = value
    if not name:
        raise SystemExit(f"bad variant {text!r}: it needs a name")
    return name, env


def run_once(env: dict[str, str]) -> dict:
    """One whole opening run; its result as ``opening.headline`` reads it."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "run.py")],
        env={**os.environ, "BENCH_ONLY": "opening", **env},
        capture_output=True,
        text=True,
    )
    found = WORKDIR.findall(proc.stdout)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"the run failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return json.loads((Path(found[-1]) / "result.json").read_text())


def summary(rows: list[tuple[str, dict]]) -> list[str]:
    """Per variant, each column's median and range over its runs."""
    lines = []
    for name in dict.fromkeys(n for n, _ in rows):
        heads = [h for n, h in rows if n == name]
        cells = []
        for label, read, fmt in COLUMNS:
            values = [read(h) for h in heads]
            values = [v for v in values if v == v]  # NaN: a figure the run did not have
            if not values:
                cells.append(f"{label} -")
                continue
            mid = fmt.format(statistics.median(values))
            low, high = fmt.format(min(values)), fmt.format(max(values))
            cells.append(f"{label} {mid}" + ("" if low == high else f" [{low}-{high}]"))
        lines.append(f"  {name} ({len(heads)} runs): " + "; ".join(cells))
    return lines


def table(rows: list[tuple[str, dict]]) -> list[str]:
    header = ["variant", "run"] + [label for label, _, _ in COLUMNS]
    body = [
        [name, str(i + 1)] + [fmt.format(read(h)) for _, read, fmt in COLUMNS]
        for i, (name, h) in enumerate(rows)
    ]
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
    return [
        "  " + "  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True))
        for r in [header, *body]
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="+", help="NAME or NAME:ENV=VALUE[,ENV=VALUE...]")
    parser.add_argument("--runs", type=int, default=2, help="runs of each variant (2)")
    args = parser.parse_args(argv)
    variants = [parse_variant(v) for v in args.variants]
    order = [variant for _ in range(args.runs) for variant in variants]
    rows: list[tuple[str, dict]] = []
    for index, (name, env) in enumerate(order, 1):
        started = time.time()
        sys.stderr.write(f"opening_ab: run {index}/{len(order)}: {name} {env or ''}…\n")
        rows.append((name, opening.headline(run_once(env))))
        sys.stderr.write(
            f"opening_ab: run {index}/{len(order)} done in {time.time() - started:.0f} s: "
            f"{rows[-1][1]['per_minute']:.0f} registrations a minute\n"
        )
    print("\nOpening benchmark, runs in the order taken (tests/bench/opening_ab.py)")
    print("\n".join(table(rows)))
    print("Per variant: median [range]")
    print("\n".join(summary(rows)))


if __name__ == "__main__":
    main()
