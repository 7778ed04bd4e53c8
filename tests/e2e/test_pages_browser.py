"""The two web pages in a real browser (Debian's Chromium driven by Playwright),
against the real running stack: the applicant chat widget and the 12345 hotline page."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import botstack  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
SHOTS = botstack.ROOT / "var" / "screens"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is installed by scripts/setup_system.sh (make test runs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def test_chat_widget_intake_with_quick_replies(stack, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 420, "height": 900})
    page.goto(f"{stack.api_url}/chat")
    page.fill("#q", "我想在中山开一家便利店，四十平米，卖烟")
    page.press("#q", "Enter")
    page.get_by_role("button", name="只卖包装好的(预包装)", exact=True).click()  # quick reply from the question payload
    page.get_by_role("button", name="不卖", exact=True).click()
    card = page.locator(".card").filter(has_text="需要办理")
    card.wait_for(timeout=20000)
    text = card.inner_text()
    assert "烟草专卖零售许可证" in text and "仅销售预包装食品" in text
    required = text.split("不需要办")[0]  # the card also says what need not be obtained, and why
    assert "食品经营许可（除仅销售预包装食品）" not in required
    page.screenshot(path=str(SHOTS / "chat.png"), full_page=True)
    # 一表申请 → submit: hostile input is refused with a message, then a clean submission lands
    page.get_by_role("button", name="生成申请表", exact=True).click()
    form = page.locator(".card").filter(has_text="一表申请")
    form.wait_for(timeout=20000)
    assert form.locator('input[name="f:site_area"]').input_value() == "40"  # pre-filled from the intake
    form.locator('input[name="f:applicant_name"]').fill("<script>alert(1)</script>")
    form.locator('input[name="a:name"]').fill("陈小明")
    form.locator('input[name="a:phone"]').fill("13800138000")
    form.get_by_role("button", name="提交申请").click()
    form.get_by_text("没有提交成功").wait_for(timeout=10000)
    assert "网页代码" in form.inner_text()
    form.locator('input[name="f:applicant_name"]').fill("中山市小榄陈记便利店")
    form.get_by_role("button", name="提交申请").click()
    form.get_by_text("申请已提交").wait_for(timeout=10000)
    assert "烟草专卖局" in form.inner_text()
    page.screenshot(path=str(SHOTS / "chat_submitted.png"), full_page=True)
    page.close()


def test_chat_widget_free_text_halal_eatery(stack, browser):
    page = browser.new_page()
    page.goto(f"{stack.api_url}/chat")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.fill("#q", "同心县开清真小餐馆，大概一百平米")
    page.press("#q", "Enter")
    card = page.locator(".card").filter(has_text="需要办理")
    card.wait_for(timeout=20000)
    assert "清真食品准营证" in card.inner_text()
    page.close()


def test_hotline_page_instant_search_and_refusal(stack, browser):
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(f"{stack.api_url}/hotline")
    page.fill("#q", "开饭店那个食品证几天能拿到")
    best = page.locator(".hit.best")
    best.wait_for(timeout=15000)
    assert "食品经营许可" in best.inner_text() and "工作日" in best.inner_text()
    page.screenshot(path=str(SHOTS / "hotline.png"), full_page=True)
    page.fill("#q", "今天天气怎么样")
    page.locator(".notice").wait_for(timeout=15000)
    assert page.locator(".hit.best").count() == 0  # refused: nothing shown as the answer
    page.close()


def test_hotline_lookup_tells_staff_what_to_ask(stack, browser):
    page = browser.new_page(viewport={"width": 1000, "height": 1200})
    page.goto(f"{stack.api_url}/hotline")
    page.fill("#d", "睢县开个小卖部，卖烟")
    page.click("#dgo")
    page.locator("#dout .ask").first.wait_for(timeout=15000)
    asks = page.locator("#dout .ask").all_inner_texts()
    assert any("吃的喝的" in a for a in asks)  # the question that decides licence vs filing
    assert "烟草专卖零售许可证" in page.locator("#dout").inner_text()
    page.screenshot(path=str(SHOTS / "hotline_lookup.png"), full_page=True)
    page.close()


def test_maintainer_page_shows_unanswered_questions(stack, browser):
    import httpx

    httpx.get(f"{stack.api_url}/api/v1/faq/search", params={"q": "办护照要带什么"}, timeout=10)  # logged as unanswered
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{stack.api_url}/maintainer")
    assert "维护令牌" in page.locator(".notice").inner_text()  # closed until a token is typed
    page.fill("#token", "wrong")
    page.press("#token", "Enter")
    page.dispatch_event("#token", "change")
    page.locator(".notice").filter(has_text="令牌").wait_for(timeout=10000)
    page.fill("#token", botstack.MAINTAINER_TOKEN)
    page.dispatch_event("#token", "change")
    page.get_by_text("办护照要带什么").first.wait_for(timeout=10000)
    page.get_by_role("button", name="条目").click()
    page.locator("table").wait_for(timeout=10000)
    page.fill(".bar input", "消防安全检查")
    page.get_by_role("button", name="筛选").click()
    page.get_by_text("已被").first.wait_for(timeout=10000)
    assert page.get_by_text("已被").count() >= 1  # a curated entry overriding a generated one is visible
    page.screenshot(path=str(SHOTS / "maintainer.png"))
    page.close()
