"""The background work, each against its library alone: `python -m bench.jobs <what> --database portal_bench`.

Each measurement runs in a process of its own (so that its peak memory is its own) and prints one JSON
object. Whatever the product writes while being measured is rolled back, so the data set stays as
generated.

- `workbook-file`: writes the 100 000-row results workbook (once; kept under var/bench/).
- `import`: the product's import of that workbook (`import_job_create`, then `import_job_run` as the
  worker runs it: read, check every row, store every run) — time and peak memory.
- `openpyxl`: openpyxl's own read-only parse of the same file, every cell's value read — time and peak memory.
- `pdf`: the PAB meeting pack as the worker makes it (`pab_pack_generate`: the HTML, one WeasyPrint render,
  stored with its hash) against WeasyPrint rendering the same HTML alone (median of the runs).
- `audit`: `audit_verify` over the whole chain against hashing the same bytes with hashlib, and against a
  minimal verifier (the same rows read with a plain server-side cursor, the same canonical bytes hashed).
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROWS = 100_000
WORKBOOK = Path(os.environ.get("PORTAL_VAR_DIR", "var")) / "bench" / f"results-{ROWS}.xlsx"


def rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def setup(database: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_DATABASE"] = database
    import django

    django.setup()


class Rollback(Exception):
    pass


def qt_application() -> tuple[Any, Any]:
    from portal.participants.models import Membership
    from portal.testing.models import QtPlan

    plan = QtPlan.objects.select_related("application").get(application__mpid__code="AURA")
    member = (
        Membership.objects.filter(organisation_id=plan.application.organisation_id, is_director=False)
        .select_related("user")
        .order_by("id")
        .first()
    )
    assert member is not None
    return plan.application, member.user


def workbook_file() -> dict[str, Any]:
    """Rows of the QT application's recordable cases, each run at its own minute in the past."""
    from openpyxl import Workbook

    from portal.testing.execution_selectors import RECORDABLE
    from portal.testing.required_set import required_set

    application, _ = qt_application()
    rows = [row for row in required_set(application) if row.inclusion in RECORDABLE]
    cases = [row.identifier for row in rows]
    steps = {row.identifier: len(row.version.steps or []) for row in rows}
    if WORKBOOK.exists():
        return {"file": str(WORKBOOK), "rows": ROWS, "bytes": WORKBOOK.stat().st_size, "cases": len(cases)}
    WORKBOOK.parent.mkdir(parents=True, exist_ok=True)
    # Written the way Excel writes it, with the sheet's dimensions declared (openpyxl's write-only mode
    # leaves them out, and then openpyxl's read-only mode parses the whole sheet once just to size it).
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Results"
    sheet.append(["Case", "Status", "Tester", "Executed at", "Notes", "Step results"])
    start = dt.datetime(2026, 1, 5, 8, 0)  # noqa: DTZ001 (UK time, as a workbook holds it)
    for n in range(ROWS):
        failed = n % 10 == 9
        case = cases[n % len(cases)]
        results = [f"{s}:{'failed' if failed and s == steps[case] else 'passed'}" for s in range(1, steps[case] + 1)]
        sheet.append(
            [
                case,
                "failed" if failed else "passed",
                f"Tester {n % 12 + 1}",
                (start + dt.timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M"),
                "The response was refused; see the log." if failed else "",
                "; ".join(results),
            ]
        )
    tmp = WORKBOOK.with_suffix(".tmp")
    book.save(tmp)
    tmp.rename(WORKBOOK)
    return {"file": str(WORKBOOK), "rows": ROWS, "bytes": WORKBOOK.stat().st_size, "cases": len(cases)}


def product_import() -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from portal.testing.imports import import_job_create, import_job_run
    from portal.testing.models import ImportKind

    application, member = qt_application()
    content = WORKBOOK.read_bytes()
    baseline = current_rss_mb()
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            upload = SimpleUploadedFile(WORKBOOK.name, content, content_type="application/octet-stream")
            queued = time.perf_counter()
            job = import_job_create(actor=member, kind=ImportKind.RESULTS, upload=upload, application_id=application.pk)
            started = time.perf_counter()
            job = import_job_run(job_id=job.pk)
            finished = time.perf_counter()
            result = {
                "status": job.status,
                "stored_rows": job.stored_rows,
                "errors": job.errors[:3],
                "queue_s": round(started - queued, 2),
                "seconds": round(finished - started, 2),
            }
            raise Rollback
    except Rollback:
        pass
    result.update(peak_rss_mb=round(rss_mb(), 1), baseline_rss_mb=round(baseline, 1))
    result["peak_over_baseline_mb"] = round(result["peak_rss_mb"] - baseline, 1)
    return result


def openpyxl_parse() -> dict[str, Any]:
    from openpyxl import load_workbook

    baseline = current_rss_mb()
    started = time.perf_counter()
    book = load_workbook(WORKBOOK, read_only=True)
    rows = 0
    for row in book["Results"].iter_rows(values_only=True):
        rows += 1
        for _ in row:
            pass
    book.close()
    seconds = time.perf_counter() - started
    peak = rss_mb()
    return {
        "rows": rows - 1,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak, 1),
        "baseline_rss_mb": round(baseline, 1),
        "peak_over_baseline_mb": round(peak - baseline, 1),
    }


