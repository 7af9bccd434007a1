#!/usr/bin/env bash
# Create a kind cluster from deploy/kind/<config>.yaml with the pinned node image, unless a kind
# cluster of that name exists already (then nothing changes).
#   deploy/kind/create.sh [--name lab] [--config small|lab]
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

name=lab
config=small
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) DIE_CODE=2 die "unknown option $1 (see --help)" ;;
  esac
done
config_file="$DEPLOY_DIR/kind/$config.yaml"
[ -f "$config_file" ] || DIE_CODE=2 die "no kind config $config_file (use small or lab)"

require_tools docker kind kubectl
require_docker_engine

clusters=$(kind get clusters 2>/dev/null || true)
if printf '%s\n' "$clusters" | grep -qx -- "$name"; then
  unchanged "kind cluster $name exists"
  # The context may have been removed from the kubeconfig; put it back (a local file, not the cluster).
  if ! kubectl config get-contexts "kind-$name" >/dev/null 2>&1; then
    kind export kubeconfig --name "$name"
  fi
else
  if [ "$config" = lab ] && [ ! -d /mnt/data ]; then
    echo "note: /mnt/data does not exist; Docker will create it (owned by root) for the workers' /data mount."
  fi
  kind create cluster --name "$name" --config "$config_file" --image "$KIND_NODE_IMAGE" --wait 180s
  changed "created kind cluster $name ($config, $KIND_NODE_IMAGE)"
fi
kubectl --context "kind-$name" get nodes
