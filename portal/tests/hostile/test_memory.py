"""Parsing hostile files takes bounded memory and time: measured in-process with tracemalloc for each
file of the corpus, and in a separate process capped at 1 GB of address space whose peak resident size
must stay under 256 MB while it checks every bomb and reads the workbooks with the importer's reader."""

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.core.errors import InvalidInput
from portal.documents.evidence import check_evidence_file
from portal.tests.hostile.corpus import CORPUS, Hostile

PEAK_PYTHON_BYTES = 32 * 1024 * 1024
PEAK_RSS_KIB = 256 * 1024
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("entry", CORPUS, ids=[entry.id for entry in CORPUS])
def test_checking_a_hostile_file_allocates_little_and_returns_quickly(entry: Hostile) -> None:
    upload = SimpleUploadedFile(entry.name, entry.content())
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InvalidInput):
            check_evidence_file(upload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_PYTHON_BYTES, f"{entry.id}: {peak / 1e6:.1f} MB"
    assert time.perf_counter() - started < 10


CHILD = r"""
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1024 * 1024 * 1024, 1024 * 1024 * 1024))
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from portal.core.errors import InvalidInput
from portal.core.workbooks import open_sheet_rows
from portal.documents.evidence import check_evidence_file
from portal.tests.hostile import corpus

def peak_rss_kib():
    # VmHWM belongs to this program's memory; ru_maxrss would carry the parent's over fork and exec.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


baseline = peak_rss_kib()
refused = 0
for entry in corpus.CORPUS:
    content = entry.content()
    try:
        check_evidence_file(SimpleUploadedFile(entry.name, content))
    except InvalidInput:
        refused += 1
    del content
# The importer's reader, given what the evidence check would refuse (as if that check were skipped).
import io
for build in (corpus.billion_laughs, corpus.quadratic_blowup, corpus.external_entity, corpus.honest_xlsx):
    try:
        _, rows = open_sheet_rows(
            io.BytesIO(build()), sheet="RTTM", required=(), optional=("Requirement", "Test case"), max_rows=10
        )
        list(rows)
    except InvalidInput:
        refused += 1
print(refused, len(corpus.CORPUS), baseline, peak_rss_kib())
"""


def test_a_worker_checking_every_bomb_stays_under_256_mb() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    refused, total, baseline, peak = (int(value) for value in result.stdout.split()[-4:])
    assert refused == total + 3, result.stdout
    assert peak < PEAK_RSS_KIB, f"peak RSS {peak / 1024:.0f} MB (after start-up {baseline / 1024:.0f} MB)"
