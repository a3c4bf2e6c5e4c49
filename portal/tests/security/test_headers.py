"""Security headers on every page (goal S-02; ASVS v5.0.0-3.4.1, 3.4.3, 3.4.4, 3.4.5, 3.4.6, 3.4.8,
14.3.2).

Every address of the matrix that some subject may GET is asked for by such a subject (the
participant member where they may, else the first staff role that may; the public pages anonymously
too), and every API operation that answers a GET. Each answer carries a CSP with a per-response nonce
for scripts and `object-src 'none'`, `base-uri 'none'`, `frame-ancestors 'none'`; `nosniff`; a
Referrer-Policy; COOP `same-origin`; `X-Frame-Options: DENY`; and, once signed in,
`Cache-Control: no-store`. Every `<script>` of a rendered page carries that response's nonce, and no
page uses what the policy would block (inline `<style>`, `style=` or `on…=` attributes,
`javascript:` links). Under the production settings a request over HTTPS gets HSTS for at least a
year with subdomains, and a plain-HTTP request is sent to HTTPS.
"""

import importlib
import os
import re
import secrets
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from portal.tests.security import authz_table as table
from portal.tests.security.matrix import Caller, Operation, api_operations, expand, sample_kwargs
from portal.tests.security.test_authorization_matrix import WEB_ADDRESSES
from portal.tests.security.world import ANONYMOUS, SUBJECTS, World, sign_in

pytestmark = pytest.mark.django_db

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
NONCE_ATTR = re.compile(r"""\bnonce=["']([^"']+)["']""")
HEADER_NONCE = re.compile(r"script-src[^;]*'nonce-([^']+)'")
BLOCKED_MARKUP = {
    "inline <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "style= attribute": re.compile(r"""<[a-z][^>]*\sstyle=["']""", re.IGNORECASE),
    "on…= event handler": re.compile(r"""<[a-z][^>]*\son[a-z]+=["']""", re.IGNORECASE),
    "javascript: URL": re.compile(r"""(?:href|src|action)=["']\s*javascript:""", re.IGNORECASE),
}


def _who_may_get(row: dict[str, Any]) -> list[str]:
    """The subjects to ask as: anonymous if the page is public, and one signed-in subject that gets 200."""
    outcomes = expand(row["get"], anonymous=table.LOGIN)
    allowed = [s for s in SUBJECTS if outcomes[s] == 200]
    chosen = [ANONYMOUS] if ANONYMOUS in allowed else []
    signed_in = [s for s in allowed if s != ANONYMOUS]
    if signed_in:
        chosen.append(table.M if table.M in signed_in else signed_in[0])
    return chosen


