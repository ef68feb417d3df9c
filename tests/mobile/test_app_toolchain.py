"""The family app (mobile/) in the Python suite, so `make test` and CI run it: TypeScript with
no errors against the client generated from the OpenAPI schema, the component tests (jest and
React Native Testing Library), and a check that the committed generated types are current.
`make test` installs mobile/node_modules with `npm ci` first."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# The family app's own toolchain (tsc, jest, openapi-typescript) as separate Node processes:
# minutes of CPU on the 2-core machine, so `make test-fast` leaves them to `make test`; after an
# API change run `.venv/bin/pytest tests/mobile` (the committed app types must be current).
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "mobile"
BIN = APP / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def node_modules():
    if not (BIN / "tsc").exists():
        pytest.fail("mobile/node_modules is missing: run `npm ci` in mobile/ (make test does).")


def run(cmd: list[str], timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "1", "EXPO_OFFLINE": "1"}
    return subprocess.run(
        cmd, cwd=APP, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def test_typescript_compiles_against_the_generated_client(node_modules):
    result = run([str(BIN / "tsc"), "--noEmit"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_component_tests_pass(node_modules):
    result = run([str(BIN / "jest"), "--ci", "--maxWorkers=1"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    summary = [line for line in result.stderr.splitlines() if line.startswith("Tests:")]
    assert summary and "failed" not in summary[0], summary
    print(f"[mobile] jest {summary[0]}")


def test_committed_api_types_are_current(node_modules, tmp_path):
    """`npm run api:generate` from the schema as the code describes it now gives the committed
    files byte for byte (run it after changing the API)."""
    result = run(["node", "scripts/generate-api.mjs", str(tmp_path)], timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    stale = [
        rel
        for rel in (
            "api/family.json",
            "api/platform.json",
            "src/api/family.ts",
            "src/api/platform.ts",
        )
        if (tmp_path / rel).read_bytes() != (APP / rel).read_bytes()
    ]
    assert not stale, f"stale generated API files {stale}: run `npm run api:generate` in mobile/"
    shutil.rmtree(tmp_path, ignore_errors=True)
