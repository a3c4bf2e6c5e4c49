"""Hostile request bodies and text to the API and the pages: JSON nested 10,000 deep, arrays of a
million items, bodies over the size limits, broken multipart, control characters, NUL, bidirectional
overrides and lookalike letters in names, MPIDs and comments, hostile file names, and text that a
spreadsheet would run as a formula, which must come back escaped in the downloads."""

import io
import json
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.core.errors import InvalidInput
from portal.documents.evidence import check_name
from portal.qualification.models import Application, Attachment
from portal.tests.hostile.conftest import snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("content_rules_off")]


def _transitions(application: Any) -> str:
    return f"/api/v1/applications/{application.pk}/tasks/pqs/transitions"


def _post_json(client: Client, path: str, body: str | bytes, headers: dict[str, str]) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code, body
    return body


# --- bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"action":' * 10_000 + '"submit"' + "}" * 10_000,
        '{"action": "submit", "comment": ' + "[" * 10_000 + "]" * 10_000 + "}",
    ],
    ids=["array", "object", "inside-a-field"],
)
def test_json_nested_ten_thousand_deep_is_refused_as_unreadable(
    body, client, member, make_application, bearer, storage_dir
):
    application = make_application()
    before = snapshot(storage_dir)
    result = _error(_post_json(client, _transitions(application), body, bearer(member)), 400, "bad_request")
    assert result["message"] == "Cannot parse request body"
    assert snapshot(storage_dir) == before


def test_a_million_item_array_is_refused_with_a_bounded_answer(client, member, make_application, bearer, storage_dir):
    application = make_application()
    before = snapshot(storage_dir)
    headers = bearer(member)
    body = json.dumps({"action": "submit", "comment": [0] * 1_000_000})
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    result = _error(_post_json(client, _transitions(application), body, headers), 422, "invalid_input")
    assert result["message"] == "The request is not valid: comment: Input should be a valid string"
    # A top-level array where an object is expected, and a list field given far too many items.
    top = _error(
        _post_json(client, _transitions(application), json.dumps([0] * 1_000_000), headers), 422, "invalid_input"
    )
    assert len(top["details"]["errors"]) <= 50
    tokens = json.dumps({"name": "x", "scopes": ["a"] * 500_000})
    response = _post_json(client, "/api/v1/me/tokens", tokens, headers)
    assert response.status_code in {201, 422}
    assert len(response.content) < 20_000
    assert snapshot(storage_dir)["entries"] == before["entries"]


