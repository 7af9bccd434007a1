#!/usr/bin/env bash
# From nothing to a working lab: a kind cluster, Volcano, the node agents, and the portal on this
# host or inside the cluster. Every step checks first, so running it again changes nothing (and says so).
#
#   deploy/up.sh [--name lab] [--config small|lab] [--portal none|host|cluster] [--no-volcano] [--no-agents]
#
#   --config small   1 control plane + 3 workers (deploy/kind/small.yaml, the default)
#   --config lab     1 control plane + 2 workers with reserved CPU/memory and /mnt/data as /data
#   --portal none    only print how to start the portal (the default)
#   --portal host    then run the portal here (scripts/run.sh; Ctrl-C stops it)
#   --portal cluster then run the portal inside the cluster (deploy/portal/deploy.sh)
# Needs docker (with a running engine), kind, kubectl and helm; versions: deploy/versions.env.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

name=lab; config=small; portal=none; volcano=1; agents=1
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --portal) portal=$2; shift 2 ;;
    --no-volcano) volcano=0; shift ;;
    --no-agents) agents=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) DIE_CODE=2 die "unknown option $1 (see --help)" ;;
  esac
done
case "$portal" in none|host|cluster) ;; *) DIE_CODE=2 die "--portal must be none, host or cluster" ;; esac
case "$config" in small|lab) ;; *) DIE_CODE=2 die "--config must be small or lab" ;; esac

tools=(docker kind kubectl)
[ "$volcano" = 0 ] || tools+=(helm)
require_tools "${tools[@]}"
require_docker_engine

VP_CHANGES_FILE=$(mktemp)
export VP_CHANGES_FILE
trap 'rm -f "$VP_CHANGES_FILE"' EXIT
context="kind-$name"
total=$((1 + volcano + agents)); [ "$portal" != cluster ] || total=$((total + 1))
n=0

n=$((n + 1)); step "$n/$total" "kind cluster $name ($config)"
"$DEPLOY_DIR/kind/create.sh" --name "$name" --config "$config"
if [ "$volcano" = 1 ]; then
  n=$((n + 1)); step "$n/$total" "Volcano $VOLCANO_VERSION"
  "$DEPLOY_DIR/volcano/install.sh" --context "$context"
fi
if [ "$agents" = 1 ]; then
  n=$((n + 1)); step "$n/$total" "node agents ($AGENT_IMAGE)"
  "$DEPLOY_DIR/agent/deploy.sh" --context "$context" --kind-cluster "$name"
fi
if [ "$portal" = cluster ]; then
  n=$((n + 1)); step "$n/$total" "the portal in the cluster ($PORTAL_IMAGE)"
  "$DEPLOY_DIR/portal/deploy.sh" --context "$context" --kind-cluster "$name"
fi

if [ -s "$VP_CHANGES_FILE" ]; then
  echo "Done: the lab $name is up. Changed:"
  sed 's/^/  - /' "$VP_CHANGES_FILE"
else
  echo "Nothing to change: the lab $name is already up."
fi
echo "kubectl context: $context (kubectl --context $context get nodes)"
if [ "$portal" = host ]; then
  echo "Starting the portal on this host (scripts/run.sh); import the context $context on its Clusters page."
  exec "$REPO_DIR/scripts/run.sh"
elif [ "$portal" = none ]; then
  echo "Start the portal with scripts/run.sh and import the context $context on its Clusters page,"
  echo "or run it in the cluster: deploy/up.sh --name $name --portal cluster"
fi
