"""A real browser pays: merchant page -> wallet cashier -> Pay -> back to the merchant.

Playwright drives Debian's Chromium (/usr/bin/chromium, never a downloaded build). Screenshots
are saved under artifacts/browser/ (gitignored).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.pair import pair  # noqa: F401  (the simulator + wallet fixture)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's /usr/bin/chromium is not installed (make browser)"
    ),
]


@pytest.fixture
def page():
    """A fresh headless Chromium page."""
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 412, "height": 915})  # a phone (WAP)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_merchant_cashier_pay_and_back_to_the_merchant(pair, page):  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    before = pair.balance("u_10001")

    page.goto(f"{pair.sim_url}/merchant/")
    page.fill("#amount", "2000")
    page.select_option("#currency", "JPY")
    page.select_option("#promoId", "PROMO-JPY-100")
    page.click("#pay-with-wallet")

    # The wallet asks who pays, then shows its cashier.
    page.wait_for_url(f"{pair.wallet_url}/cashier*")
    page.click('a[data-customer="u_10001"]')
    page.wait_for_selector("#pay")
    assert page.inner_text("#merchant-name")
    assert "JPY" in page.inner_text("#order-amount")
    assert re.fullmatch(r"1 JPY = [\d.,]+ KRW", page.inner_text("#fx-rate"))
    assert "JPY" in page.inner_text("#discount")  # the promotion, in the order's currency
    pay_text = page.inner_text("#wallet-debits")
    assert "KRW" in pay_text
    page.screenshot(path=str(ARTIFACTS / "cashier.png"), full_page=True)

    page.click("#pay")
    page.wait_for_selector("#result[data-status=SUCCESS]")
    assert "Payment successful" in page.inner_text("#result")
    page.click("#return")

    page.wait_for_url(f"{pair.sim_url}/merchant/orders/*")
    page.wait_for_selector("#order[data-status=SUCCESS]")
    assert "Payment successful" in page.inner_text("#headline")
    page.screenshot(path=str(ARTIFACTS / "merchant-success.png"), full_page=True)

    paid = int(pay_text.split()[0].replace(",", ""))
    assert pair.balance("u_10001") == before - paid
    assert (ARTIFACTS / "merchant-success.png").stat().st_size > 0
