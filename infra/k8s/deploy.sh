#!/usr/bin/env bash
# Deploy a release: the migration Job first, the rollout only once it has succeeded.
#
#   infra/k8s/deploy.sh registry.example.net/saas-platform:2026.11.1 [overlay]
#
# 1. the overlay's image is set to the release;
# 2. the config and the deploy-migrate Job (manage.py deploy_migrate) are applied alone; the
#    previous Job is deleted first (a Job's pod template cannot change); we wait for it to
#    complete (the old release keeps serving meanwhile: migrations must be compatible with it);
# 3. everything else is applied and we wait for every Deployment to roll out.
# A failed migration stops here with the old release still running; fix it and run this again:
# deploy_migrate resumes the interrupted run (tenant schemas already done are skipped).
set -euo pipefail

IMAGE="${1:?usage: deploy.sh <image:tag> [overlay directory]}"
OVERLAY="${2:-$(dirname "$0")/overlays/production}"
NAMESPACE="${NAMESPACE:-saas-platform}"
MIGRATE_TIMEOUT="${MIGRATE_TIMEOUT:-7200s}"
ROLLOUT_TIMEOUT="${ROLLOUT_TIMEOUT:-900s}"

if command -v kustomize >/dev/null; then
  (cd "$OVERLAY" && kustomize edit set image "saas-platform=$IMAGE")
else
  # Without the kustomize binary: rewrite the images entry of the overlay in place.
  python3 - "$OVERLAY/kustomization.yaml" "$IMAGE" <<'PY'
import re, sys
path, image = sys.argv[1], sys.argv[2]
name, _, tag = image.rpartition(":")
if not name or "/" in tag:
    sys.exit(f"image must be <name>:<tag>, got {image!r}")
text = open(path).read()
text = re.sub(r"(- name: saas-platform\n\s+newName: ).*\n(\s+newTag: ).*\n",
              lambda m: f'{m.group(1)}{name}\n{m.group(2)}"{tag}"\n', text, count=1)
open(path, "w").write(text)
PY
fi

echo "== migrating ($IMAGE)"
kubectl -n "$NAMESPACE" delete job deploy-migrate --ignore-not-found --wait=true
# The namespace and the config carry the "config" component label, so they come first too.
kubectl apply -k "$OVERLAY" -l 'app.kubernetes.io/component in (config, migrate)'
if ! kubectl -n "$NAMESPACE" wait --for=condition=complete job/deploy-migrate \
  --timeout="$MIGRATE_TIMEOUT"; then
  kubectl -n "$NAMESPACE" logs job/deploy-migrate --tail=50 || true
  echo "deploy-migrate did not complete; the previous release is still serving." >&2
  exit 1
fi

echo "== rolling out"
kubectl apply -k "$OVERLAY"
for deployment in $(kubectl -n "$NAMESPACE" get deployments \
  -l app.kubernetes.io/part-of=saas-platform -o name); do
  kubectl -n "$NAMESPACE" rollout status "$deployment" --timeout="$ROLLOUT_TIMEOUT"
done
echo "== deployed $IMAGE"
