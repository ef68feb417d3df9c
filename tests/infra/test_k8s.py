"""infra/k8s: every manifest parses and validates against the Kubernetes API schema, every
kustomization lists files that exist, and the commands, queues, settings and probes the
manifests name exist in the project."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.helpers import client_for
from tests.infra.project import (
    K8S,
    app_env_vars,
    as_argv,
    caddyfile_vars,
    celery_worker_queues,
    check_command,
    compose,
    configured_queues,
    env_example_vars,
)

KUBERNETES_VERSION = "1.30"  # the oldest version the manifests support (preStop sleep)
BASE = K8S / "base"
OVERLAYS = sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))
KUSTOMIZATIONS = [BASE, *OVERLAYS]
# Kinds from operators the cluster must run; no schema in kubernetes-validate.
CUSTOM_KINDS = {"Certificate"}
APP_IMAGE = "saas-platform"
WORKLOADS = {"Deployment", "Job", "StatefulSet", "DaemonSet"}


def manifest_files() -> list[Path]:
    return sorted(
        path
        for path in K8S.rglob("*.yaml")
        if path.name != "kustomization.yaml" and "overlays" not in path.parts
    )


def load_all(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@cache
def base_docs() -> tuple[dict, ...]:
    return tuple(doc for path in manifest_files() for doc in load_all(path))


def by_kind(docs, kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def containers(docs):
    for doc in docs:
        if doc["kind"] in WORKLOADS:
            for container in pod_spec(doc)["containers"]:
                yield doc, container


def kustomization(directory: Path) -> dict:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def base_config_literals() -> dict[str, str]:
    [generator] = [
        g for g in kustomization(BASE)["configMapGenerator"] if g["name"] == "platform-config"
    ]
    return dict(literal.split("=", 1) for literal in generator["literals"])


# -- files ---------------------------------------------------------------------------------------


def test_every_manifest_parses_and_names_itself():
    assert manifest_files()
    for path in [*manifest_files(), *(d / "kustomization.yaml" for d in KUSTOMIZATIONS)]:
        docs = load_all(path)
        assert docs, path
        for doc in docs:
            assert {"apiVersion", "kind"} <= set(doc), path
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_kustomization_lists_files_that_exist(directory):
    spec = kustomization(directory)
    for resource in spec["resources"]:
        target = (directory / resource).resolve()
        assert target.exists(), resource
        if target.is_dir():
            assert (target / "kustomization.yaml").exists(), resource
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        for entry in generator.get("files", []):
            assert (directory / entry.split("=", 1)[-1]).exists(), entry
        for entry in generator.get("envs", []):
            assert (directory / entry).exists(), entry
    for patch in spec.get("patches", []):
        if "path" in patch:
            assert (directory / patch["path"]).exists(), patch["path"]
        else:
            assert yaml.safe_load(patch["patch"]), patch["target"]


def test_base_lists_every_manifest_it_holds():
    listed = {(BASE / resource).resolve() for resource in kustomization(BASE)["resources"]}
    files = {path.resolve() for path in manifest_files()}
    assert files == listed, files ^ listed


def test_manifests_validate_against_the_kubernetes_schema():
    checked = 0
    for doc in base_docs():
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 15


def test_the_certificate_covers_the_ingress_hosts():
    [certificate] = by_kind(base_docs(), "Certificate").values()
    assert certificate["apiVersion"] == "cert-manager.io/v1"
    [ingress] = by_kind(base_docs(), "Ingress").values()
    [tls] = ingress["spec"]["tls"]
    assert tls["secretName"] == certificate["spec"]["secretName"]
    assert set(tls["hosts"]) == set(certificate["spec"]["dnsNames"])
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts == set(tls["hosts"])
    domain = base_config_literals()["PLATFORM_DOMAIN"]
    assert hosts == {domain, f"*.{domain}"}


# -- what the manifests run ----------------------------------------------------------------------


def test_every_command_exists_in_the_project():
    kinds = []
    for _doc, container in containers(base_docs()):
        if container["image"] == APP_IMAGE:
            kinds.append(check_command(container["command"]))
    assert sorted(set(kinds)) == [
        "celery beat",
        "celery worker",
        "gunicorn",
        "manage.py deploy_migrate",
    ]


def test_one_worker_deployment_per_configured_queue():
    served = {}
    for doc, container in containers(base_docs()):
        argv = container.get("command", [])
        if argv[:1] == ["celery"] and "worker" in argv:
            for queue in celery_worker_queues(argv):
                assert queue not in served, queue
                served[queue] = doc["metadata"]["name"]
                assert doc["metadata"]["labels"]["saas-platform/queue"] == queue
    assert served == {queue: f"worker-{queue}" for queue in configured_queues()}


def test_exactly_one_beat_that_never_overlaps():
    beats = [
        doc
        for doc, container in containers(base_docs())
        if container.get("command", [])[:1] == ["celery"] and "beat" in container["command"]
    ]
    assert [doc["metadata"]["name"] for doc in beats] == ["beat"]
    [beat] = beats
    assert beat["kind"] == "Deployment"
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    targets = {
        hpa["spec"]["scaleTargetRef"]["name"]
        for hpa in by_kind(base_docs(), "HorizontalPodAutoscaler").values()
    }
    assert "beat" not in targets


def test_the_migration_job_runs_before_the_rollout():
    job = by_kind(base_docs(), "Job")["deploy-migrate"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    [container] = pod_spec(job)["containers"]
    assert check_command(container["command"]) == "manage.py deploy_migrate"
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    script = (K8S / "deploy.sh").read_text()
    assert "job/deploy-migrate" in script and "delete job deploy-migrate" in script
    assert "app.kubernetes.io/component in (config, migrate)" in script
    assert script.index("wait --for=condition=complete") < script.index(
        'kubectl apply -k "$OVERLAY"\n'
    )
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migrate"
    for generator in kustomization(BASE)["configMapGenerator"]:
        if generator["name"] == "platform-config":
            assert generator["options"]["labels"]["app.kubernetes.io/component"] == "config"


def test_commands_and_images_match_the_compose_stack():
    services = compose()["services"]
    assert services["web"]["image"].split(":-", 1)[1].split(":")[0] == APP_IMAGE
    kube = {
        doc["metadata"]["name"]: container["command"]
        for doc, container in containers(base_docs())
        if container["image"] == APP_IMAGE
    }
    assert kube.pop("deploy-migrate") == as_argv(services["migrate"]["command"])
    for name, command in kube.items():
        assert command == as_argv(services[name]["command"]), name
    assert kustomization(BASE)["images"][0]["name"] == APP_IMAGE


# -- probes, settings, resources, availability ---------------------------------------------------


def http_probe_paths(docs) -> set[str]:
    paths = set()
    for _doc, container in containers(docs):
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if "httpGet" in container.get(probe, {}):
                port = container[probe]["httpGet"]["port"]
                names = {p.get("name") for p in container["ports"]} | {
                    p["containerPort"] for p in container["ports"]
                }
                assert port in names, (container["name"], port)
                paths.add(container[probe]["httpGet"]["path"])
    return paths


@pytest.mark.django_db
def test_http_probe_paths_are_served_on_a_pod_ip():
    paths = http_probe_paths(base_docs())
    assert paths == {"/healthz"}
    web = by_kind(base_docs(), "Deployment")["web"]
    [container] = pod_spec(web)["containers"]
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    for path in paths:
        client = client_for(None)
        client.defaults["HTTP_HOST"] = "10.12.0.7:8000"  # the kubelet's Host header
        assert client.get(path).status_code == 200


def test_env_names_are_settings_and_config_keys_exist():
    literals = base_config_literals()
    for overlay in OVERLAYS:
        for generator in kustomization(overlay).get("configMapGenerator", []):
            literals.update(dict(item.split("=", 1) for item in generator.get("literals", [])))
    known = app_env_vars() | env_example_vars()
    assert set(literals) <= known, set(literals) - known
    for doc, container in containers(base_docs()):
        names = {item["name"] for item in container.get("env", [])}
        if container["image"] == APP_IMAGE:
            assert names <= app_env_vars(), (doc["metadata"]["name"], names - app_env_vars())
            assert container["envFrom"] == [
                {"configMapRef": {"name": "platform-config"}},
                {"secretRef": {"name": "platform-secrets"}},
            ]
        else:
            caddy = caddyfile_vars(BASE / "edge" / "Caddyfile")
            assert caddy <= names, caddy - names
            assert names - caddy <= {"XDG_DATA_HOME", "XDG_CONFIG_HOME"}
        for item in container.get("env", []):
            ref = item.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                assert ref["name"] == "platform-config" and ref["key"] in literals


def test_every_container_has_requests_and_limits_and_runs_unprivileged():
    for doc, container in containers(base_docs()):
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[kind]), (doc["metadata"]["name"], kind)
        assert pod_spec(doc)["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


def _pods_matching(selector: dict) -> list[str]:
    return [
        doc["metadata"]["name"]
        for doc in base_docs()
        if doc["kind"] in WORKLOADS
        and selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items()
    ]


def test_disruption_budgets_services_and_autoscaler_select_real_pods():
    budgets = by_kind(base_docs(), "PodDisruptionBudget")
    covered = {
        name
        for pdb in budgets.values()
        for name in _pods_matching(pdb["spec"]["selector"]["matchLabels"])
    }
    deployments = set(by_kind(base_docs(), "Deployment"))
    assert covered == deployments - {"beat"}
    for pdb in budgets.values():
        assert len(_pods_matching(pdb["spec"]["selector"]["matchLabels"])) == 1
    for service in by_kind(base_docs(), "Service").values():
        assert len(_pods_matching(service["spec"]["selector"])) == 1, service["metadata"]["name"]
    [hpa] = by_kind(base_docs(), "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "web"
    assert "web" in deployments
    web = by_kind(base_docs(), "Deployment")["web"]
    assert "replicas" not in web["spec"]  # the autoscaler owns it
    assert budgets["web"]["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    ingress = by_kind(base_docs(), "Ingress")["platform"]
    services = by_kind(base_docs(), "Service")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] in services
            assert backend["port"]["name"] in {
                p["name"] for p in services[backend["name"]]["spec"]["ports"]
            }


# -- the built overlays (kubectl's kustomize) ----------------------------------------------------

needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed"
)


def build(directory: Path) -> list[dict]:
    result = subprocess.run(
        [shutil.which("kubectl"), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@needs_kubectl
@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S)))
def test_kustomize_builds_and_the_output_validates(directory):
    docs = build(directory)
    for doc in docs:
        if doc["kind"] not in CUSTOM_KINDS:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    configmaps = {doc["metadata"]["name"] for doc in docs if doc["kind"] == "ConfigMap"}
    for _doc, container in containers(docs):
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in configmaps


@needs_kubectl
@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda p: p.name)
def test_overlay_sets_namespace_image_and_domain_everywhere(overlay):
    docs = build(overlay)
    spec = kustomization(overlay)
    namespace = spec["namespace"]
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace, doc["metadata"]["name"]
    [image] = [entry for entry in spec["images"] if entry["name"] == APP_IMAGE]
    expected = f"{image['newName']}:{image['newTag']}"
    app_images = {c["image"] for _d, c in containers(docs) if c["name"] != "caddy"}
    assert app_images == {expected}
    [config] = [
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("platform-config")
    ]
    domain = config["data"]["PLATFORM_DOMAIN"]
    [ingress] = [d for d in docs if d["kind"] == "Ingress"]
    [certificate] = [d for d in docs if d["kind"] == "Certificate"]
    assert {rule["host"] for rule in ingress["spec"]["rules"]} == {domain, f"*.{domain}"}
    assert set(ingress["spec"]["tls"][0]["hosts"]) == {domain, f"*.{domain}"}
    assert set(certificate["spec"]["dnsNames"]) == {domain, f"*.{domain}"}
    web = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "web")
    env = {item["name"]: item["value"] for item in pod_spec(web)["containers"][0]["env"]}
    assert int(env["GUNICORN_WORKERS"]) >= 2


def test_deploy_script_is_valid_bash_and_names_real_things():
    script = K8S / "deploy.sh"
    result = subprocess.run(
        [shutil.which("bash"), "-n", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    text = script.read_text()
    assert 'OVERLAY="${2:-$(dirname "$0")/overlays/production}"' in text
    namespaces = {kustomization(overlay)["namespace"] for overlay in OVERLAYS}
    assert 'NAMESPACE="${NAMESPACE:-saas-platform}"' in text and namespaces == {"saas-platform"}
    assert f"saas-platform={'$'}IMAGE" in text  # the image name the kustomizations rewrite
