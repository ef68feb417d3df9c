"""infra/compose.yaml, infra/Dockerfile, infra/.env.example and the Caddyfile, checked against
the project (no Docker engine needed): services, commands, settings and probes exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra.project import (
    INFRA,
    ROOT,
    app_env_vars,
    as_argv,
    caddyfile_vars,
    celery_worker_queues,
    check_command,
    compose,
    compose_interpolated_vars,
    configured_queues,
    dev_only_env_vars,
    documented_in_readme,
    env_example_vars,
    readme_config_vars,
)

APP_IMAGE_SERVICES = {
    "s3-init",
    "migrate",
    "web",
    "worker-default",
    "worker-checkout",
    "worker-notifications",
    "worker-builds",
    "beat",
}


def services() -> dict:
    return compose()["services"]


def test_compose_parses_and_has_the_whole_stack():
    names = set(services())
    assert names == APP_IMAGE_SERVICES | {"postgres", "redis", "s3", "caddy"}
    for name in APP_IMAGE_SERVICES:
        service = services()[name]
        assert service["image"] == "${PLATFORM_IMAGE:-saas-platform:local}", name
        assert service["build"] == {"context": "..", "dockerfile": "infra/Dockerfile"}, name
        assert service["env_file"] == [{"path": ".env", "required": True}]
    assert (INFRA / services()["web"]["build"]["dockerfile"].removeprefix("infra/")).exists()


def test_every_dependency_and_volume_exists():
    declared_volumes = set(compose()["volumes"])
    for name, service in services().items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services(), (name, dependency)
            assert dependency != name
            assert condition["condition"] in {
                "service_healthy",
                "service_completed_successfully",
                "service_started",
            }
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services()[dependency] or dependency in APP_IMAGE_SERVICES
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (INFRA / source).exists(), (name, source)
            else:
                assert source in declared_volumes, (name, source)


def test_the_deploy_step_runs_before_the_application():
    migrate = as_argv(services()["migrate"]["command"])
    assert check_command(migrate) == "manage.py deploy_migrate"
    assert services()["migrate"]["restart"] == "no"
    for name in APP_IMAGE_SERVICES - {"migrate", "s3-init"}:
        depends = services()[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services()["migrate"]["depends_on"]["s3-init"] == {
        "condition": "service_completed_successfully"
    }


def test_every_command_exists_in_the_project():
    kinds = {}
    for name in APP_IMAGE_SERVICES:
        kinds[name] = check_command(as_argv(services()[name]["command"]))
    assert kinds["web"] == "gunicorn"
    assert kinds["beat"] == "celery beat"
    assert kinds["s3-init"] == "python -c"
    assert kinds["migrate"] == "manage.py deploy_migrate"


def test_one_worker_per_configured_queue_and_exactly_one_beat():
    queues = configured_queues()
    assert queues == {"default", "checkout", "notifications", "builds"}
    served: dict[str, str] = {}
    beats = []
    for name, service in services().items():
        argv = as_argv(service.get("command") or [])
        if argv[:1] == ["celery"] and "worker" in argv:
            for queue in celery_worker_queues(argv):
                assert queue not in served, f"{queue} served by {served.get(queue)} and {name}"
                served[queue] = name
        if argv[:1] == ["celery"] and "beat" in argv:
            beats.append(name)
    assert set(served) == queues
    assert all(served[queue] == f"worker-{queue}" for queue in queues)
    assert beats == ["beat"]
    assert "deploy" not in services()["beat"]  # no replicas setting that could start two


def test_web_healthcheck_probes_healthz():
    test = services()["web"]["healthcheck"]["test"]
    assert "http://127.0.0.1:8000/healthz" in " ".join(test)
    assert services()["web"]["environment"]["PORT"] == "8000"
    for name in ["beat", "migrate", "s3-init"]:
        assert services()[name]["healthcheck"] == {"disable": True}, name
    for queue in configured_queues():
        test = services()[f"worker-{queue}"]["healthcheck"]["test"]
        assert "inspect ping" in test[1]


def test_app_environment_names_are_settings():
    for name in APP_IMAGE_SERVICES:
        unknown = set(services()[name]["environment"]) - app_env_vars()
        assert not unknown, (name, unknown)


def test_interpolated_variables_are_in_env_example():
    missing = compose_interpolated_vars() - env_example_vars()
    assert not missing


def test_env_example_lists_every_setting():
    missing = app_env_vars() - env_example_vars()
    assert not missing, f"add to infra/.env.example: {sorted(missing)}"


def test_env_example_covers_the_readme_configuration_table():
    missing = readme_config_vars() - dev_only_env_vars() - env_example_vars()
    assert not missing, f"add to infra/.env.example: {sorted(missing)}"


def test_env_example_names_nothing_unknown():
    known = app_env_vars() | compose_interpolated_vars()
    unknown = env_example_vars() - known
    assert not unknown, f"infra/.env.example names variables nothing reads: {sorted(unknown)}"
    undocumented = {
        name for name in env_example_vars() & app_env_vars() if not documented_in_readme(name)
    }
    assert not undocumented, f"document in README.md: {sorted(undocumented)}"


def test_env_example_is_well_formed():
    for number, line in enumerate((INFRA / ".env.example").read_text().splitlines(), 1):
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", line), f"line {number}: {line!r}"
    values = dict(
        line.split("=", 1)
        for line in (INFRA / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values["DEBUG"] == "0"
    assert values["AWS_STORAGE_BUCKET_NAME"]


def test_caddy_reads_only_what_compose_gives_it():
    caddy = services()["caddy"]
    assert set(caddy["environment"]) == caddyfile_vars(INFRA / "caddy" / "Caddyfile")
    assert caddy["environment"]["CADDY_UPSTREAM"] == "web:8000"
    assert "./caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]


@pytest.mark.parametrize("caddyfile", ["caddy/Caddyfile", "k8s/base/edge/Caddyfile"])
def test_caddy_issues_certificates_on_demand_only_after_asking_the_platform(caddyfile):
    text = (INFRA / caddyfile).read_text()
    assert "ask http://{$CADDY_UPSTREAM}/_tls/ask" in text
    assert "on_demand" in text
    body = text.split("https:// {", 1)[1]
    assert "on_demand" in body.split("}", 1)[0]  # the catch-all site's own tls block
    assert "reverse_proxy {$CADDY_UPSTREAM}" in text
    assert text.count("{") == text.count("}")


# -- Dockerfile ----------------------------------------------------------------------------------


def dockerfile() -> str:
    return (INFRA / "Dockerfile").read_text()


def test_dockerfile_is_multi_stage_slim_and_non_root():
    text = dockerfile()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    stages = re.findall(r"^FROM \$\{PYTHON_IMAGE\} AS (\w+)$", text, flags=re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    users = re.findall(r"^USER (\S+)$", runtime, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert "COPY --from=build /opt/venv /opt/venv" in runtime


def test_dockerfile_copies_every_package_and_collects_static_files():
    text = dockerfile()
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        pattern.rstrip("*")
        for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\S+) \./", text, flags=re.MULTILINE))
    assert packages <= copied, packages - copied
    for source in copied:
        assert (ROOT / source).exists(), source
    assert "python manage.py collectstatic --noinput" in text
    # Folders the settings read files from at run time (translations, templates, static).
    from django.conf import settings

    folders = [*settings.LOCALE_PATHS, *getattr(settings, "STATICFILES_DIRS", [])]
    folders += [folder for template in settings.TEMPLATES for folder in template["DIRS"]]
    for folder in folders:
        top = Path(folder).resolve().relative_to(ROOT).parts[0]
        assert top in copied, f"{top}/ is used by the settings but not copied into the image"
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    for package in packages | {"manage.py", "pyproject.toml"}:
        assert package not in dockerignore


def test_dockerfile_healthcheck_and_command():
    text = dockerfile()
    healthcheck = text.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
    assert "/healthz" in healthcheck
    [cmd] = re.findall(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    import json

    argv = json.loads(cmd)
    assert check_command(argv) == "gunicorn"
    assert argv == as_argv(services()["web"]["command"])
    env_names = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", text.split("AS runtime", 1)[1]))
    env_names -= {"PG_MAJOR", "PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}
    env_names -= {"DJANGO_SETTINGS_MODULE"}
    assert env_names <= app_env_vars(), env_names - app_env_vars()


@pytest.mark.integration  # a whole Django process in a subprocess (~4 s)
def test_the_build_stage_collects_static_files_without_any_service(tmp_path):
    """The Dockerfile's collectstatic step, run as the build runs it: only the code and the
    variables it sets, no database, Redis or DEBUG."""
    import subprocess
    import sys

    text = dockerfile()
    step = text.split("RUN SECRET_KEY=", 1)[1].split("&&", 1)[0].replace("\\\n", " ")
    assignments = ("SECRET_KEY=" + step).split()
    env = dict(item.split("=", 1) for item in assignments if "=" in item)
    argv = [item for item in assignments if "=" not in item]
    assert argv == ["python", "manage.py", "collectstatic", "--noinput"]
    assert set(env) == {"SECRET_KEY", "STATIC_ROOT"}
    env["STATIC_ROOT"] = str(tmp_path / "static")
    result = subprocess.run(
        [sys.executable, *argv[1:]],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    collected = tmp_path / "static"
    assert (collected / "admin").is_dir()
    assert list(collected.rglob("*.css.gz")), "WhiteNoise compression did not run"
