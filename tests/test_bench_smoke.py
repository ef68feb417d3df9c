"""The in-process measures under tests/bench (not collected by the suite: they print figures
and take minutes) run here at a tiny size with every option on, so they cannot rot unnoticed.
Nothing here is a figure."""

from __future__ import annotations

import pytest

from tests.bench import checkout_cpu, waiting_room_cpu
from tests.bench.waiting_room_cpu import opening  # noqa: F401  (the measure's fixture)

pytestmark = pytest.mark.django_db


def test_checkout_cpu_runs(family_a, monkeypatch, tmp_path, capsys):
    for name, value in (("WARM", 1), ("ROUNDS", 2), ("GAP_ROUNDS", 1)):
        monkeypatch.setattr(checkout_cpu, name, value)
    monkeypatch.setenv("CHECKOUT_PROFILE", "1")
    monkeypatch.setenv("CHECKOUT_PROFILE_OUT", str(tmp_path / "checkout.prof"))
    monkeypatch.setenv("CHECKOUT_SQL", "1")
    monkeypatch.setenv("CHECKOUT_GAPS", "1")
    checkout_cpu.test_print_checkout_cpu(family_a, monkeypatch)
    out = capsys.readouterr().out
    assert "Free-class registration" in out and "statements" in out
    assert "Python CPU before each statement" in out and "--- checkout" in out
    assert (tmp_path / "checkout.prof").stat().st_size > 0


def test_waiting_room_cpu_runs(opening, family_a, monkeypatch, capsys):  # noqa: F811
    for name, value in (("ROUNDS", 1), ("PER_ROUND", 2)):
        monkeypatch.setattr(waiting_room_cpu, name, value)
    monkeypatch.setenv("WR_PROFILE", "1")
    waiting_room_cpu.test_print_waiting_room_cpu(opening, family_a)
    out = capsys.readouterr().out
    assert "join (bearer token)" in out and "function calls" in out
