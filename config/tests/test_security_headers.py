"""Security headers on every page: CSP with a nonce and no inline script or eval, no framing,
no MIME sniffing, a same-origin referrer and opener policy.

Every GET route is walked from the URL resolver (`routes.site_routes`) and fetched as an
anonymous visitor and as staff (who may see every page), so a new page is checked the day it is
added; a page with path parameters needs a sample in `routes.SAMPLE_KWARGS`.
"""

from __future__ import annotations

import json
import re
import subprocess  # nosec B404 -- runs this project's manage.py
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from config.tests.routes import sample_url, site_routes

BASE_DIR = Path(settings.BASE_DIR)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
NONCE_ATTR = re.compile(r'\bnonce="([^"]+)"')
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|<[^>]+\sstyle\s*=", re.IGNORECASE)


def csp_directives(header: str) -> dict[str, list[str]]:
    """'default-src 'self'; img-src data:' -> {"default-src": ["'self'"], ...}."""
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def check_headers(response) -> list[str]:
    """What is missing or wrong in a response's security headers (empty when all is well)."""
    problems = []
    expected = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    for header, value in expected.items():
        if response.get(header) != value:
            problems.append(f"{header} is {response.get(header)!r}, expected {value!r}")
    if "Content-Security-Policy" not in response:
        return [*problems, "no Content-Security-Policy header"]
    csp = csp_directives(response["Content-Security-Policy"])
    script_src = csp.get("script-src", csp.get("default-src", []))
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"):
        if unsafe in script_src:
            problems.append(f"script-src allows {unsafe}")
    for directive, value in [
        ("frame-ancestors", ["'none'"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'none'"]),
        ("default-src", ["'self'"]),
        ("form-action", ["'self'"]),
    ]:
        if csp.get(directive) != value:
            problems.append(f"CSP {directive} is {csp.get(directive)}, expected {value}")
    if "'unsafe-inline'" in csp.get("style-src", []):
        problems.append("style-src allows 'unsafe-inline'")
    if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
        problems.extend(_check_html(response.content.decode(), script_src))
    return problems


def _check_html(html: str, script_src: list[str]) -> list[str]:
    """Scripts are external files carrying the response's nonce; no inline handlers or styles."""
    problems = []
    nonces = {value[len("'nonce-") : -1] for value in script_src if value.startswith("'nonce-")}
    if len(nonces) != 1:
        problems.append(f"script-src has no single nonce: {script_src}")
    for attributes, body in SCRIPT_TAG.findall(html):
        if body.strip() and "application/json" not in attributes:
            problems.append(f"inline script: <script{attributes}>{body.strip()[:60]}")
        found = NONCE_ATTR.search(attributes)
        if not found or found.group(1) not in nonces:
            problems.append(f"script without the response's nonce: <script{attributes}>")
    for pattern, what in [(INLINE_HANDLER, "inline event handler"), (INLINE_STYLE, "inline style")]:
        match = pattern.search(html)
        if match:
            problems.append(f"{what}: {html[match.start() : match.start() + 80]}")
    return problems


@pytest.mark.parametrize("who", ["anonymous", "staff"])
def test_every_get_page_sends_the_security_headers(who, site_data, role_users):
    client = Client()
    if who == "staff":
        client.force_login(role_users["staff"])
    problems = {}
    checked = 0
    for route in site_routes():
        url = sample_url(route, site_data)
        response = client.get(url)
        if response.status_code == 405:
            continue  # POST-only: nothing to read (the headers are still checked below)
        checked += 1
        if found := check_headers(response):
            problems[f"{url} ({route.name}, {response.status_code})"] = found
    assert checked >= 10
    assert not problems, "\n".join(f"{url}: {p}" for url, p in problems.items())


def test_error_and_refusal_pages_send_the_headers_too(client, site_data, role_users):
    responses = {
        "404": client.get("/companies/no-such-company.example/"),
        "405": client.get(sample_url("tag_create", site_data)),
        "sign-in redirect": client.get(sample_url("review_list", site_data)),
    }
    client.force_login(role_users["Researcher"])
    responses["403"] = client.get(sample_url("review_list", site_data))
    problems = {what: check_headers(r) for what, r in responses.items() if check_headers(r)}
    assert not problems


def test_the_nonce_changes_on_every_response(client, site_data):
    headers = [client.get("/")["Content-Security-Policy"] for _ in range(2)]
    assert headers[0] != headers[1]


def test_production_settings_are_hardened():
    """Settings as production loads them (DEBUG off), read in a fresh interpreter."""
    names = [
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "CSRF_TRUSTED_ORIGINS",
    ]
    code = (
        "import django; from django.conf import settings; django.setup(); "
        f"import json; print(json.dumps([getattr(settings, n) for n in {names!r}]))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "palimpsest.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://palimpsest.example.org",
    }
    result = subprocess.run(  # nosec B603 -- fixed arguments
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    values = dict(zip(names, json.loads(result.stdout), strict=True))
    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_TRUSTED_ORIGINS": ["https://palimpsest.example.org"],
    }


def test_check_deploy_passes_with_production_settings():
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": "deploy-check-" + "k" * 50,
        "ALLOWED_HOSTS": "palimpsest.example.org",
    }
    result = subprocess.run(  # nosec B603 -- fixed arguments
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
