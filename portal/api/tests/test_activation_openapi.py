"""The Service Activation operations in the project's OpenAPI document: where they are, that each is
named, authenticated and documents its errors, and that the queue is paged like every other list."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ACTIVATION_ENDPOINTS = {
    ("get", "/api/v1/activation/handoffs"),
    ("get", "/api/v1/applications/{application_id}/activation"),
    ("post", "/api/v1/applications/{application_id}/activation/start"),
    ("post", "/api/v1/applications/{application_id}/activation/checks/{item_code}"),
    ("put", "/api/v1/applications/{application_id}/activation/go-live"),
    ("post", "/api/v1/applications/{application_id}/activation/inputs"),
    ("post", "/api/v1/applications/{application_id}/activation/complete"),
}


@pytest.fixture
def document():
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_activation_operations_are_documented(document):
    listed = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert {(m, p) for m, p in listed if "activation" in p} == ACTIVATION_ENDPOINTS
    for method, path in ACTIVATION_ENDPOINTS:
        operation = document["paths"][path][method]
        assert operation["operationId"].startswith("handoff_")
        assert operation["tags"] == ["Service Activation"]
        assert "401" in operation["responses"] and "422" in operation["responses"]
        if method != "get":
            assert {"403", "404", "409"} <= set(operation["responses"]), path


def test_the_queue_is_paged(document):
    operation = document["paths"]["/api/v1/activation/handoffs"]["get"]
    params = {p["name"] for p in operation["parameters"]}
    assert {"limit", "offset", "status"} <= params
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    paged = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(paged["properties"]) == {"count", "limit", "offset", "items"}
