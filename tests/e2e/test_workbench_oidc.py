"""Production sign-in in a real browser: the three services and the gateway configured as a
deployment is (an identity provider, no development sign-in, the services find the provider's
keys through its discovery document), a small OpenID Connect provider started by the test
(tests/support/oidc_provider.py), and Debian's Chromium. The petition office signs in through
the PKCE redirect and reaches the to-do; the registrar then registers a visit at the desk with the
keyboard only, every focused control showing where the focus is."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.conftest import Servers
from tests.e2e.test_services_start import _free_port, service_env  # noqa: F401  (fixture)
from tests.e2e.test_workbench import (
    AXE_FOUND,
    CHROMIUM,
    GOOD_ID,
    LOGS,
    NO_NETWORK,
    _shot,
    _shot_here,
    _wait_healthy,
)
from tests.support.oidc_provider import KEYCLOAK_CLAIMS, OidcProvider

pytestmark = pytest.mark.integration

from playwright.sync_api import Locator, Page, expect, sync_playwright  # noqa: E402

USERS = {
    "kc-office": {"role": "petition_office", "bureau": "3301", "name": "周敏"},
    "kc-registrar": {"role": "registrar", "bureau": "330102", "name": "李晓燕"},
}


@dataclass
class Deployment:
    url: str
    idp: OidcProvider


@pytest.fixture
def deployment(
    service_env: dict[str, str],  # noqa: F811
    servers: Servers,
    nats_url: str,
) -> Iterator[Deployment]:
    del nats_url
    gateway_port = _free_port()
    base = f"http://127.0.0.1:{gateway_port}"
    # Short-lived access tokens, so that the browser renews one (refresh token) during the test.
    with OidcProvider(users=USERS, redirect_uris=[f"{base}/auth/callback"], access_ttl=75) as idp:
        env = {k: v for k, v in service_env.items() if k != "PETITIONS_JWKS_FILE"}
        env |= {"PETITIONS_OIDC_ISSUER": idp.issuer, **KEYCLOAK_CLAIMS}
        procs: list[subprocess.Popen[bytes]] = []
        urls: dict[str, str] = {}
        LOGS.mkdir(parents=True, exist_ok=True)
        try:
            for name in ("intake", "assignment", "reporting"):
                port = _free_port()
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", name],
                        env={
                            **env,
                            **servers.env(name),
                            "PETITIONS_HTTP_PORT": str(port),
                            "PETITIONS_LOG_FORMAT": "json",
                        },
                        stdout=subprocess.DEVNULL,
                        stderr=(LOGS / f"oidc-{name}.log").open("wb"),
                    )
                )
                urls[name] = f"http://127.0.0.1:{port}"
            gateway_env = env | {f"PETITIONS_{n.upper()}_URL": u for n, u in urls.items()}
            gateway_env["PETITIONS_WEB_OIDC_CLIENT_ID"] = idp.client_id
            # As a deployment: no --issuer-key, so no development sign-in whatever the page does.
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "devstack.gateway", "--port", str(gateway_port)],
                    env=gateway_env,
                    stdout=subprocess.DEVNULL,
                    stderr=(LOGS / "oidc-gateway.log").open("wb"),
                )
            )
            urls["gateway"] = base
            deadline = time.monotonic() + 90  # a busy machine starts slowly
            for url, proc in zip(urls.values(), procs, strict=True):
                _wait_healthy(url, proc, deadline)
            yield Deployment(base, idp)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=15)


def _sign_in_at_provider(page: Page, deployment: Deployment, button: str) -> None:
    page.get_by_role("button", name="统一身份认证登录 Sign in").click()
    page.wait_for_url(lambda url: url.startswith(deployment.idp.issuer))
    query = parse_qs(urlparse(page.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert query["redirect_uri"] == [f"{deployment.url}/auth/callback"]
    page.get_by_role("button", name=button).click()
    page.wait_for_url(lambda url: url.startswith(deployment.url) and "/auth/callback" not in url)


FOCUS_SHOWN = """() => {
    // Where the focus is must be visible: a 2px outline on the element or on the control drawn
    // for it (a hidden radio's next sibling), or the frame of a field Element Plus marks as
    // focused (is-focus / is-focused) drawn with a 2px ring.
    const el = document.activeElement;
    if (!el || el === document.body) return 'nothing focused';
    for (const n of [el, el.nextElementSibling]) {
        if (!n) continue;
        const s = getComputedStyle(n);
        if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) return '';
    }
    const frame = el.closest('.is-focus, .is-focused, .el-input__wrapper, .el-select__wrapper');
    if (frame && getComputedStyle(frame).boxShadow.includes(' 0px 2px')) return '';
    return el.outerHTML.slice(0, 160);
}"""


def _tab_to(page: Page, target: Locator, unseen: list[str], limit: int = 60) -> None:
    """Press Tab until ``target`` has the focus, noting any stop without a visible focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        # The field's frame is redrawn on Vue's next tick: look again for a moment.
        deadline = time.monotonic() + 1
        while (problem := page.evaluate(FOCUS_SHOWN)) and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        if problem:
            unseen.append(problem)
        if target.evaluate(
            "el => el === document.activeElement || el.contains(document.activeElement)"
        ):
            return
    pytest.fail(f"{limit} presses of Tab never reached {target}")


