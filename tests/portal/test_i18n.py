import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
LOCALE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
MAKEMESSAGES_IGNORE = [".venv", "tests", "agent", "benchmarks", "examples", "deploy", "var", "docs"]


@pytest.mark.django_db
def test_switching_to_chinese(login, viewer):
    client = login(viewer)
    assert "Dashboard" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "仪表盘" in page and "审计" in page


def msgids(po_text):
    """The msgids of a .po file, multi-line ones joined."""
    ids, current, in_id = set(), [], False
    for line in po_text.splitlines() + [""]:
        if line.startswith("msgid "):
            current, in_id = [line[6:]], True
        elif in_id and line.startswith('"'):
            current.append(line)
        else:
            if in_id:
                ids.add("".join(part.strip('"') for part in current))
            in_id = False
    ids.discard("")
    return ids


def test_every_string_in_the_code_is_in_the_chinese_catalogue(tmp_path):
    """makemessages on a copy of the code must find no msgid that the committed catalogue lacks."""
    copy = tmp_path / "src"
    shutil.copytree(BASE_DIR, copy, ignore=shutil.ignore_patterns(*MAKEMESSAGES_IGNORE, "__pycache__", ".git"))
    shutil.rmtree(copy / "locale")
    (copy / "locale").mkdir()
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location",
                    *[f"--ignore={name}" for name in MAKEMESSAGES_IGNORE]],
                   cwd=copy, check=True, capture_output=True, env={"PORTAL_VAR_DIR": str(tmp_path / "var"),
                                                                    "PATH": "/usr/bin:/bin"})
    in_code = msgids((copy / "locale/zh_Hans/LC_MESSAGES/django.po").read_text())
    in_catalogue = msgids((LOCALE / "django.po").read_text())
    assert not in_code - in_catalogue, "run makemessages and translate these"


def test_chinese_catalogue_is_complete_and_compiled(tmp_path):
    po = LOCALE / "django.po"
    text = po.read_text()
    assert "#, fuzzy" not in text, "fuzzy entries are not shown to users"
    # msgfmt --statistics counts untranslated strings; the compiled catalogue must match the source.
    compiled = tmp_path / "django.mo"
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", compiled, po],
                            capture_output=True, text=True, check=True)
    assert "untranslated" not in result.stderr, result.stderr
    assert compiled.read_bytes() == (LOCALE / "django.mo").read_bytes(), "run: manage.py compilemessages"
