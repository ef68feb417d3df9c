"""Which pg_dump captures the template: one no older than the server, each candidate asked its
version (Debian's pg_dump 15 on PATH refuses an embedded PostgreSQL 16)."""

from __future__ import annotations

import pytest
from django.db import connection

from kernel.errors import ApplicationError
from tenants.schema_clone import pg_dump_choose, pg_dump_executable, pg_dump_major


def fake_pg_dump(tmp_path, name: str, version: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {version}'\n")
    path.chmod(0o755)
    return str(path)


def test_each_candidate_is_asked_its_version(tmp_path):
    assert pg_dump_major(fake_pg_dump(tmp_path, "a", "15.20 (Debian 15.20-0+deb12u1)")) == 15
    assert pg_dump_major(fake_pg_dump(tmp_path, "b", "16.2")) == 16
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    assert pg_dump_major(str(broken)) is None
    assert pg_dump_major(str(tmp_path / "missing")) is None


def test_an_older_pg_dump_first_on_the_list_is_passed_over(tmp_path):
    debian_15 = fake_pg_dump(tmp_path, "pg_dump15", "15.20 (Debian 15.20-0+deb12u1)")
    wheel_16 = fake_pg_dump(tmp_path, "pg_dump16", "16.2")
    assert pg_dump_choose(16, "", [debian_15, wheel_16]) == wheel_16


def test_the_servers_own_major_wins_over_a_newer_one(tmp_path):
    wheel_16 = fake_pg_dump(tmp_path, "pg_dump16", "16.2")
    debian_15 = fake_pg_dump(tmp_path, "pg_dump15", "15.20")
    newer = fake_pg_dump(tmp_path, "pg_dump17", "17.1")
    assert pg_dump_choose(15, "", [wheel_16, newer, debian_15]) == debian_15
    assert pg_dump_choose(14, "", [newer, wheel_16]) == wheel_16  # the oldest newer one
    # Among equals, the list's order (the embedded server's own first).
    other_16 = fake_pg_dump(tmp_path, "other16", "16.4")
    assert pg_dump_choose(16, "", [wheel_16, other_16]) == wheel_16


def test_no_pg_dump_new_enough_names_what_was_found(tmp_path):
    debian_15 = fake_pg_dump(tmp_path, "pg_dump15", "15.20")
    with pytest.raises(ApplicationError) as caught:
        pg_dump_choose(16, "", [debian_15])
    assert caught.value.code == "pg_dump_missing"
    assert f"{debian_15} (15)" in caught.value.message
    with pytest.raises(ApplicationError):
        pg_dump_choose(16, "", [])


def test_a_configured_pg_dump_is_used_only_when_new_enough(tmp_path):
    debian_15 = fake_pg_dump(tmp_path, "pg_dump15", "15.20")
    wheel_16 = fake_pg_dump(tmp_path, "pg_dump16", "16.2")
    assert pg_dump_choose(15, debian_15, [wheel_16]) == debian_15
    with pytest.raises(ApplicationError) as caught:
        pg_dump_choose(16, debian_15, [wheel_16])
    assert caught.value.code == "pg_dump_too_old"
    assert "server is PostgreSQL 16" in caught.value.message


@pytest.mark.django_db
def test_the_chosen_pg_dump_can_dump_this_server():
    path = pg_dump_executable()
    assert pg_dump_major(path) >= connection.pg_version // 10000
