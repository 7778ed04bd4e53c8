"""The whole path in a real browser (Debian's Chromium driven by Playwright) against the
running stack: chat → the merged form's 「去核对并提交」 → the apply page pre-filled from the
chat and, after the (demo) identity sign-in, from the verified identity → 告知承诺 chosen,
submit → department A (消防) accepts and approves its item; department B (市场监管) asks
for two missing materials at once → the applicant supplies only those on the tracking
page → B approves → the tracking page and the 一码展示 page show it, the latter with no
personal data.  Pages carry no inline script (their JS is under /static/office/)."""
from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import botstack  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
SHOTS = botstack.ROOT / "var" / "screens"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHEN = ("442000199203150020", "daoban-demo", "陈小满", "13800138000")  # data/demo/identities.yaml
SAY = "我想在中山开个奶茶店，四十平米，店名叫小满茶饮，地址中山市石岐区孙文中路1号"
T = 20000


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is installed by scripts/setup_system.sh (make test runs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def chat_to_apply_page(browser, api_url: str):
    """The applicant's chat up to the merged form; returns the apply page (opened from its link)."""
    page = browser.new_page(viewport={"width": 420, "height": 900})
    page.goto(f"{api_url}/chat")
    page.evaluate("localStorage.clear()")
    page.reload()
    page.fill("#q", SAY)
    page.press("#q", "Enter")
    page.locator(".card").filter(has_text="需要办理").wait_for(timeout=T)
    for _ in range(4):  # answer what the bot still asks with its first quick reply
        if page.get_by_role("button", name="生成申请表", exact=True).count():
            break
        quick = page.locator(".quick button, .options button").last
        if not quick.count():
            break
        quick.click()
        page.wait_for_timeout(1500)
    page.get_by_role("button", name="生成申请表", exact=True).last.click()
    link = page.locator("a.apply").last
    link.wait_for(timeout=T)
    with page.context.expect_page() as popup:
        link.click()
    apply = popup.value
    apply.wait_for_load_state()
    return page, apply


def office_login(browser, api_url: str, username: str):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{api_url}/office")
    page.fill("#username", username)
    page.fill("#password", "daoban-demo")
    page.locator("#login-form button[type=submit]").click()
    page.locator("#rows tr.row").first.wait_for(timeout=T)
    return page


def open_first(page):
    page.locator("#rows tr.row").first.click()
    page.locator("#detail .item").first.wait_for(timeout=T)


def act(page, code: str, to: str):
    item = page.locator(f"#detail .item[data-code='{code}']")
    item.locator(f"button[data-to='{to}']").click()


def walk_from_apply_page(browser, apply, api_url: str) -> dict:
    """From the apply page to both departments' approvals and the public QR page."""
    errors: list[str] = []
    apply.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # before the sign-in: what the chat said is there, nothing personal
    apply.locator("#fields .field[data-key='applicant_name'] input").wait_for(timeout=T)
    assert apply.locator("#f-applicant_name").input_value() == "小满茶饮"
    assert apply.locator("#f-site_address").input_value() == "中山市石岐区孙文中路1号"
    assert "对话中您说的" in apply.locator(".field[data-key='applicant_name'] .badge").inner_text()
    apply.fill("#id_number", CHEN[0])
    apply.fill("#password", CHEN[1])
    apply.locator("#signin-go").click()
    apply.locator("#who h2").wait_for(timeout=T)
    legal_id = apply.locator(".field[data-key='legal_rep_id']")
    assert apply.locator("#f-legal_rep_id").input_value() == CHEN[0]
    assert "已核验" in legal_id.locator(".badge").inner_text() and "实名认证" in legal_id.locator(".badge").inner_text()
    assert apply.locator("#f-contact_phone").input_value() == CHEN[3]
    assert apply.locator("#rongque-list li").count() >= 1  # 营业执照 issued in the same bundle: 容缺
    SHOTS.mkdir(parents=True, exist_ok=True)
    apply.screenshot(path=str(SHOTS / "office_apply.png"), full_page=True)
    apply.locator("#commitments input[value='fire_safety_check']").check()
    apply.fill("#f-site_floor", "1楼")
    apply.locator("#submit").click()
    apply.wait_for_url("**/track/**", timeout=T)
    track_url = apply.url
    assert "已提交" in apply.locator("#overall").inner_text()
    assert CHEN[0] not in apply.content() and CHEN[3] not in apply.content()
    # department A (消防): accepts, then approves its item (chosen for 告知承诺)
    fire = office_login(browser, api_url, "zhongshan.fire")
    open_first(fire)
    assert fire.locator("#detail .item").count() == 1  # only its own item
    assert CHEN[0] not in fire.locator("#detail").inner_text()  # masked
    act(fire, "fire_safety_check", "accepted")
    fire.locator("#detail .item[data-code='fire_safety_check'].st-accepted").wait_for(timeout=T)
    # department B (市场监管): accepts the registration, asks for two materials at once for the food licence
    market = office_login(browser, api_url, "zhongshan.market_regulation")
    open_first(market)
    act(market, "business_registration", "accepted")
    market.locator("#detail .item[data-code='business_registration'].st-accepted").wait_for(timeout=T)
    act(market, "food_business_license", "correction")
    form = market.locator("#detail .item[data-code='food_business_license'] form.correction")
    form.locator("input[value='site_layout_plan']").check()
    form.locator("input[value='health_certificates']").check()
    form.locator("input[name='note']").fill("布局图请标出操作间")
    form.locator("button[type=submit]").click()
    market.locator("#detail .item[data-code='food_business_license'].st-correction").wait_for(timeout=T)
    market.screenshot(path=str(SHOTS / "office_inbox.png"), full_page=True)
    # the applicant supplies exactly those two on the tracking page
    apply.goto(track_url)
    row = apply.locator("#item-food_business_license")
    assert "需补正" in row.inner_text() and "主要设备设施布局图" in row.inner_text() and "从业人员健康证明" in row.inner_text()
    plan = Path(SHOTS / "plan.pdf")
    plan.write_bytes(b"%PDF-1.4 layout plan")
    row.locator("input[name='file:site_layout_plan']").set_input_files(str(plan))
    row.locator("input[name='confirm:health_certificates']").check()
    row.locator("form.supply button[type=submit]").click()
    apply.wait_for_url("**/track/**", timeout=T)
    assert "已受理" in apply.locator("#item-food_business_license .status").inner_text()
    # both departments approve
    market.locator("#refresh").click()
    open_first(market)
    for code in ("food_business_license", "business_registration"):
        act(market, code, "approved")
        market.locator(f"#detail .item[data-code='{code}'].st-approved").wait_for(timeout=T)
    assert "plan.pdf" in market.locator("#supplements").inner_text()
    fire.locator("#refresh").click()
    open_first(fire)
    act(fire, "fire_safety_check", "approved")
    fire.locator("#detail .item[data-code='fire_safety_check'].st-approved").wait_for(timeout=T)
    # the applicant's page: every item approved, what was asked, the documents; numbers masked
    apply.reload()
    assert apply.locator("#overall").inner_text() == "已办结"
    assert apply.locator("tr.st-approved").count() == 3
    text = apply.content()
    assert "告知承诺书" in text and CHEN[0] not in text and CHEN[3] not in text and "138****8000" in text
    apply.screenshot(path=str(SHOTS / "office_track.png"), full_page=True)
    pdf = httpx.get(track_url + "/documents/commitment-fire_safety_check?format=pdf", timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # the 一码展示 page: business and licences' status, nothing personal
    apply.locator("a[href^='/qr/']").click()
    apply.locator("#biz").wait_for(timeout=T)
    public = apply.content()
    assert "小满茶饮" in apply.locator("#biz").inner_text() and public.count("准予") >= 3
    for personal in (CHEN[0], CHEN[2], CHEN[3], "138****8000", "442000"):
        assert personal not in public
    apply.screenshot(path=str(SHOTS / "office_public.png"), full_page=True)
    for p in (fire, market):
        p.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
    return {"track_url": track_url}


def bot_answering(stack, timeout: float = 300) -> None:
    """Every Rasa up and the relay passing turns (an earlier e2e test may have killed one)."""
    import time
    import uuid

    for i in range(stack.rasa_processes):
        stack.wait_rasa(i, timeout=timeout)
    deadline = time.monotonic() + 90
    with httpx.Client() as client:
        while True:
            try:
                botstack.say(client, stack, f"probe-{uuid.uuid4().hex[:8]}", "你好")
                return
            except (botstack.BotDown, httpx.HTTPError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)


def test_chat_to_licences_in_the_browser(stack, browser):
    bot_answering(stack)
    chat, apply = chat_to_apply_page(browser, stack.api_url)
    assert apply.url.startswith(f"{stack.api_url}/apply/")
    walk_from_apply_page(browser, apply, stack.api_url)
    apply.close()
    chat.close()
