"""Stand-in docker/kind/kubectl/helm executables on a PATH of their own (see standin.py).

    tools = StandIns(tmp_path)                      # all four tools, an empty world
    tools = StandIns(tmp_path, missing={"helm"})   # helm is not installed
    subprocess.run(["deploy/up.sh"], env=tools.env())
    tools.calls("kind")                             # [["get", "clusters"], ["create", "cluster", ...]]

The PATH holds only the stand-ins and links to ordinary utilities (bash, grep, sed, …), never the
machine's real docker, kind, kubectl or helm.
"""

import json
import os
import shutil
import sys
from pathlib import Path

STANDIN = Path(__file__).with_name("standin.py")
TOOLS = ("docker", "kind", "kubectl", "helm")
UTILITIES = ("bash", "sh", "env", "cat", "grep", "sed", "head", "tail", "tr", "od", "wc", "mktemp", "rm",
             "dirname", "basename", "base64", "printf", "sort", "cut", "find", "mkdir", "ls", "true", "false",
             "sleep", "awk", "id", "uname", "tee", "chmod", "touch", "date", "readlink", "realpath")
REAL_KUBECTL = shutil.which("kubectl", path="/usr/bin:/usr/local/bin")


class StandIns:
    def __init__(self, root, missing=(), state=None):
        root = Path(root)
        self.bin = root / "standin-bin"
        self.state_dir = root / "standin-state"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.state_dir.mkdir(exist_ok=True)
        for tool in TOOLS:
            if tool not in missing:
                wrapper = self.bin / tool
                wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" {tool} "$@"\n')
                wrapper.chmod(0o755)
        for name in UTILITIES:
            found = shutil.which(name)
            if found and not (self.bin / name).exists():
                (self.bin / name).symlink_to(found)
        self.state = state or {}

    @property
    def state(self):
        path = self.state_dir / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @state.setter
    def state(self, value):
        (self.state_dir / "state.json").write_text(json.dumps(value))

    def update_state(self, **changes):
        self.state = {**self.state, **changes}

    @property
    def path(self):
        return str(self.bin)

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "AGENT_TOKEN")}
        env.update(PATH=self.path, STANDIN_STATE=str(self.state_dir), HOME=str(self.state_dir))
        if REAL_KUBECTL:
            env["STANDIN_REAL_KUBECTL"] = REAL_KUBECTL
        env.update(extra)
        return env

    def calls(self, tool=None):
        path = self.state_dir / "calls.jsonl"
        entries = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return [e["argv"] if tool else e for e in entries if tool in (None, e["tool"])]

    def reset_calls(self):
        (self.state_dir / "calls.jsonl").unlink(missing_ok=True)
