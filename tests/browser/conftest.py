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
def new_context(browser, request):
    """Opens browser profiles for one test (`new_context(**options)`); every one is closed after
    the test, and when the test failed every page of every one is screenshotted first."""
    created = []

    def open_context(**options):
        options = {"viewport": {"width": 1280, "height": 860}, "locale": "zh-CN", **options}
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(30_000)
        created.append(ctx)
        return ctx

    yield open_context
    if getattr(request.node, "browser_failed", False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for number, ctx in enumerate(created):
            for page_number, page in enumerate(ctx.pages):
                path = SCREENSHOTS / f"{name}-{number}-{page_number}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception as error:  # noqa: BLE001 - a failed screenshot must not hide the failure
                    print(f"screenshot failed: {error}")
    for ctx in created:
        try:
            ctx.close()
        except Exception as error:  # noqa: BLE001 - close the others all the same
            print(f"closing a browser context failed: {error}")


@pytest.fixture
def context(new_context):
    """A fresh browser profile per test (screenshotted by `new_context` when the test fails)."""
    return new_context()


@pytest.fixture
def page(context):
    return context.new_page()
