"""The README documents every environment variable the project reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    "saas_platform/settings.py",
    "saas_platform/devservices.py",
    "tests/bench/run.py",
]


def test_every_environment_variable_is_documented():
    readme = (ROOT / "README.md").read_text()
    pattern = re.compile(
        r'(?:env_\w+|os\.environ\.get|os\.environ\.setdefault)\(\s*"([A-Z][A-Z0-9_]+)"'
    )
    names = set()
    for source in SOURCES:
        names |= set(pattern.findall((ROOT / source).read_text()))
    names -= {"DJANGO_SETTINGS_MODULE"}
    assert len(names) > 20
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == []


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
