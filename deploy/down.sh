#!/usr/bin/env bash
# Delete the lab's kind cluster (with Volcano, the agents, an in-cluster portal and all their data).
# Nothing happens when there is no such cluster. The images built by up.sh stay in Docker.
#   deploy/down.sh [--name lab]
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

name=lab
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) DIE_CODE=2 die "unknown option $1 (see --help)" ;;
  esac
done
require_tools docker kind
require_docker_engine

clusters=$(kind get clusters 2>/dev/null || true)
if printf '%s\n' "$clusters" | grep -qx -- "$name"; then
  kind delete cluster --name "$name"
  changed "deleted kind cluster $name"
else
  unchanged "no kind cluster named $name; nothing to delete"
fi
