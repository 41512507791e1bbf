"""A real browser (Debian's chromium driven by Playwright) against the real stack on free ports."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bot import processes
from bot.settings import ROOT, Settings
from tests.e2e.conftest import Assistant, free_port

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
    models = ROOT / "models"
    if not list(models.glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does)")
    var_dir = tmp_path_factory.mktemp("browser-var")
    settings = Settings(
        host="127.0.0.1",
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=free_port(),
        rasa_token=uuid.uuid4().hex,
        signing_key=uuid.uuid4().hex,
        var_dir=var_dir,
        models_dir=models,
        endpoints=ROOT / "endpoints.yml",
        credentials=ROOT / "credentials.yml",
    )
    seed = subprocess.run(
        [sys.executable, "-m", "actions.seed"],
        cwd=ROOT,
        env={**os.environ, "SHOP_VAR_DIR": str(var_dir), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert seed.returncode == 0, seed.stderr[-2000:]
    children = processes.stack(settings, Path(var_dir) / "logs")
    processes.start_all(children, timeout=300)
    yield Assistant(settings)
    processes.stop_all(children)


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