def test_a_body_over_the_memory_limit_answers_413_not_a_server_error(
    client, member, make_application, bearer, storage_dir
):
    application = make_application()
    before = snapshot(storage_dir)
    body = json.dumps({"action": "submit", "comment": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    result = _error(_post_json(client, _transitions(application), body, bearer(member)), 413, "too_large")
    assert result["message"] == (
        "The request body is larger than the 5 MB allowed; send files as multipart/form-data uploads."
    )
    assert snapshot(storage_dir) == before


def test_the_same_with_an_idempotency_key_is_refused_the_same_way(client, member, make_application, bearer):
    from portal.api.models import IdempotencyKey

    application = make_application()
    body = json.dumps({"action": "submit", "comment": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    headers = {**bearer(member), "Idempotency-Key": "big-1"}
    _error(_post_json(client, _transitions(application), body, headers), 413, "too_large")
    assert not IdempotencyKey.objects.exists()


def test_too_many_form_fields_and_broken_multipart_answer_400(client, member, make_application, bearer, storage_dir):
    application = make_application()
    headers = bearer(member)
    before = snapshot(storage_dir)
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post(_transitions(application) + "/upload", {"action": "submit", **fields}, headers=headers)
    assert _error(response, 400, "bad_request")["message"].startswith("The request could not be read")
    broken = client.post(
        _transitions(application) + "/upload",
        b'--xx\r\nContent-Disposition: form-data; name="action"\r\n\r\nsubmit',
        content_type="multipart/form-data; boundary=",
        headers=headers,
    )
    assert broken.status_code in {400, 422}, broken.content[:200]
    assert snapshot(storage_dir) == before


def test_a_json_body_of_the_wrong_type_or_encoding_is_refused(client, member, make_application, bearer):
    application = make_application()
    headers = bearer(member)
    for body in (b"\xff\xfe\x00\x00garbage", b"\x00" * 100, b'{"action": "submit"' + b" " * 1000):
        response = _post_json(client, _transitions(application), body, headers)
        assert response.status_code in {400, 422}, (body[:10], response.status_code)


# --- text fields -----------------------------------------------------------------------------------

CONTROL = [
    "NUL \x00 inside",
    "escape \x1b[31m red",
    "bell \x07",
    "C1 \x85 next line",
    "DEL \x7f",
]


@pytest.mark.parametrize("text", CONTROL, ids=["nul", "ansi-escape", "bell", "c1", "del"])
def test_control_characters_in_a_comment_are_refused(text, client, member, make_application, bearer, storage_dir):
    application = make_application()
    before = snapshot(storage_dir)
    body = json.dumps({"action": "submit", "comment": text})
    result = _error(_post_json(client, _transitions(application), body, bearer(member)), 422, "invalid_input")
    assert result["message"] == "The comment contains control characters; remove them and try again."
    assert snapshot(storage_dir) == before


def test_the_same_on_the_task_page(member, make_application, storage_dir):
    application = make_application()
    browser = Client()
    browser.force_login(member)
    before = snapshot(storage_dir)
    response = browser.post(f"/applications/{application.pk}/tasks/pqs/submit/", {"comment": "NUL \x00 inside"})
    assert response.status_code in {400, 422}
    if response.status_code == 422:
        assert "The comment contains control characters" in response.content.decode()
    assert snapshot(storage_dir) == before


@pytest.mark.parametrize(
    "mpid",
    ["NLΕN", "NLЕN", "ＮＬＥＮ", "NL\u200bEN", "NLEN\x00", "NLEN\u202e", "' OR 1=1 --", "x" * 10_000],
    ids=["greek-epsilon", "cyrillic-ie", "fullwidth", "zero-width", "nul", "rtl", "sql", "long"],
)
def test_an_mpid_that_only_looks_like_yours_is_refused(mpid, client, member, org, bearer, storage_dir):
    before = Application.objects.count()
    body = json.dumps(
        {"organisation_id": org.pk, "mpid": mpid, "market_role": "SUP", "route": "non_sit_supplier_agent"}
    )
    response = _post_json(client, "/api/v1/applications", body, bearer(member))
    assert response.status_code in {404, 422}, (mpid[:20], response.status_code, response.content[:300])
    body_out = response.json()
    assert body_out["code"] in {"invalid_input", "not_found"} and body_out["message"]
    assert Application.objects.count() == before


def test_lookalike_text_is_kept_as_data_and_shown_escaped(client, member, make_application, bearer):
    """Homoglyphs are ordinary letters: a comment holding them is stored as sent and never rendered
    as markup."""
    application = make_application()
    # Cyrillic А and Р, a right-to-left override and a zero-width space.
    comment = "Аpproved by <b>Рriya</b> & “team” \u202etxt.exe\u202c zero\u200bwidth"
    response = _post_json(
        client, _transitions(application), json.dumps({"action": "submit", "comment": comment}), bearer(member)
    )
    assert response.status_code == 200
    assert response.json()["entries"][-1]["comment"] == comment
    browser = Client()
    browser.force_login(member)
    page = browser.get(f"/applications/{application.pk}/tasks/pqs/").content.decode()
    assert "&lt;b&gt;Рriya&lt;/b&gt;" in page and "<b>Рriya</b>" not in page


# --- file names -------------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
        ("/etc/cron.d/job.pdf", "job.pdf"),
        ("report\x00.exe.pdf", "report.exe.pdf"),
        ("report\r\nX-Injected: 1.pdf", "reportX-Injected: 1.pdf"),
        ("invoice\u202efdp.pdf", "invoicefdp.pdf"),
        ("report.pdf\u200b", "report.pdf"),
    ],
    ids=["dot-dot", "backslashes", "absolute", "nul", "crlf", "rtl-override", "zero-width"],
)
def test_a_hostile_file_name_is_stored_only_under_a_name_of_the_servers(
    sent, kept, client, member, make_application, bearer, storage_dir
):
    """Django's upload parser takes the last path part and drops unprintable characters; the evidence
    is then stored under a server-generated path, and the name is kept as data only."""
    application = make_application()
    response = client.post(
        _transitions(application) + "/upload",
        {"action": "submit", "files": [SimpleUploadedFile(sent, PDF)]},
        headers=bearer(member),
    )
    if response.status_code == 422:
        assert "characters that are not allowed" in response.json()["message"]
        return
    assert response.status_code == 200, response.content[:300]
    [attachment] = Attachment.objects.all()
    assert attachment.original_name == kept if hasattr(attachment, "original_name") else True
    [stored] = [p for p in storage_dir.rglob("*") if p.is_file()]
    assert storage_dir in stored.parents
    assert kept.rsplit(".", 1)[0] not in stored.name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 300 + ".pdf", "The file name must be 200 characters or fewer."),
        ("report.\u0440df", "is not an allowed type"),  # Cyrillic р in the extension
        ("report.pdf.exe", "is not an allowed type"),
        ("evi<dence>.pdf", "contains characters that are not allowed"),
        ("CON:stream.pdf", "contains characters that are not allowed"),
    ],
    ids=["very-long", "homoglyph-extension", "double-extension", "angle-brackets", "ads-colon"],
)
def test_names_that_reach_the_upload_are_refused_with_the_reason(
    name, message, client, member, make_application, bearer, storage_dir
):
    application = make_application()
    before = snapshot(storage_dir)
    response = client.post(
        _transitions(application) + "/upload",
        {"action": "submit", "files": [SimpleUploadedFile(name, PDF)]},
        headers=bearer(member),
    )
    result = _error(response, 422, "invalid_input")
    assert message in result["message"]
    assert snapshot(storage_dir) == before


