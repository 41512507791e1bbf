"""Takes docs/console.png: the agent console in assist mode with the bot's ranked suggestions.

A signed-in customer asks for a person and then where an order is; the demo agent takes the
conversation in assist mode. Starts the real stack on free ports with a freshly seeded shop (as
the browser tests do) and drives Debian's chromium. Run: `.venv/bin/python docs/console_screenshot.py`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from shop.signing import conversation_id_for  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.browser.test_agent_console import sign_in_agent  # noqa: E402
from tests.browser.test_assist_console import CUSTOMER_ID, shipped_order, tell  # noqa: E402
from tests.browser.test_widget import open_chat, open_shop  # noqa: E402
from tests.e2e.conftest import running_stack, stack_settings  # noqa: E402

OUT = ROOT / "docs" / "console.png"


def main() -> None:
    """Plays the conversation in two browser contexts and shoots the agent's screen."""
    with tempfile.TemporaryDirectory() as var_dir:
        settings = stack_settings(Path(var_dir), ROOT / "endpoints.yml")
        with running_stack(settings) as stack, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            customer = browser.new_context(locale="zh-CN").new_page()
            agent = browser.new_context(
                viewport={"width": 1360, "height": 980}, locale="zh-CN"
            ).new_page()
            number = shipped_order(stack)
            conversation = conversation_id_for(CUSTOMER_ID, settings.signing_key)
            open_shop(customer, stack)
            customer.select_option("#signin-customer", str(CUSTOMER_ID))
            customer.click(".signin-form button[type=submit]")
            open_chat(customer)
            tell(customer, "转人工")
            sign_in_agent(agent, settings.web_url)
            agent.locator(f"#queue li[data-conversation='{conversation}'] button").click()
            agent.click("#assist-mode")
            tell(customer, f"订单{number}到哪了？都好几天了")
            expect(agent.locator("#suggestions li.sugg").nth(2)).to_be_visible(timeout=30_000)
            agent.screenshot(path=str(OUT), full_page=True)
            browser.close()
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
