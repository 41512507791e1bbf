"""The trainer workbench in chromium against the real stack (web app, action server, Rasa).

A customer writes in the widget; the trainer signs in at /trainer, finds the message in the
inbox, marks an entity on its jieba tokens, relabels it and sees it written into a copy of the
training data; a model is deployed into the running Rasa server through its model endpoint and
rolled back from the model list. An agent's browser is refused by every workbench route.

A real training costs minutes, so the model deployed here is a second copy of the served one
under another name: what is checked is that Rasa loads what the page deploys and serves the
earlier model again after a rollback. Training itself is covered by tests/bot/trainer.
"""

import dataclasses
import json
import shutil
import urllib.request

import pytest
from playwright.sync_api import expect

from bot.settings import ROOT
from bot.trainer import deploy
from bot.trainer.store import engine_for
from tests.bot.trainer import trainer_routes
from tests.bot.trainer.workspace_copy import copy_workspace
from tests.browser.test_widget import open_chat, open_shop, say
from tests.e2e.conftest import running_stack, stack_settings

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CUSTOMER_TEXT = "这件羽绒服可以走顺丰吗"
CANDIDATE = trainer_routes.MODEL


@pytest.fixture(scope="module")
def trainer_stack(tmp_path_factory):
    """A stack of its own whose workbench edits a copy of the data and deploys into a copy of
    models/ (the repository's files are never written)."""
    var_dir = tmp_path_factory.mktemp("trainer-browser-var")
    workspace = copy_workspace(tmp_path_factory.mktemp("trainer-browser-ws"))
    models = tmp_path_factory.mktemp("trainer-browser-models")
    newest = max((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    shutil.copy(newest, models / newest.name)
    settings = dataclasses.replace(
        stack_settings(var_dir, ROOT / "endpoints.yml"), models_dir=models
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHOP_TRAINER_WORKSPACE", str(workspace))
        patch.setenv("SHOP_MODELS_DIR", str(models))
        patch.delenv("SHOP_RASA_REPLICAS", raising=False)
        with running_stack(settings) as running:
            running.workspace = workspace
            running.served = newest.name
            yield running


def sign_in(page, base, username, password):
    page.goto(base + "/trainer")
    for field in ("trainer-username", "trainer-password"):
        assert page.locator(f"label[for={field}]").count() == 1
    page.fill("#trainer-username", username)
    page.fill("#trainer-password", password)
    page.press("#trainer-password", "Enter")


def serving(stack):
    url = f"{stack.settings.rasa_url}/status?token={stack.settings.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())["model_file"].split("/")[-1]


def test_a_trainer_finds_a_customer_message_and_relabels_it(page, new_context, trainer_stack):
    base = trainer_stack.settings.web_url
    open_shop(page, trainer_stack)
    open_chat(page)
    say(page, CUSTOMER_TEXT)

    trainer = new_context().new_page()
    sign_in(trainer, base, "trainer", "trainer-demo")
    expect(trainer.locator("[data-testid=trainer-name]")).to_contain_text("训练师")
    trainer.fill("#f-q", "羽绒服")
    trainer.press("#f-q", "Enter")
    entry = trainer.locator("[data-testid=inbox-entry]").filter(has_text=CUSTOMER_TEXT)
    expect(entry).to_have_count(1)
    model_reading = entry.locator(".meta").inner_text().split(" ")[0]
    intent = "ask_delivery_time" if model_reading != "ask_delivery_time" else "ask_free_shipping"
    entry.click()
    expect(trainer.locator("[data-testid=message-text]")).to_have_text(CUSTOMER_TEXT)

    token = trainer.locator("#tokens button", has_text="羽绒服")
    expect(token).to_have_count(1)
    token.click()
    trainer.select_option("#entity-name", "product")
    trainer.click("#entity-add")
    expect(trainer.locator("#entity-list")).to_have_text("羽绒服=product")
    trainer.fill("#intent-search", intent)
    trainer.press("#intent-search", "Enter")
    line = CUSTOMER_TEXT.replace("羽绒服", "[羽绒服](product)")
    expect(trainer.locator("#message-result")).to_contain_text(line)
    topic = "orders.yml" if intent == "ask_delivery_time" else "presale.yml"
    written = (trainer_stack.workspace / "data" / "nlu" / topic).read_text(encoding="utf-8")
    assert f"    - {line}\n" in written
    assert CUSTOMER_TEXT not in (ROOT / "data" / "nlu" / topic).read_text(encoding="utf-8")
    expect(entry).to_have_count(0)  # labelled: out of the open inbox

    trainer.select_option("#f-status", "labelled")
    trainer.click("#inbox-filters button[type=submit]")
    expect(
        trainer.locator("[data-testid=inbox-entry]").filter(has_text=CUSTOMER_TEXT)
    ).to_contain_text(f"已标为 {intent}")
    trainer.click(".tab[data-tab=audit]")
    expect(trainer.locator("#audit tr").first).to_contain_text("label")


def test_a_model_is_deployed_into_rasa_and_rolled_back(new_context, trainer_stack):
    served = trainer_stack.served
    assert serving(trainer_stack) == served
    candidates = trainer_stack.settings.var_dir / "trainer" / "candidates"
    candidates.mkdir(parents=True, exist_ok=True)
    shutil.copy(trainer_stack.settings.models_dir / served, candidates / CANDIDATE)
    engine = engine_for(f"sqlite:///{trainer_stack.settings.var_dir / 'trainer' / 'trainer.db'}")
    deploy.register(
        engine,
        CANDIDATE,
        candidates / CANDIDATE,
        "copy",
        "trainer",
        {},
        {"passed": True, "reasons": []},
    )

    page = new_context().new_page()
    sign_in(page, trainer_stack.settings.web_url, "trainer", "trainer-demo")
    page.click(".tab[data-tab=models]")
    row = page.locator(f"#models tr[data-model='{CANDIDATE}']")
    expect(row.locator("[data-testid=model-state]")).to_have_text("待部署")
    row.locator("button").click()
    expect(page.locator("#trainer-status")).to_have_text(
        f"服务中的模型：{CANDIDATE}", timeout=180_000
    )
    assert serving(trainer_stack) == CANDIDATE
    expect(row.locator("[data-testid=model-state]")).to_have_text("服务中")

    earlier = page.locator(f"#models tr[data-model='{served}']")
    earlier.locator("button", has_text="回滚到此模型").click()
    expect(page.locator("#trainer-status")).to_have_text(f"服务中的模型：{served}", timeout=180_000)
    assert serving(trainer_stack) == served
    newest = max(
        trainer_stack.settings.models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime
    )
    assert newest.name == served  # a restart serves the rolled-back model too


def test_an_agents_browser_is_refused_everywhere(new_context, trainer_stack):
    base = trainer_stack.settings.web_url
    page = new_context().new_page()
    sign_in(page, base, "agent", "agent-demo")
    expect(page.locator("[data-testid=signin-error]")).to_contain_text("没有使用训练工作台的权限")
    assert page.locator("#inbox-list").count() == 0

    page.goto(base + "/agent")  # signed in to the console, the workbench still refuses
    page.fill("#agent-username", "agent")
    page.fill("#agent-password", "agent-demo")
    page.press("#agent-password", "Enter")
    expect(page.locator("[data-testid=agent-name]")).to_be_visible()
    page.goto(base + "/trainer")
    expect(page.locator("#trainer-signin")).to_be_visible()
    answers = page.evaluate(
        """async (routes) => {
            const answers = [];
            for (const [method, path] of routes) {
                const options = {method, credentials: "same-origin"};
                if (method === "POST") {
                    options.headers = {"Content-Type": "application/json", "X-Trainer": "1"};
                    options.body = JSON.stringify({intent: "greet", word: "测试词"});
                }
                const response = await fetch(path, options);
                answers.push({path, status: response.status, text: await response.text()});
            }
            return answers;
        }""",
        [(method, path) for method, _, path in trainer_routes.GUARDED],
    )
    assert len(answers) == len(trainer_routes.GUARDED) >= 16
    for answer in answers:
        assert answer["status"] in (401, 403), answer
        assert set(json.loads(answer["text"])) == {"error"}, answer
