"""Signing in and out with real passwords, on pages that look like the rest of the service."""

import pytest

from portal.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_page_uses_the_portal_layout(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "MHHS Qualification Portal" in html
    assert '<h1 class="govuk-heading-xl">Sign in</h1>' in html
    assert 'for="id_login"' in html and 'for="id_password"' in html
    assert "Sign out" not in html  # no navigation before signing in


def test_sign_in_with_a_real_password(client, member):
    response = client.post("/accounts/login/", {"login": member.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "Your applications" in client.get("/").content.decode()


def test_sign_in_returns_to_the_page_asked_for(client, member, make_application):
    application = make_application()
    url = f"/applications/{application.pk}/"
    response = client.get(url)
    login_url = response["Location"]
    response = client.post(login_url, {"login": member.email, "password": TEST_PASSWORD, "next": url})
    assert response["Location"] == url


def test_bad_password_shows_the_error_summary(client, member):
    response = client.post("/accounts/login/", {"login": member.email, "password": "wrong-password-123"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "There is a problem" in html
    assert 'href="#id_login"' in html
    assert "<title>Error: Sign in" in html
    assert f'value="{member.email}"' in html
    assert client.get("/").status_code == 302


def test_sign_out_is_a_post(client, member):
    client.force_login(member)
    assert "Are you sure you want to sign out?" in client.get("/accounts/logout/").content.decode()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_empty_sign_in_says_what_to_enter(client):
    response = client.post("/accounts/login/", {"login": "", "password": ""})
    html = response.content.decode()
    assert '<a href="#id_login">Enter your e-mail address</a>' in html
    assert '<a href="#id_password">Enter your password</a>' in html
    assert "This field is required" not in html


@pytest.mark.parametrize("url", ["/accounts/2fa/", "/accounts/password/change/"])
def test_account_pages_use_the_portal_layout(client, member, url):
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "MHHS Qualification Portal" in html
    assert 'class="govuk-heading-xl"' in html
    assert "govuk-button" in html
