#!/usr/bin/env bash
# Run the portal inside a cluster: build its image (if missing) and load it into the kind cluster,
# create the Secret volcano-portal-secrets once with random keys, apply deploy/portal (web, worker,
# beat, migration Job, in-cluster PostgreSQL and Redis) and wait until it is ready. Running it again
# changes nothing.
#   deploy/portal/deploy.sh [--context CONTEXT] [--kind-cluster NAME] [--rebuild] [--timeout 600s]
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

deploy_options 600s "$@"
ns=volcano-portal
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

build_and_load_image "$PORTAL_IMAGE" "$DEPLOY_DIR/portal/Dockerfile"

ns_applied=$("${kube[@]}" apply -f "$DEPLOY_DIR/portal/base/namespace.yaml")
case "$ns_applied" in *unchanged) ;; *) changed "$ns_applied" ;; esac
if "${kube[@]}" get secret volcano-portal-secrets --namespace "$ns" >/dev/null 2>&1; then
  unchanged "Secret volcano-portal-secrets exists"
else
  password=$(random_hex 24)
  fernet=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')
  # Through a file of mode 600, so no secret shows in a process list.
  env_file=$(mktemp); trap 'rm -f "$env_file"' EXIT
  cat >"$env_file" <<VALUES
DJANGO_SECRET_KEY=$(random_hex 48)
PORTAL_ENCRYPTION_KEYS=$fernet
POSTGRES_PASSWORD=$password
DATABASE_URL=postgres://portal:$password@volcano-portal-postgres:5432/portal
REDIS_URL=redis://volcano-portal-redis:6379/0
VALUES
  "${kube[@]}" create secret generic volcano-portal-secrets --namespace "$ns" --from-env-file="$env_file"
  changed "created Secret $ns/volcano-portal-secrets with random keys"
fi

if [ "$new_image" = 1 ] && "${kube[@]}" get job volcano-portal-migrate --namespace "$ns" >/dev/null 2>&1; then
  # A Job cannot be changed: run the migrations of the new image with a new Job.
  "${kube[@]}" delete job volcano-portal-migrate --namespace "$ns" --wait=true
fi
applied=$("${kube[@]}" apply -k "$DEPLOY_DIR/portal")
echo "$applied"
if echo "$applied" | grep -qv ' unchanged$'; then changed "applied deploy/portal"; else unchanged "portal manifests are up to date"; fi
if [ "$new_image" = 1 ]; then
  "${kube[@]}" rollout restart --namespace "$ns" deployment/volcano-portal-web deployment/volcano-portal-worker deployment/volcano-portal-beat
fi

"${kube[@]}" rollout status --namespace "$ns" statefulset/volcano-portal-postgres --timeout "$timeout"
"${kube[@]}" rollout status --namespace "$ns" statefulset/volcano-portal-redis --timeout "$timeout"
"${kube[@]}" wait --namespace "$ns" --for=condition=Complete job/volcano-portal-migrate --timeout "$timeout"
for deployment in web worker beat; do
  "${kube[@]}" rollout status --namespace "$ns" "deployment/volcano-portal-$deployment" --timeout "$timeout"
done
echo "The portal runs in namespace $ns. Open it with:"
echo "  kubectl${context:+ --context $context} -n $ns port-forward service/volcano-portal-web 8000:80   # then http://localhost:8000"
echo "The first admin's one-time password is in the migration Job's log:"
echo "  kubectl${context:+ --context $context} -n $ns logs job/volcano-portal-migrate"
