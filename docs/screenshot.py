"""Takes docs/widget.png: a signed-in customer asks about an order, on a desktop and on a phone.

Starts the real stack on free ports with a freshly seeded shop (as the browser tests do) and
drives Debian's chromium. Run: `.venv/bin/python docs/screenshot.py` (needs a trained model).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.test_widget import CUSTOMER_ID, open_chat, open_shop, say  # noqa: E402
from tests.e2e.conftest import running_stack, stack_settings  # noqa: E402

OUT = ROOT / "docs" / "widget.png"


def conversation(page: Page, stack, path: str) -> None:
    """Signs in the demo customer and asks about the latest order and free shipping."""
    open_shop(page, stack, path)
    page.select_option("#signin-customer", str(CUSTOMER_ID))
    page.click(".signin-form button[type=submit]")
    open_chat(page)
    say(page, "帮我查下我最近的订单")
    say(page, "包邮吗")


def main() -> None:
    """Shoots the desktop and the phone view and puts them side by side."""
    with tempfile.TemporaryDirectory() as var_dir:
        settings = stack_settings(Path(var_dir), ROOT / "endpoints.yml")
        with running_stack(settings) as stack, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            shots = []
            for name, viewport, path in (
                ("desktop", {"width": 1280, "height": 800}, "/products/1"),
                ("phone", {"width": 390, "height": 800}, "/"),
            ):
                context = browser.new_context(viewport=viewport, locale="zh-CN")
                page = context.new_page()
                conversation(page, stack, path)
                shot = Path(var_dir) / f"{name}.png"
                page.screenshot(path=str(shot))
                shots.append(Image.open(shot))
                context.close()
            browser.close()
    width = sum(shot.width for shot in shots) + 24
    canvas = Image.new("RGB", (width, max(shot.height for shot in shots)), "white")
    canvas.paste(shots[0], (0, 0))
    canvas.paste(shots[1], (shots[0].width + 24, 0))
    canvas.save(OUT)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
