"""A stored PDF sent to the browser or a calling system, wherever the archive keeps it.

The use cases hand a signed PDF inside a context manager
(``officer.open_pdf`` / ``officer.signed_file``): on S3 the file is a
temporary download that lives only as long as the block. The response is
sent after the handler returns, so the block is kept open until then and
closed by a Starlette background task once the last byte is out — or, should
the sending fail (the browser closed the tab), when the response gives up.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack

from starlette.background import BackgroundTask
from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

from scanner.app.officer import SignedFile, StoredPdf


class _HeldFileResponse(FileResponse):
    """A FileResponse that closes what holds its file even when sending breaks off (the background would not run)."""

    held: ExitStack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.held.close()  # a no-op after the background task closed it


def pdf_response(
    opened: AbstractContextManager[StoredPdf | SignedFile], *, inline: bool, headers: dict[str, str] | None = None
) -> FileResponse:
    """Stream the PDF OPENED yields; the block (and so any temporary copy) ends after the response is sent."""
    held = ExitStack()
    pdf = held.enter_context(opened)
    try:
        response = _HeldFileResponse(
            pdf.path,
            media_type="application/pdf",
            filename=pdf.name,
            content_disposition_type="inline" if inline else "attachment",
            headers=headers,
            background=BackgroundTask(held.close),
        )
    except BaseException:
        held.close()
        raise
    response.held = held
    return response
