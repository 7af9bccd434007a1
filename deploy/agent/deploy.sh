#!/usr/bin/env bash
# Deploy the node agents: build the agent image (if missing), load it into the kind cluster, create
# the token Secret once (random, or $AGENT_TOKEN), apply deploy/lab/agent and wait until the DaemonSet
# is ready on every worker. Running it again changes nothing.
#   deploy/agent/deploy.sh [--context CONTEXT] [--kind-cluster NAME] [--rebuild] [--timeout 300s]
# Without --kind-cluster the image ($AGENT_IMAGE, default from deploy/versions.env) must be pullable
# by the cluster's nodes (push it to a registry first).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"

deploy_options 300s "$@"
image=${AGENT_IMAGE_OVERRIDE:-$AGENT_IMAGE}
ns=volcano-portal-agents
secret=volcano-portal-agent-token

build_and_load_image "$image" "$DEPLOY_DIR/agent/Dockerfile"

ns_applied=$("${kube[@]}" apply -f "$DEPLOY_DIR/agent/namespace.yaml")
case "$ns_applied" in *unchanged) ;; *) changed "$ns_applied" ;; esac
if "${kube[@]}" get secret "$secret" --namespace "$ns" >/dev/null 2>&1; then
  unchanged "Secret $secret exists (the agents' token)"
else
  token=${AGENT_TOKEN:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  # From stdin, so the token never shows in a process list.
  printf '%s' "$token" | "${kube[@]}" create secret generic "$secret" --namespace "$ns" --from-file=token=/dev/stdin
  changed "created Secret $ns/$secret (read the token with: kubectl -n $ns get secret $secret -o jsonpath='{.data.token}' | base64 -d)"
fi

manifests=$("${kube[@]}" kustomize "$DEPLOY_DIR/lab/agent" | sed "s#image: $AGENT_IMAGE\$#image: $image#")
applied=$(echo "$manifests" | "${kube[@]}" apply -f -)
echo "$applied"
if echo "$applied" | grep -qv ' unchanged$'; then changed "applied the agent DaemonSet"; else unchanged "agent manifests are up to date"; fi

"${kube[@]}" rollout status daemonset/volcano-portal-agent --namespace "$ns" --timeout "$timeout"
workers=$("${kube[@]}" get nodes --selector '!node-role.kubernetes.io/control-plane' --output name | wc -l)
ready=$("${kube[@]}" get daemonset volcano-portal-agent --namespace "$ns" --output 'jsonpath={.status.numberReady}')
if [ "${ready:-0}" -lt "$workers" ]; then
  die "only ${ready:-0} of $workers worker nodes run a ready agent (tainted nodes? see: kubectl -n $ns get pods -o wide)"
fi
echo "Agents ready on $ready of $workers worker nodes."
