"""What the project really has, for checking infra/ against it: management commands and their
options, Celery queues and CLI options, the environment variables the code reads, the ones the
README documents and the ones infra/.env.example lists."""

from __future__ import annotations

import re
import shlex
import warnings
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"

# Read by the application's processes (web, workers, beat, deploy step).
APP_SOURCES = [
    "saas_platform/settings.py",
    "saas_platform/gunicorn_conf.py",
    "saas_platform/gunicorn_fair.py",
]
# Read only by the development helpers and the benchmarks, never in a deployment.
DEV_SOURCES = [
    "saas_platform/devservices.py",
    *(f"tests/bench/{p.name}" for p in (ROOT / "tests/bench").glob("*.py")),
]
DEV_PREFIXES = ("BENCH_", "DEVSERVICES_")
# Read by libraries rather than settings.py: boto3's credentials.
LIBRARY_VARS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}

_READ = re.compile(
    r"(?:env_\w+|_int|os\.environ\.get|os\.environ\.setdefault|os\.getenv)\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']"
    r"|os\.environ\[\s*[\"']([A-Z][A-Z0-9_]+)[\"']\s*\]"
)


def _names_read(paths: list[str]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        file = ROOT / path
        if file.exists():
            for match in _READ.finditer(file.read_text()):
                names.add(match.group(1) or match.group(2))
    return names - {"DJANGO_SETTINGS_MODULE"}


@cache
def app_env_vars() -> frozenset[str]:
    return frozenset(_names_read(APP_SOURCES) | LIBRARY_VARS)


@cache
def dev_only_env_vars() -> frozenset[str]:
    names = _names_read(DEV_SOURCES) | {
        name for name in readme_config_vars() if name.startswith(DEV_PREFIXES)
    }
    return frozenset(names - _names_read(APP_SOURCES))


@cache
def readme_config_vars() -> frozenset[str]:
    """Variables the README's configuration table has a row for (first column)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return frozenset(names)


def documented_in_readme(name: str) -> bool:
    return f"`{name}`" in (ROOT / "README.md").read_text()


@cache
def env_example_vars() -> frozenset[str]:
    """Names in infra/.env.example, set (NAME=) or shown with their default (# NAME=)."""
    text = (INFRA / ".env.example").read_text()
    return frozenset(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


@cache
def compose() -> dict:
    return yaml.safe_load((INFRA / "compose.yaml").read_text())


@cache
def compose_interpolated_vars() -> frozenset[str]:
    text = (INFRA / "compose.yaml").read_text().replace("$$", "")
    return frozenset(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))


def caddyfile_vars(path: Path) -> set[str]:
    return set(re.findall(r"\{\$([A-Z][A-Z0-9_]*)", path.read_text()))


# -- commands ------------------------------------------------------------------------------------


def as_argv(command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def configured_queues() -> set[str]:
    from django.conf import settings

    queues = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed <= queues, f"routes name queues that are not configured: {routed - queues}"
    assert settings.CELERY_TASK_DEFAULT_QUEUE in queues
    return queues


def check_manage_py(argv: list[str]) -> str:
    """``python manage.py <command> [options]``: the command exists and accepts the options.
    Returns the command's name."""
    from django.core.management import get_commands, load_command_class

    assert argv[:2] == ["python", "manage.py"], argv
    name, options = argv[2], argv[3:]
    commands = get_commands()
    assert name in commands, f"manage.py {name}: no such management command"
    command = load_command_class(commands[name], name)
    parser = command.create_parser("manage.py", name)
    parser.parse_args(options)  # raises CommandError on an unknown or malformed option
    return name


def check_celery(argv: list[str]) -> tuple[str, dict]:
    """``celery -A saas_platform <worker|beat> [options]``, parsed by Celery's own CLI (unknown
    options fail). Returns the subcommand and its parsed options."""
    from celery.bin.base import CLIContext
    from celery.bin.celery import celery as celery_cli

    from saas_platform.celery import app

    assert argv[0] == "celery", argv
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = celery_cli.make_context("celery", list(argv[1:]))
        assert context.params["app"] == "saas_platform", argv
        context.obj = CLIContext(app=app, no_color=True, workdir=None, quiet=True)
        rest = [*context.protected_args, *context.args]
    name, options = rest[0], rest[1:]
    assert name in {"worker", "beat"}, argv
    subcommand = celery_cli.get_command(context, name)
    parsed = subcommand.make_context(name, options, parent=context).params
    if name == "worker":
        queues = set(parsed["queues"] or [])
        assert queues, f"a worker must name its queue(s) with -Q: {argv}"
        unknown = queues - configured_queues()
        assert not unknown, f"{argv}: queues {unknown} are not in CELERY_TASK_QUEUES"
    return name, parsed


def check_gunicorn(argv: list[str]) -> None:
    assert argv[:2] == ["gunicorn", "-c"], argv
    config = ROOT / argv[2]
    assert config.exists(), f"{argv[2]} does not exist"
    namespace: dict = {}
    exec(compile(config.read_text(), str(config), "exec"), namespace)  # noqa: S102 - our file
    module, _, attribute = namespace["wsgi_app"].partition(":")
    import importlib

    assert hasattr(importlib.import_module(module), attribute)


def check_command(argv: list[str]) -> str:
    """Any command infra/ runs in the platform image; returns a short kind."""
    if argv[:2] == ["python", "manage.py"]:
        return "manage.py " + check_manage_py(argv)
    if argv[0] == "celery":
        return "celery " + check_celery(argv)[0]
    if argv[0] == "gunicorn":
        check_gunicorn(argv)
        return "gunicorn"
    if argv[:2] == ["python", "-c"]:
        compile(argv[2], "<command>", "exec")
        return "python -c"
    raise AssertionError(f"unexpected command {argv}")


def celery_worker_queues(argv: list[str]) -> set[str]:
    return set(check_celery(argv)[1]["queues"])