@pytest.mark.parametrize("name", ["../secret.pdf", "a\x00.pdf", "a\u202e.pdf", "\u2024\u2024/x.pdf", ".htaccess"])
def test_the_name_check_refuses_what_the_upload_parser_would_strip(name):
    with pytest.raises(InvalidInput) as refused:
        check_name(name)
    assert refused.value.details == {"rule": "name"}


# --- formula injection in downloads -------------------------------------------------------------------


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,1)", "\t=1+1", '=HYPERLINK("http://attacker.invalid","x")']


@pytest.mark.parametrize("formula", FORMULAS, ids=["dde", "plus", "minus", "at", "tab", "hyperlink"])
def test_text_a_spreadsheet_would_run_comes_back_escaped_in_downloads(formula, member, org, make_application):
    org.name = formula
    org.save(update_fields=["name"])
    make_application()
    browser = Client()
    browser.force_login(member)
    csv_text = _body(browser.get("/downloads/applications.csv")).decode("utf-8-sig")
    assert "'" + formula.replace('"', '""') in csv_text
    for line in csv_text.splitlines():
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "-", "@", "\t")), cell
    xlsx = browser.get("/downloads/applications.xlsx")
    content = _body(xlsx)
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    cells = [value for row in sheet.iter_rows(values_only=True) for value in row if isinstance(value, str)]
    assert "'" + formula in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for cell in cells)


def test_validation_errors_are_listed_fifty_at_most(rf):
    from ninja.errors import ValidationError

    from portal.api.api import api

    problems = [{"loc": ("body", "payload", f"f{i}"), "msg": "bad", "type": "x"} for i in range(120)]
    response = api.on_exception(rf.post("/api/v1/applications"), ValidationError(problems))
    body = json.loads(response.content)
    assert response.status_code == 422
    assert len(body["details"]["errors"]) == 50
    assert body["details"]["error_count"] == 120
    assert body["message"] == "The request is not valid: f0: bad (and 119 more)"


def test_a_parameter_given_twice_is_refused_not_read_as_its_last_value(client, member, bearer):
    response = client.get("/api/v1/applications?route=a&route=non_sit_supplier_agent", headers=bearer(member))
    result = _error(response, 422, "invalid_input")
    assert result["message"] == "The parameter “route” takes one value; it was given 2."
