# shellcheck shell=bash
# Shared by the deploy scripts: pinned versions, messages, tool checks, change tracking.
# Output protocol (read by clusters/lab.py for the portal's progress bar):
#   "[i/n] text"   a step starts         "= text"  nothing to change
#   "+ text"       something changed     "error: text" (stderr) the step failed

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_DIR=$(dirname "$DEPLOY_DIR")
# shellcheck source=SCRIPTDIR/versions.env
. "$DEPLOY_DIR/versions.env"

step() { echo "[$1] $2"; }
unchanged() { echo "= $*"; }
changed() {
  echo "+ $*"
  if [ -n "${VP_CHANGES_FILE:-}" ]; then echo "$*" >>"$VP_CHANGES_FILE"; fi
}
die() { echo "error: $*" >&2; exit "${DIE_CODE:-1}"; }

# How to install each tool, shown when it is missing.
install_hint() {
  case "$1" in
    docker) echo "curl -fsSL https://get.docker.com | sudo sh && sudo usermod -aG docker \"\$USER\" && newgrp docker" ;;
    kind) echo "curl -Lo ./kind https://kind.sigs.k8s.io/dl/$KIND_VERSION/kind-linux-amd64 && chmod +x ./kind && sudo mv ./kind /usr/local/bin/kind" ;;
    kubectl) echo "curl -LO https://dl.k8s.io/release/$KUBECTL_VERSION/bin/linux/amd64/kubectl && sudo install -m 0755 kubectl /usr/local/bin/kubectl" ;;
    helm) echo "curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3 | bash" ;;
    *) echo "install $1 with your package manager" ;;
  esac
}

# require_tools docker kind ...: report every missing tool with its install command, exit 3 if any.
require_tools() {
  local missing=0 tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "error: $tool is not installed (or not on PATH). Install it with:" >&2
      echo "  $(install_hint "$tool")" >&2
      missing=1
    fi
  done
  if [ "$missing" = 1 ]; then exit 3; fi
}

# The docker CLI is there; is an engine answering it? Exit 4 if not.
require_docker_engine() {
  local output
  if ! output=$(docker info --format '{{.ServerVersion}}' 2>&1); then
    echo "error: docker is installed but no Docker engine answers (is the daemon running? try: sudo systemctl start docker;" \
         "is your user in the docker group? try: sudo usermod -aG docker \"\$USER\" && newgrp docker)." >&2
    echo "  docker said: $(echo "$output" | tail -n 1)" >&2
    exit 4
  fi
}

# The options both deploy scripts take; sets context, kind_cluster, rebuild and timeout (default $1),
# checks the tools they need, and sets kube=(kubectl [--context …]). Help is the script's header.
# shellcheck disable=SC2034  # the variables are the callers'
deploy_options() {
  context=""; kind_cluster=""; rebuild=0; timeout=$1; shift
  while [ $# -gt 0 ]; do
    case "$1" in
      --context) context=$2; shift 2 ;;
      --kind-cluster) kind_cluster=$2; shift 2 ;;
      --rebuild) rebuild=1; shift ;;
      --timeout) timeout=$2; shift 2 ;;
      -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
      *) DIE_CODE=2 die "unknown option $1 (see --help)" ;;
    esac
  done
  if [ -n "$kind_cluster" ]; then
    require_tools docker kind kubectl
    require_docker_engine
  else
    require_tools kubectl
  fi
  kube=(kubectl); [ -z "$context" ] || kube+=(--context "$context")
}

# With --kind-cluster: build image $1 from Dockerfile $2 (if missing, or with --rebuild) and load it into
# the kind cluster. Sets new_image=1 when the nodes got an image they did not have.
# shellcheck disable=SC2154,SC2034  # kind_cluster and rebuild come from deploy_options; new_image is the caller's
build_and_load_image() {
  local image=$1 dockerfile=$2 load_output
  new_image=0
  [ -n "$kind_cluster" ] || return 0
  if [ "$rebuild" = 1 ] || ! docker image inspect "$image" >/dev/null 2>&1; then
    docker build -f "$dockerfile" -t "$image" "$REPO_DIR"
    changed "built image $image"
  else
    unchanged "image $image exists (--rebuild to build it again)"
  fi
  load_output=$(kind load docker-image "$image" --name "$kind_cluster" 2>&1)
  echo "$load_output"
  if echo "$load_output" | grep -q "already present on all nodes"; then
    unchanged "image $image is on every node of $kind_cluster"
  else
    new_image=1
    changed "loaded image $image into kind cluster $kind_cluster"
  fi
}
