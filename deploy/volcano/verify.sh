#!/usr/bin/env bash
# Run the seed's busybox job (deploy/volcano/test-job.yaml) through Volcano to completion, then delete it.
#   deploy/volcano/verify.sh [--context CONTEXT] [--namespace default] [--timeout 300s]
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

context=""; namespace=default; timeout=300s
while [ $# -gt 0 ]; do
  case "$1" in
    --context) context=$2; shift 2 ;;
    --namespace) namespace=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    *) DIE_CODE=2 die "unknown option $1 (see --help)" ;;
  esac
done
require_tools kubectl
kube=(kubectl --namespace "$namespace"); [ -z "$context" ] || kube+=(--context "$context")
job=volcano-portal-verify

"${kube[@]}" delete vcjob "$job" --ignore-not-found --wait=true >/dev/null
"${kube[@]}" create -f "$DEPLOY_DIR/volcano/test-job.yaml"
if ! "${kube[@]}" wait "vcjob/$job" --for=jsonpath='{.status.state.phase}'=Completed --timeout="$timeout"; then
  "${kube[@]}" get vcjob "$job" -o wide >&2 || true
  "${kube[@]}" get pods -l "volcano.sh/job-name=$job" >&2 || true
  die "the Volcano test job did not complete within $timeout (see the job and its pods above)"
fi
"${kube[@]}" delete vcjob "$job" --wait=false >/dev/null
echo "Volcano works: the test job ran to completion."
