"""A real browser (Debian's chromium driven by Playwright) against the real stack on free ports."""

import re
from pathlib import Path

import pytest

from bot.settings import ROOT
from tests.e2e.conftest import running_stack, stack_settings

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "results" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="session")
def shop_stack(tmp_path_factory):
    """The web app, action server and Rasa server with a freshly seeded demo shop."""
    settings = stack_settings(tmp_path_factory.mktemp("browser-var"), ROOT / "endpoints.yml")
    with running_stack(settings) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module (Playwright's event loop ends with it, so later tests may
    run their own)."""
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make browser` (make setup and make test do)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.browser_failed = report.failed


@pytest.fixture
def context(browser, request):
    """A fresh browser profile per test; a screenshot of every open page when the test fails."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    ctx.set_default_timeout(30_000)
    yield ctx
    if getattr(request.node, "browser_failed", False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for number, page in enumerate(ctx.pages):
            try:
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{number}.png"), full_page=True)
            except Exception as error:  # noqa: BLE001 - a failed screenshot must not hide the failure
                print(f"screenshot failed: {error}")
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()
