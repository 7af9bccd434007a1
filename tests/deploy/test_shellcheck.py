import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SCRIPTS = sorted(DEPLOY.rglob("*.sh"))


def test_every_script_is_executable_and_strict():
    assert len(SCRIPTS) >= 9
    for script in SCRIPTS:
        text = script.read_text()
        if script.name == "lib.sh":
            assert text.startswith("# shellcheck shell=bash")
            continue
        assert os.access(script, os.X_OK), script
        assert text.startswith("#!/"), script
        assert "set -euo pipefail" in text or "set -eu" in text, script


def test_shellcheck_passes_on_every_script():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck is required in CI (Debian package: shellcheck)")
        pytest.skip("shellcheck is not installed (apt-get install -y shellcheck)")
    result = subprocess.run([shellcheck, "--external-sources", *map(str, SCRIPTS)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
