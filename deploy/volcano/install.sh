#!/usr/bin/env bash
# Install Volcano (the version pinned in deploy/versions.env) from its Helm chart, wait until its
# admission, controllers and scheduler are available, and run deploy/volcano/verify.sh. Nothing
# changes when that version is installed already, or when Volcano was installed another way.
#   deploy/volcano/install.sh [--context CONTEXT] [--no-verify]      (KUBECONFIG is honoured)
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

context=""
verify=1
while [ $# -gt 0 ]; do
  case "$1" in
    --context) context=$2; shift 2 ;;
    --no-verify) verify=0; shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) DIE_CODE=2 die "unknown option $1 (see --help)" ;;
  esac
done
require_tools kubectl helm
kube=(kubectl); helm_ctx=()
if [ -n "$context" ]; then kube+=(--context "$context"); helm_ctx=(--kube-context "$context"); fi
ns=$VOLCANO_NAMESPACE

# helm's JSON is one line: [{"name":"volcano",...,"status":"deployed","chart":"volcano-1.13.0",...}]
release=$(helm list "${helm_ctx[@]}" --namespace "$ns" --filter "^${VOLCANO_RELEASE}\$" --output json)
if echo "$release" | grep -q "\"chart\":\"volcano-$VOLCANO_VERSION\"" \
   && echo "$release" | grep -q '"status":"deployed"'; then
  unchanged "Volcano $VOLCANO_VERSION is installed (Helm release $VOLCANO_RELEASE in $ns)"
  exit 0
fi
if [ "$release" = "[]" ] && "${kube[@]}" get deployment volcano-scheduler --namespace "$ns" >/dev/null 2>&1; then
  unchanged "Volcano is installed, but not by Helm; leaving it as it is (uninstall it first to let this script manage it)"
  exit 0
fi

echo "Installing Volcano $VOLCANO_VERSION from $VOLCANO_CHART_REPO …"
helm upgrade --install "$VOLCANO_RELEASE" volcano "${helm_ctx[@]}" \
  --repo "$VOLCANO_CHART_REPO" --version "$VOLCANO_VERSION" \
  --namespace "$ns" --create-namespace --wait --timeout 10m
"${kube[@]}" wait --namespace "$ns" --for=condition=Available --timeout=300s \
  deployment/volcano-admission deployment/volcano-controllers deployment/volcano-scheduler
changed "installed Volcano $VOLCANO_VERSION"
if [ "$verify" = 1 ]; then
  "$DEPLOY_DIR/volcano/verify.sh" ${context:+--context "$context"}
fi