def test_sign_in_with_the_identity_provider_and_register_by_keyboard(
    deployment: Deployment,
) -> None:
    base = deployment.url
    # Production settings: no development sign-in at all.
    assert httpx.get(f"{base}/dev/users").status_code == 404
    assert httpx.post(f"{base}/dev/token", json={"user": "registrar1"}).status_code == 404
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[NO_NETWORK])
        context = browser.new_context(
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1366, "height": 768},
            reduced_motion="reduce",  # no transitions: the focus ring is drawn at once
        )
        context.set_default_timeout(30_000)
        expect.set_options(timeout=20_000)
        page = context.new_page()
        AXE_FOUND.clear()
        try:
            _run(page, deployment)
        except Exception:
            page.screenshot(path=str(LOGS.parent / "workbench-oidc-failure.png"))
            raise
        finally:
            context.close()
            browser.close()
    assert not AXE_FOUND, "axe-core (WCAG 2 A/AA), serious or critical:\n" + "\n".join(AXE_FOUND)


def _run(page: Page, deployment: Deployment) -> None:
    base, idp = deployment.url, deployment.idp
    # -- a deep link while signed out: the sign-in page offers the identity provider only ------
    page.goto(f"{base}/todo")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)todo"))
    expect(page.get_by_role("button", name="统一身份认证登录 Sign in")).to_be_visible()
    expect(page.get_by_role("table", name="演示用户 demo users")).to_have_count(0)
    _shot(page, "20-sign-in-oidc")

    # -- to the provider with PKCE and back to the to-do -------------------------------------
    _sign_in_at_provider(page, deployment, "周敏（kc-office）登录")
    expect(page).to_have_url(f"{base}/todo")
    expect(page.get_by_role("heading", name="我的待办 To-do")).to_be_visible()
    who = page.get_by_label("当前用户 signed-in user")
    expect(who).to_contain_text("周敏")
    expect(who).to_contain_text("信访科")  # the role out of realm_access.roles
    exchanges = [r for r in idp.token_requests if r.grant_type == "authorization_code"]
    assert [(r.ok, r.pkce_checked) for r in exchanges] == [(True, True)]
    # The token is kept for this tab only, and the services accept it (the to-do loaded).
    stored = page.evaluate("() => Object.keys(sessionStorage)")
    assert "workbench.token" in stored
    assert page.evaluate("() => Object.keys(localStorage).length") == 0
    expect(page.get_by_text(re.compile(r"共 \d+ 件 cases"))).to_be_visible()  # assignment answered

    # -- sign out, and in again as the registrar --------------------------------------------
    page.get_by_role("button", name="退出 Sign out").click()
    expect(page.get_by_role("button", name="统一身份认证登录 Sign in")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('workbench.token')") is None
    _sign_in_at_provider(page, deployment, "李晓燕（kc-registrar）登录")
    expect(page.get_by_role("heading", name="登记台 Registration desk")).to_be_visible()

    # -- the desk with the keyboard only ----------------------------------------------------
    unseen: list[str] = []
    page.locator("body").evaluate("b => b.focus()")
    _tab_to(page, page.get_by_role("link", name="跳到正文 Skip to content"), unseen, limit=3)
    page.keyboard.press("Enter")  # past the header and the menu
    _tab_to(page, page.get_by_label("姓名 Name"), unseen)
    page.keyboard.type("赵六")
    _tab_to(page, page.get_by_label("身份证号 Resident ID"), unseen, limit=3)
    page.keyboard.type(GOOD_ID)
    _tab_to(page, page.get_by_label("联系电话 Phone"), unseen, limit=3)
    page.keyboard.type("13900002222")
    _tab_to(page, page.get_by_role("combobox", name="问题分类 Category"), unseen)
    page.keyboard.type("治安案件")
    option = page.get_by_role("option", name=re.compile("治安案件处理"))
    expect(option.first).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_role("combobox", name="问题分类 Category")).to_have_count(1)
    _tab_to(page, page.get_by_label("反映问题 Summary"), unseen)
    page.keyboard.type("反映邻里噪音纠纷，派出所未处理")
    _tab_to(page, page.get_by_label("诉求 Requests"), unseen, limit=3)
    page.keyboard.type("请求依法处理")
    # Enter in a one-line field submits the form, as in any form: back up to the phone field.
    for _ in range(40):
        if page.get_by_label("联系电话 Phone").evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Shift+Tab")
    _shot_here(page, "22-desk-focus")  # the focus ring on the phone field
    page.keyboard.press("Enter")
    number = page.get_by_test_id("case-number")
    expect(number).to_have_text(re.compile(r"^330102-\d{4}-\d{6}$"), timeout=30_000)
    assert not unseen, "focus not visible on:\n" + "\n".join(unseen)
    _shot(page, "21-desk-keyboard")

    # -- the access token is renewed by its refresh token before it expires -------------------
    token = "() => sessionStorage.getItem('workbench.token')"
    before = page.evaluate(token)
    deadline = time.monotonic() + 90
    while not any(r.grant_type == "refresh_token" and r.ok for r in idp.token_requests):
        assert time.monotonic() < deadline, f"no refresh: {idp.token_requests}"
        page.wait_for_timeout(1000)
    deadline = time.monotonic() + 20
    while page.evaluate(token) == before:  # the workbench now sends the renewed token
        assert time.monotonic() < deadline, "the renewed token was not taken up"
        page.wait_for_timeout(250)
    page.get_by_role("button", name="继续登记 Register another").press("Enter")
    expect(page.get_by_label("姓名 Name")).to_be_visible()

    # -- the navigation by keyboard: Tab reaches each screen's link, Enter opens it -----------
    nav = page.get_by_role("navigation", name="导航 navigation")
    # From the header's sign-out button (Tab goes on from wherever the focus last was).
    page.get_by_role("button", name="退出 Sign out").focus()
    _tab_to(page, nav.get_by_role("link", name=re.compile("登记台")), unseen, limit=1)
    expect(nav.get_by_role("link", name=re.compile("登记台"))).to_have_attribute(
        "aria-current", "page"
    )
    _tab_to(page, nav.get_by_role("link", name=re.compile("案件")), unseen, limit=1)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="案件 Cases")).to_be_visible()
    assert not unseen, "focus not visible on:\n" + "\n".join(unseen)