def pdf(runs: int) -> dict[str, Any]:
    from django.db import transaction
    from weasyprint import HTML

    from portal.accounts.roles import Role
    from portal.approvals.models import GenerationStatus, PabMeeting, PabPack
    from portal.approvals.paper_services import pab_pack_generate, pab_pack_request, pack_html
    from portal.approvals.pdf import render_pdf

    meeting = PabMeeting.objects.filter(packs__status=GenerationStatus.READY).order_by("-date").first()
    assert meeting is not None, "no meeting with a meeting pack in the data set"
    from django.contrib.auth import get_user_model

    secretary = get_user_model().objects.filter(groups__name=Role.PAB_SECRETARY).order_by("id").first()
    product, alone, pages = [], [], 0
    try:
        with transaction.atomic():
            for _ in range(runs + 1):  # the first of each is a warm-up
                pack = pab_pack_request(actor=secretary, meeting_id=meeting.pk)
                started = time.perf_counter()
                done = pab_pack_generate(pack_id=pack.pk)
                product.append(time.perf_counter() - started)
                assert done is not None and done.status == GenerationStatus.READY, done and done.error
                pages = done.page_count
                html, _ = pack_html(PabPack.objects.select_related("meeting").get(pk=pack.pk))
                started = time.perf_counter()
                HTML(string=html).write_pdf()
                alone.append(time.perf_counter() - started)
                started = time.perf_counter()
                render_pdf(html)
            raise Rollback
    except Rollback:
        pass
    product, alone = product[1:], alone[1:]
    return {
        "pages": pages,
        "runs": runs,
        "product_s": round(statistics.median(product), 3),
        "weasyprint_s": round(statistics.median(alone), 3),
    }


def audit() -> dict[str, Any]:
    from django.db import connection

    from portal.audit.services import _canonical, audit_verify

    started = time.perf_counter()
    report = audit_verify()
    verify_s = time.perf_counter() - started

    columns = (
        "sequence, occurred_at, actor_id, actor_label, action, target_type, target_id, organisation_id, "
        "application_id, summary, before, after, prev_hash"
    )
    hash_s = 0.0
    events = 0
    payload_bytes = 0
    started = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection
    with raw.transaction(), raw.cursor(name="bench_audit") as cursor:
        cursor.itersize = 5000
        cursor.execute(f"SELECT {columns} FROM audit_auditevent ORDER BY sequence")
        while True:
            batch = cursor.fetchmany(5000)
            if not batch:
                break
            payloads = [
                _canonical(
                    {
                        "sequence": r[0],
                        "occurred_at": r[1].isoformat(),
                        "actor_id": r[2],
                        "actor_label": r[3],
                        "action": r[4],
                        "target_type": r[5],
                        "target_id": r[6],
                        "organisation_id": r[7],
                        "application_id": r[8],
                        "summary": r[9],
                        "before": r[10],
                        "after": r[11],
                        "prev_hash": r[12],
                    }
                ).encode()
                for r in batch
            ]
            t = time.perf_counter()
            for payload in payloads:
                hashlib.sha256(payload).hexdigest()
            hash_s += time.perf_counter() - t
            events += len(payloads)
            payload_bytes += sum(len(p) for p in payloads)
    minimal_s = time.perf_counter() - started
    return {
        "ok": report.ok,
        "events": report.checked,
        "payload_mb": round(payload_bytes / 1e6, 1),
        "verify_s": round(verify_s, 2),
        "hashlib_s": round(hash_s, 2),
        "minimal_verifier_s": round(minimal_s, 2),
        "peak_rss_mb": round(rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["workbook-file", "import", "openpyxl", "pdf", "audit"])
    parser.add_argument("--database", default="portal_bench")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.what == "openpyxl":
        result = openpyxl_parse()  # no Django: the library alone
    else:
        setup(args.database)
        handlers = {
            "workbook-file": workbook_file,
            "import": product_import,
            "pdf": lambda: pdf(args.runs),
            "audit": audit,
        }
        result = handlers[args.what]()
    print(json.dumps(result))


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
