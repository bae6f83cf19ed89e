"""The API's docs page (django-ninja's Swagger UI) runs under the site's CSP, which forbids
inline script: its scripts are files carrying the nonce, its settings a JSON data block."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from config.tests.test_csp_browser import CSP_LISTENER

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_renders_every_endpoint_without_a_csp_violation(page):
    page.add_init_script(CSP_LISTENER)
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(msg.text))
    response = page.goto(page.base_url + "/api/v1/docs")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Palimpsest API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/tags")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__cspViolations") == []
    assert [m for m in messages if "Content Security Policy" in m] == []
