"""kernel.queries.prepared_cursor when another session changes a column its prepared read
returns: committed data (the other session must see the table), so not in a test transaction."""

from __future__ import annotations

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from kernel.queries import prepared_cursor


def _prepared_statements() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {statement for (statement,) in cursor.fetchall()}


def test_a_prepared_read_survives_another_session_changing_a_column_type(committed):
    """A migration during a rolling deploy changes a column's type under the old workers'
    prepared statements ("cached plan must not change result type"). Outside a transaction
    the read is run again, prepared afresh; inside one it fails once, and the rollback drops
    the connection's prepared statements so the next one works."""
    connection.set_schema_to_public()
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (id int PRIMARY KEY, name varchar(10))")
        cursor.execute("INSERT INTO prepared_probe VALUES (1, 'Mia')")

    def read():
        with prepared_cursor() as cursor:
            cursor.execute("SELECT name FROM prepared_probe WHERE id = %s", [1])
            return cursor.fetchone()

    def alter(kind: str) -> None:
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute(f"ALTER TABLE prepared_probe ALTER COLUMN name TYPE {kind}")

    try:
        for _ in range(3):
            assert read() == ("Mia",)
        assert any("prepared_probe" in sql for sql in _prepared_statements())
        alter("varchar(20)")
        assert read() == ("Mia",)  # dropped and run again
        for _ in range(3):
            assert read() == ("Mia",)
        assert any("prepared_probe" in sql for sql in _prepared_statements())  # anew
        alter("varchar(30)")
        with pytest.raises(DatabaseError, match="cached plan"), transaction.atomic():
            read()
        assert read() == ("Mia",)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE prepared_probe")
