"""A size limit at the door for attachment uploads, before FastAPI reads the form.

FastAPI parses a multipart body (spooling files to disk past 1 MB) before the endpoint runs, so
the endpoint alone could only refuse a huge file after taking all of it in. This ASGI layer sits
in front: a body whose Content-Length says it is over the limit is answered 413 without reading
a byte of it; a body without a length (chunked) is counted as it arrives and refused as soon as
it passes the limit. The limit is the file limit plus room for the form's other parts; the
endpoint then checks the file's own size exactly.
"""

from __future__ import annotations

import json
import re
from typing import Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.application.attachments import too_large

UPLOAD_PATH: Final = re.compile(r"^/api/v1/cases/[^/]+/attachments/?$")
FORM_OVERHEAD: Final = 64 * 1024
"""Room for the multipart boundaries, headers and the small text fields."""


class _TooLarge(Exception):
    pass


class UploadLimit:
    def __init__(self, app: ASGIApp, max_file_bytes: int) -> None:
        self.app = app
        self.max_file_bytes = max_file_bytes
        self.max_body = max_file_bytes + FORM_OVERHEAD

    async def _refuse(self, send: Send, size: int | None) -> None:
        refusal = too_large(size, self.max_file_bytes)
        body = json.dumps(
            {"error": refusal.code, "message": refusal.message}, ensure_ascii=False
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not UPLOAD_PATH.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await self._refuse(send, None)
            return
        seen = 0
        exceeded = False
        answered = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    exceeded = True
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            # FastAPI turns any failure while parsing a form into its own 400: once the limit
            # was passed, whatever the app answers is replaced by the 413.
            nonlocal answered
            if not exceeded:
                await send(message)
            elif not answered:
                answered = True
                await self._refuse(send, None)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not answered:
                answered = True
                await self._refuse(send, None)
