"""The test tree's own rules: tests/ mirrors the packages, and no test module imports from
another test module or a conftest (shared code lives in tests/helpers.py or a helper module
beside the tests that use it; shared setup is a fixture), and no module reads the tenant's
calendar day when it is imported."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PACKAGES = {
    "saas_platform",
    "kernel",  # the shared kernel (users, errors, API base classes, Redis, caches)
    "demo",  # demo data seeding (portal, theming and branded apps)
    "tenants",
    "portal",
    "portal_api",
    "portal_web",
    "portal_console",
    "platform_console",
    "theming",
    "branded_apps",
    "mobile",  # the family app (TypeScript): tests/mobile runs its toolchain
}
# Suites that cut across packages, and folders of test data.
SUITES = {"bench", "e2e", "faults", "fuzz", "infra", "integration", "security"}


def _is_test_module(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def test_modules_import_no_test_module_or_conftest():
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} imports {module}"
                for module in modules
                if module.startswith("tests.") and _is_test_module(module)
            ]
    assert offenders == []


def test_no_module_reads_the_tenants_day_on_import():
    """A day read at import is stale for a test that runs after midnight in the tenant's zone:
    a suite started at 23:50 in New York compared a token's expiry, counted by the code from the
    new day, with the old one (CI of 2026-12-07). Tests call `tenant_today()` when they run."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for node in ast.walk(statement)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "tenant_today"
            ]
    assert offenders == []


def test_tests_mirror_the_packages():
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))}
    assert folders <= PACKAGES | SUITES, folders - PACKAGES - SUITES
    for package in folders & PACKAGES:
        for sub in (TESTS / package).iterdir():
            if sub.is_dir() and any(sub.glob("test_*.py")):
                assert (ROOT / package / sub.name).is_dir(), f"{sub} has no package to mirror"
    # Every top-level test module is about the project or the harness, not one package.
    assert {p.name for p in TESTS.glob("test_*.py")} == {
        "test_bench_smoke.py",  # the measures under tests/bench, run small
        "test_harness.py",
        "test_layers.py",
        "test_layout.py",
        "test_readme.py",
    }


def test_no_two_apps_ship_the_same_template_name():
    """Django's app template loader takes the first app's file of a name and hides the rest:
    two apps' ``emails/payment_receipt.txt`` once sent a ledger receipt with an order's subject."""
    seen: dict[str, list[str]] = {}
    for folder in ROOT.glob("*/**/templates"):
        if ".venv" in folder.parts or "node_modules" in folder.parts:
            continue
        for path in folder.rglob("*"):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                seen.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
