"""Stand-ins for docker, kind, kubectl and helm: `python standin.py <tool> <args...>`.

They keep a small world in $STANDIN_STATE/state.json (kind clusters, local images, images loaded on
nodes, Helm releases, applied objects, Secrets), record every call to $STANDIN_STATE/calls.jsonl
(tool, argv, and stdin when a command reads it) and print what the real CLIs print for the commands
the deploy scripts and clusters/docker.py / clusters/kind.py use. Modes, set in the state:
  "engine": "down"   docker (and kind) answer like a host whose Docker daemon is not running
  "volcano_not_helm": true   Volcano runs in the cluster, installed without Helm
  "kubeconfig": "..."        what `kind get kubeconfig` prints
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

STATE_DIR = Path(os.environ["STANDIN_STATE"])
ENGINE_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
REAL_KUBECTL = os.environ.get("STANDIN_REAL_KUBECTL", "/usr/bin/kubectl")


def load_state():
    path = STATE_DIR / "state.json"
    state = json.loads(path.read_text()) if path.exists() else {}
    for key, default in (("clusters", {}), ("images", {}), ("releases", {}), ("objects", {}), ("secrets", [])):
        state.setdefault(key, default)
    return state


def save_state(state):
    (STATE_DIR / "state.json").write_text(json.dumps(state, indent=1))


def record(tool, argv, stdin=None):
    entry = {"tool": tool, "argv": argv}
    if stdin is not None:
        entry["stdin"] = stdin
    with open(STATE_DIR / "calls.jsonl", "a") as f:
        f.write(json.dumps(entry) + "\n")


def fail(message, code=1):
    print(message, file=sys.stderr)
    sys.exit(code)


def option(argv, *names, default=None):
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return default


def positionals(argv, with_value=()):
    """Words that are not options (skipping the values of options in with_value)."""
    words, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in with_value
            continue
        words.append(arg)
    return words


def image_id(ref):
    return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()


# ------------------------------------------------------------------------------------------ docker


def docker(argv, state):
    words = positionals(argv, ("-f", "--file", "-t", "--tag", "--format"))
    command = words[:2] if words[:1] == ["image"] else words[:1]
    if state.get("engine") == "down" and command != ["version"]:
        fail(ENGINE_DOWN)
    if command == ["info"]:
        print("28.2.2")
    elif command in (["images"], ["image", "ls"]):
        for ref, image in sorted(state["images"].items()):
            repository, _, tag = ref.rpartition(":")
            print(json.dumps({
                "Containers": "N/A", "CreatedAt": image.get("created", "2025-09-18 02:53:29 +0000 UTC"),
                "CreatedSince": "2 weeks ago", "Digest": "<none>", "ID": image_id(ref)[7:19],
                "Repository": repository, "SharedSize": "N/A", "Size": image.get("size", "7.62GB"), "Tag": tag,
                "UniqueSize": "N/A", "VirtualSize": image.get("size", "7.62GB"),
            }))
    elif command == ["image", "inspect"]:
        ref = words[2]
        if ref not in state["images"]:
            fail(f"Error response from daemon: No such image: {ref}")
        print(json.dumps([{"Id": image_id(ref), "RepoTags": [ref]}]))
    elif command == ["build"]:
        tag = option(argv, "-t", "--tag")
        dockerfile = option(argv, "-f", "--file")
        if dockerfile and not Path(dockerfile).exists():
            fail(f"ERROR: failed to build: resolve : lstat {dockerfile}: no such file or directory")
        for line in ("#0 building with \"default\" instance using docker driver",
                     f"#1 [internal] load build definition from {Path(dockerfile or 'Dockerfile').name}",
                     "#1 DONE 0.0s", "#2 exporting to image", f"#2 naming to docker.io/library/{tag} done",
                     "#2 DONE 0.1s"):
            print(line, file=sys.stderr)
        state["images"][tag] = {"created": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime()),
                                "size": "512MB"}
        save_state(state)
    elif command == ["version"]:
        print("28.2.2")
    else:
        fail(f"standin docker: unsupported command {argv}", 64)


# ------------------------------------------------------------------------------------------ kind


def kind(argv, state):
    words = positionals(argv, ("--name", "--config", "--image", "--wait", "--kubeconfig"))
    name = option(argv, "--name", default="kind")
    if state.get("engine") == "down":
        fail('ERROR: failed to list clusters: command "docker ps -a --filter label=io.x-k8s.kind.cluster '
             '--format \'{{.Label "io.x-k8s.kind.cluster"}}\'" failed with error: exit status 1\n'
             f"Command Output: {ENGINE_DOWN}")
    clusters = state["clusters"]
    if words == ["get", "clusters"]:
        if not clusters:
            print("No kind clusters found.", file=sys.stderr)
        for cluster in sorted(clusters):
            print(cluster)
    elif words == ["get", "nodes"]:
        if name not in clusters:
            fail(f'No kind nodes found for cluster "{name}".')
        for node in nodes_of(name, clusters[name]):
            print(node)
    elif words == ["create", "cluster"]:
        if name in clusters:
            fail(f'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "{name}"')
        config = yaml.safe_load(Path(option(argv, "--config")).read_text())
        assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4", config
        workers = sum(1 for node in config["nodes"] if node["role"] == "worker")
        image = option(argv, "--image", default="kindest/node:default")
        out = [f'Creating cluster "{name}" ...', f" ✓ Ensuring node image ({image}) 🖼",
               " ✓ Preparing nodes " + "📦 " * (workers + 1), " ✓ Writing configuration 📜",
               " ✓ Starting control-plane 🕹️", " ✓ Installing CNI 🔌", " ✓ Installing StorageClass 💾",
               " ✓ Joining worker nodes 🚜", f'Set kubectl context to "kind-{name}"',
               "You can now use your cluster with:", "", f"kubectl cluster-info --context kind-{name}"]
        print("\n".join(out), file=sys.stderr)
        clusters[name] = {"workers": workers, "image": image, "loaded": []}
        save_state(state)
    elif words == ["delete", "cluster"]:
        print(f'Deleting cluster "{name}" ...', file=sys.stderr)
        if name in clusters:
            print(f"Deleted nodes: {json.dumps(nodes_of(name, clusters.pop(name)))}", file=sys.stderr)
            save_state(state)
    elif words[:2] == ["load", "docker-image"]:
        image = words[2]
        if name not in clusters:
            fail(f'ERROR: no nodes found for cluster "{name}"')
        if image not in state["images"]:
            fail(f'ERROR: image: "{image}" not present locally')
        if image in clusters[name]["loaded"]:
            print(f'Image: "{image}" with ID "{image_id(image)}" found to be already present on all nodes.',
                  file=sys.stderr)
        else:
            for node in nodes_of(name, clusters[name]):
                print(f'Image: "{image}" with ID "{image_id(image)}" not yet present on node "{node}", loading...',
                      file=sys.stderr)
            clusters[name]["loaded"].append(image)
            save_state(state)
    elif words in (["export", "kubeconfig"], ["get", "kubeconfig"]):
        if name not in clusters:
            fail(f'ERROR: could not locate any control plane nodes for cluster named \'{name}\'.')
        if words[0] == "export":
            print(f'Set kubectl context to "kind-{name}"', file=sys.stderr)
        else:
            print(state.get("kubeconfig") or yaml.safe_dump({
                "apiVersion": "v1", "kind": "Config", "current-context": f"kind-{name}",
                "clusters": [{"name": f"kind-{name}", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": f"kind-{name}", "user": {"token": "x"}}],
                "contexts": [{"name": f"kind-{name}", "context": {"cluster": f"kind-{name}", "user": f"kind-{name}"}}],
            }), end="")
    elif words == ["version"]:
        print("kind v0.30.0 go1.24.6 linux/amd64")
    else:
        fail(f"standin kind: unsupported command {argv}", 64)


def nodes_of(name, cluster):
    return [f"{name}-control-plane"] + [f"{name}-worker{i if i > 1 else ''}" for i in range(1, cluster["workers"] + 1)]


# ------------------------------------------------------------------------------------------ helm


def helm(argv, state):
    words = positionals(argv, ("--namespace", "-n", "--kube-context", "--filter", "--output", "-o", "--repo",
                               "--version", "--timeout", "--set"))
    namespace = option(argv, "--namespace", "-n", default="default")
    releases = state["releases"]
    if words[:1] == ["list"]:
        found = [{"name": name, "namespace": r["namespace"], "revision": str(r["revision"]),
                  "updated": "2025-09-17 01:40:18.123456 +0000 UTC", "status": r["status"],
                  "chart": r["chart"], "app_version": r["chart"].split("-")[-1]}
                 for name, r in releases.items() if r["namespace"] == namespace]
        print(json.dumps(found, separators=(",", ":")))
    elif words[:1] == ["upgrade"] and "--install" in argv:
        name, chart = words[1], words[2]
        version = option(argv, "--version")
        existing = releases.get(name)
        if existing is None:
            print(f'Release "{name}" does not exist. Installing it now.')
        revision = existing["revision"] + 1 if existing else 1
        releases[name] = {"namespace": namespace, "chart": f"{chart}-{version}", "status": "deployed",
                          "revision": revision}
        save_state(state)
        print(f"NAME: {name}\nLAST DEPLOYED: Wed Sep 17 01:40:18 2025\nNAMESPACE: {namespace}\n"
              f"STATUS: deployed\nREVISION: {revision}\nTEST SUITE: None")
    elif words[:1] == ["uninstall"]:
        if words[1] not in releases:
            fail(f"Error: uninstall: Release not loaded: {words[1]}: release: not found")
        del releases[words[1]]
        save_state(state)
        print(f'release "{words[1]}" uninstalled')
    elif words[:1] == ["version"]:
        print('version.BuildInfo{Version:"v3.18.4"}')
    else:
        fail(f"standin helm: unsupported command {argv}", 64)


# ------------------------------------------------------------------------------------------ kubectl

KUBECTL_VALUE_OPTIONS = ("--context", "--namespace", "-n", "-f", "--filename", "-k", "--kustomize", "--output", "-o",
                         "--selector", "-l", "--timeout", "--for", "--from-file", "--from-env-file",
                         "--from-literal", "--kubeconfig", "--field-selector")


def kubectl(argv, state, stdin_text):
    words = positionals(argv, KUBECTL_VALUE_OPTIONS)
    context = option(argv, "--context")
    namespace = option(argv, "--namespace", "-n", default="default")
    cluster_name = (context or "kind-").removeprefix("kind-")
    cluster = state["clusters"].get(cluster_name, {"workers": 3})
    verb = words[0] if words else ""
    volcano = "volcano" in state["releases"] or state.get("volcano_not_helm")
    if words[:3] == ["config", "get-contexts", words[2] if len(words) > 2 else ""]:
        if words[2].removeprefix("kind-") not in state["clusters"]:
            fail(f"error: context {words[2]} not found")
        print(f"CURRENT   NAME   CLUSTER   AUTHINFO\n*         {words[2]}   {words[2]}   {words[2]}")
    elif verb == "kustomize":
        sys.stdout.write(subprocess.run([REAL_KUBECTL, "kustomize", words[1]], check=True, capture_output=True,
                                        text=True).stdout)
    elif verb == "apply":
        source = option(argv, "-k", "--kustomize")
        if source:
            text = subprocess.run([REAL_KUBECTL, "kustomize", source], check=True, capture_output=True,
                                  text=True).stdout
        else:
            filename = option(argv, "-f", "--filename")
            text = stdin_text if filename == "-" else Path(filename).read_text()
        for doc in yaml.safe_load_all(text):
            if not doc:
                continue
            kind = doc["kind"]
            group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
            key = f"{cluster_name}/{kind}/{doc['metadata'].get('namespace', '')}/{doc['metadata']['name']}"
            digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
            before = state["objects"].get(key)
            outcome = "created" if before is None else "unchanged" if before == digest else "configured"
            state["objects"][key] = digest
            print(f"{kind.lower()}{'.' + group if group else ''}/{doc['metadata']['name']} {outcome}")
        save_state(state)
    elif words[:2] == ["get", "secret"]:
        if f"{cluster_name}/{namespace}/{words[2]}" not in state["secrets"]:
            fail(f'Error from server (NotFound): secrets "{words[2]}" not found')
        print(f"NAME   TYPE   DATA   AGE\n{words[2]}   Opaque   1   1m")
    elif words[:3] == ["create", "secret", "generic"]:
        state["secrets"].append(f"{cluster_name}/{namespace}/{words[3]}")
        save_state(state)
        print(f"secret/{words[3]} created")
    elif words[:2] == ["get", "nodes"]:
        nodes = nodes_of(cluster_name, cluster)
        if option(argv, "--selector", "-l") == "!node-role.kubernetes.io/control-plane":
            nodes = nodes[1:]
        if option(argv, "--output", "-o") == "name":
            print("\n".join(f"node/{n}" for n in nodes))
        else:
            print("NAME STATUS ROLES AGE VERSION")
            for n in nodes:
                print(f"{n} Ready {'control-plane' if n.endswith('control-plane') else '<none>'} 1m v1.34.0")
    elif words[:2] == ["get", "deployment"]:
        if words[2].startswith("volcano-") and volcano:
            print(f"NAME READY UP-TO-DATE AVAILABLE AGE\n{words[2]} 1/1 1 1 1m")
        else:
            fail(f'Error from server (NotFound): deployments.apps "{words[2]}" not found')
    elif words[:2] == ["get", "daemonset"]:
        print(cluster["workers"], end="")
    elif words[:2] in (["get", "crd"], ["get", "namespace"], ["get", "job"]):
        if words[1] == "crd":
            print("customresourcedefinition.apiextensions.k8s.io/jobs.batch.volcano.sh" if volcano else "")
        elif not (words[1] == "namespace" and volcano):
            fail(f'Error from server (NotFound): {words[1]}s "{words[2]}" not found')
    elif verb in ("wait", "rollout", "create", "delete", "get", "logs", "label"):
        if verb == "create":
            print("job.batch.volcano.sh/volcano-portal-verify created")
        elif verb == "wait":
            print(f"{words[1]} condition met")
        elif verb == "rollout":
            print(f'{words[2] if len(words) > 2 else ""} successfully rolled out')
    else:
        fail(f"standin kubectl: unsupported command {argv}", 64)


def main():
    tool, argv = sys.argv[1], sys.argv[2:]
    stdin_text = None
    if tool == "kubectl" and ("-" in argv or "--from-file=token=/dev/stdin" in argv):
        stdin_text = sys.stdin.read()
    record(tool, argv, stdin_text)
    state = load_state()
    if tool == "kubectl":
        kubectl(argv, state, stdin_text)
    else:
        {"docker": docker, "kind": kind, "helm": helm}[tool](argv, state)


if __name__ == "__main__":
    main()
