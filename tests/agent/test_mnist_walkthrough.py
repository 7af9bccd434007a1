"""The README's curl walk-through of the lab report's MNIST example, run as written against two agents."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.support.agent_process import REPO_ROOT, start_agent

pytest.importorskip("sklearn", reason="examples/mnist/train.py needs scikit-learn")
for tool in ("curl", "zip"):
    if not shutil.which(tool):
        pytest.skip(f"the walk-through uses {tool}", allow_module_level=True)


def walkthrough_script() -> str:
    with open(os.path.join(REPO_ROOT, "agent", "README.md"), encoding="utf-8") as f:
        readme = f.read()
    block = re.search(r"<!-- mnist-walkthrough:start -->\s*```sh\n(.*?)```\s*<!-- mnist-walkthrough:end -->",
                      readme, re.DOTALL)
    assert block, "agent/README.md lost its walk-through block"
    return block.group(1)


def test_mnist_walkthrough_with_curl(tmp_path):
    example = tmp_path / "mnist"
    shutil.copytree(os.path.join(REPO_ROOT, "examples", "mnist"), example,
                    ignore=shutil.ignore_patterns("model.pth", "*.zip", "__pycache__"))
    # `python` in the runs must be this interpreter, which has numpy and scikit-learn.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])
    with start_agent(env={"PATH": path}) as worker1, start_agent(token=worker1.token, env={"PATH": path}) as worker2:
        os.makedirs(os.path.join(worker1.workspace, "data"))
        with open(os.path.join(worker1.workspace, "main.py"), "w") as f:
            f.write("# kept\n")
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough_script()], cwd=example,
                                env={**os.environ, "WORKER1": worker1.url, "WORKER2": worker2.url,
                                     "TOKEN": worker1.token},
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        assert "Training complete" in out and '"state":"succeeded"' in out
        assert sorted(os.listdir(worker1.workspace)) == ["data", "main.py", "model.pth", "train.py"]
        assert (example / "model.pth").read_bytes() == open(os.path.join(worker1.workspace, "model.pth"), "rb").read()
        for digit in (3, 7, 9):
            assert f"test_images/digit_{digit}.txt: prediction: {digit}" in out
