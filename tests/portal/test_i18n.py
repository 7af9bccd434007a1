import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.mark.django_db
def test_switching_to_chinese(login, viewer):
    client = login(viewer)
    assert "Dashboard" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "仪表盘" in page and "审计" in page


def test_chinese_catalogue_is_complete_and_compiled(tmp_path):
    po = LOCALE / "django.po"
    text = po.read_text()
    assert "#, fuzzy" not in text.split("\n\n", 1)[1], "fuzzy entries are not shown to users"
    # msgfmt --statistics counts untranslated strings; the compiled catalogue must match the source.
    compiled = tmp_path / "django.mo"
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", compiled, po],
                            capture_output=True, text=True, check=True)
    assert "untranslated" not in result.stderr, result.stderr
    assert compiled.read_bytes() == (LOCALE / "django.mo").read_bytes(), "run: manage.py compilemessages"
