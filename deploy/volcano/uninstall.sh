#!/usr/bin/env bash
# Uninstall the Volcano Helm release. Helm keeps the CRDs (and so every Volcano job and queue);
# --purge deletes them too, and the namespace.
#   deploy/volcano/uninstall.sh [--context CONTEXT] [--purge]
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

context=""; purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --context) context=$2; shift 2 ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) DIE_CODE=2 die "unknown option $1 (see --help)" ;;
  esac
done
require_tools kubectl helm
kube=(kubectl); helm_ctx=()
if [ -n "$context" ]; then kube+=(--context "$context"); helm_ctx=(--kube-context "$context"); fi
ns=$VOLCANO_NAMESPACE

release=$(helm list "${helm_ctx[@]}" --namespace "$ns" --filter "^${VOLCANO_RELEASE}\$" --output json)
if [ "$release" = "[]" ]; then
  unchanged "no Helm release $VOLCANO_RELEASE in $ns"
else
  helm uninstall "$VOLCANO_RELEASE" "${helm_ctx[@]}" --namespace "$ns" --wait
  changed "uninstalled Volcano (Helm release $VOLCANO_RELEASE)"
fi
if [ "$purge" = 1 ]; then
  crds=$("${kube[@]}" get crd --output name | grep '\.volcano\.sh$' || true)
  if [ -n "$crds" ]; then
    # shellcheck disable=SC2086 # one argument per CRD name
    "${kube[@]}" delete $crds
    changed "deleted the Volcano CRDs"
  fi
  if "${kube[@]}" get namespace "$ns" >/dev/null 2>&1; then
    "${kube[@]}" delete namespace "$ns"
    changed "deleted namespace $ns"
  fi
fi
