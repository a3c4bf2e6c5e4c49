"""The Board's documents as PDF files: rendering with WeasyPrint, and serving the stored files.

Every PDF here (summary papers, meeting packs, qualification letters) is rendered from one HTML
document made by a template that carries its own styles. WeasyPrint fetches nothing: no protocol is
allowed, so a URL that someone's text might smuggle into a document (an image, a stylesheet) is
refused rather than fetched. The rendering happens in the background jobs, never in a request.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

from portal.core.pages import safe_download_name

PDF_CONTENT_TYPE = "application/pdf"


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    page_count: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int:
        return len(self.content)


def render_pdf(html: str) -> RenderedPdf:
    """One WeasyPrint render of one HTML document: the PDF and its number of pages."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=())).render()
    return RenderedPdf(content=bytes(document.write_pdf()), page_count=len(document.pages))


def download_name(name: str) -> str:
    """A harmless `.pdf` file name for Content-Disposition and e-mail attachments."""
    safe = safe_download_name(name, default="document")
    return safe if safe.lower().endswith(".pdf") else f"{safe}.pdf"


def pdf_download(stored: FieldFile, name: str) -> FileResponse:
    """A stored PDF as an attachment (never shown inline), under a safe name, with `nosniff`. A file
    missing from the storage answers 404."""
    try:
        handle: Any = stored.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file is no longer in storage.") from exc
    response = FileResponse(handle, as_attachment=True, filename=download_name(name), content_type=PDF_CONTENT_TYPE)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
