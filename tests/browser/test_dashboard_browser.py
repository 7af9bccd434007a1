"""The key pages in Debian's chromium, driven by Playwright against a real web server (uvicorn)."""

import pytest

from tests.conftest import browser_login


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_log_in_see_the_dashboard_and_switch_to_chinese(page, make_user, make_cluster, kube_api):
    make_user("vera", "viewer")
    make_cluster(kube_api)
    page.goto("/")
    assert "/login/" in page.url
    browser_login(page, "vera")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.get_by_test_id("clusters-total").inner_text() == "1"
    # The cluster card fills itself from the fake API server (htmx, hx-trigger=load).
    nodes = page.get_by_test_id("summary-lab").get_by_test_id("nodes")
    assert nodes.inner_text() == "4"
    pods = len(kube_api.list("v1", "Pod"))
    assert page.get_by_test_id("summary-lab").get_by_test_id("pods").inner_text() == str(pods)
    page.select_option("#language", "zh-hans")
    page.wait_for_load_state()
    page.locator("h1", has_text="仪表盘").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("link", name="审计").is_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_theme_toggle_switches_and_is_remembered(page, make_user):
    make_user("vera", "viewer")
    browser_login(page, "vera")
    page.click(".theme-toggle")
    first = page.locator("html").get_attribute("data-theme")
    assert first in ("light", "dark")
    page.reload()
    assert page.locator("html").get_attribute("data-theme") == first
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(15, 18, 24)" if first == "dark" else "rgb(246, 247, 249)")