def header_problems(response: Any, *, signed_in: bool) -> list[str]:
    problems = []
    csp = response.get("Content-Security-Policy", "")
    for needed in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        if needed not in csp:
            problems.append(f"CSP without {needed}: {csp!r}")
    script_src = next((d.strip() for d in csp.split(";") if d.strip().startswith("script-src ")), "")
    if not script_src or any(word in script_src for word in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:")):
        problems.append(f"CSP script-src allows more than this site's files and nonces: {csp!r}")
    # django-csp puts the response's nonce in the policy once a template has used it: every page built
    # on base.html does; a JSON answer or a file download runs no script and needs none.
    if _is_html_page(response) and not HEADER_NONCE.search(csp):
        problems.append(f"CSP of an HTML page without a nonce-based script-src: {csp!r}")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    for header, value in expected.items():
        if response.get(header) != value:
            problems.append(f"{header}: {response.get(header)!r}, expected {value!r}")
    if signed_in and "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"Cache-Control: {response.get('Cache-Control')!r}, expected no-store")
    return problems


def _is_html_page(response: Any) -> bool:
    """A whole HTML page (not an htmx fragment, a JSON answer or a download)."""
    if not response.get("Content-Type", "").startswith("text/html") or getattr(response, "streaming", False):
        return False
    return b"<html" in response.content[:2000]


def markup_problems(response: Any) -> list[str]:
    if not response.get("Content-Type", "").startswith("text/html") or getattr(response, "streaming", False):
        return []
    html = response.content.decode("utf-8", "replace")
    match = HEADER_NONCE.search(response.get("Content-Security-Policy", ""))
    nonce = match.group(1) if match else None
    problems = []
    for attributes in SCRIPT_TAG.findall(html):
        found = NONCE_ATTR.search(attributes)
        if found is None or found.group(1) != nonce:
            problems.append(f"<script{attributes}> without this response's nonce")
    for what, pattern in BLOCKED_MARKUP.items():
        hit = pattern.search(html)
        if hit:
            problems.append(f"{what}: {html[hit.start() : hit.start() + 120]!r}")
    return problems


@pytest.mark.parametrize("address", [a for a in WEB_ADDRESSES if a.name in table.WEB], ids=lambda a: a.name)
def test_every_page_has_the_security_headers(caller: Caller, world: World, address: Any) -> None:
    subjects = _who_may_get(table.WEB[address.name])
    if not subjects:
        pytest.skip("nobody may GET this address (an action's POST-only address)")
    path = reverse(address.name, kwargs=sample_kwargs(address.name, address.kwargs, world.ours, table.SAMPLES))
    problems = []
    for subject in subjects:
        response = caller.call(subject, "GET", path)
        assert response.status_code == 200, (subject, response.status_code)
        problems += [f"as {subject}: {p}" for p in header_problems(response, signed_in=subject != ANONYMOUS)]
        problems += [f"as {subject}: {p}" for p in markup_problems(response)]
    assert not problems, f"{path}:\n" + "\n".join(problems)


def test_every_api_answer_has_the_security_headers(caller: Caller, world: World) -> None:
    problems = []
    for operation in api_operations():
        if operation.method != "GET" or expand(table.API[operation.operation_id], anonymous=401)[table.M] != 200:
            continue
        path = _api_path(operation, world)
        response = caller.call(table.M, "GET", path, api=True)
        problems += [f"{path}: {p}" for p in header_problems(response, signed_in=True)]
    assert not problems, "\n".join(problems)


def _api_path(operation: Operation, world: World) -> str:
    values = sample_kwargs(f"api:{operation.operation_id}", operation.params, world.ours, table.SAMPLES)
    path = operation.path
    for key, value in values.items():
        path = path.replace("{" + key + "}", str(value))
    return path


def test_the_sign_in_and_error_pages_have_the_security_headers(caller: Caller, world: World) -> None:
    problems = []
    for path, expected in ((reverse("account_login"), 200), ("/no-such-page/", 404)):
        response = caller.call(ANONYMOUS, "GET", path)
        assert response.status_code == expected
        problems += header_problems(response, signed_in=False) + markup_problems(response)
    refused = reverse("web:application_non_completion", args=[world.ours.ids["application_id"]])
    response = caller.call(table.M, "GET", refused)
    assert response.status_code == 403
    problems += header_problems(response, signed_in=True) + markup_problems(response)
    assert not problems, "\n".join(problems)


def _production_security_settings() -> dict[str, Any]:
    """The transport settings of config/settings/production.py, read from the module itself."""
    saved = os.environ.get("DJANGO_SECRET_KEY")
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(64)
    try:
        production = importlib.import_module("config.settings.production")
    finally:
        if saved is None:
            del os.environ["DJANGO_SECRET_KEY"]
        else:
            os.environ["DJANGO_SECRET_KEY"] = saved
    names = [
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    ]
    return {name: getattr(production, name) for name in names}


def test_hsts_under_the_production_settings(caller: Caller, world: World) -> None:
    values = _production_security_settings()
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    with override_settings(**values):
        client = Client()
        insecure = client.get(reverse("registry:register"))
        assert insecure.status_code == 301
        assert insecure["Location"].startswith("https://")
        # A new client: the security middleware reads its settings when the client's handler loads it.
        for user, path in ((None, reverse("registry:register")), (world.ours.member, reverse("web:home"))):
            client = Client()
            if user is not None:
                sign_in(client, user)
            response = client.get(path, secure=True)
            assert response.status_code == 200, (user, path)
            hsts = response.get("Strict-Transport-Security", "")
            max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))  # type: ignore[union-attr]
            assert max_age >= 31_536_000, hsts
            assert "includeSubDomains" in hsts, hsts
