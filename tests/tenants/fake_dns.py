"""An in-memory DNS for tests: ``FakeResolver.records[name] = [txt, ...]``; a name mapped to
``DnsUnavailable`` makes the lookup fail as a timeout would."""

from __future__ import annotations

from tenants.domains import DnsUnavailable


class FakeResolver:
    records: dict[str, object] = {}
    lookups: list[str] = []

    def txt(self, name: str) -> list[str]:
        FakeResolver.lookups.append(name)
        value = FakeResolver.records.get(name, [])
        if value is DnsUnavailable:
            raise DnsUnavailable("timed out")
        return list(value)
