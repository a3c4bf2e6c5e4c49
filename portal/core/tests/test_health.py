from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client


def test_live_answers_without_the_database(client: Client) -> None:
    # No django_db mark: any query would raise here.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_asks_the_database(client: Client) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_ready_answers_503_when_the_database_is_unreachable(client: Client) -> None:
    with mock.patch("portal.core.health.connection.cursor", side_effect=DatabaseError("connection refused")):
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_health_refuses_writes(client: Client) -> None:
    assert client.post("/health/live").status_code == 405
