"""Streaming a request body (raw, or the `file` part of a multipart form) to a file on disk.

Memory stays bounded by one buffer of FLUSH_BYTES whatever the size of the upload.
"""

import os

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from .errors import bad_request, too_large

FLUSH_BYTES = 1024 * 1024
# Past the limit we read and discard up to this much more, so that ordinary clients (which send the
# whole body before reading the answer) see the 413 instead of a reset connection.
DRAIN_BYTES = 64 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024
MAX_FORM_FIELD_BYTES = 64 * 1024


class _TooLarge(Exception):
    pass


class _Sink:
    def __init__(self, path: str, limit: int):
        self.file = open(path, "xb", buffering=0)
        self.limit = limit
        self.size = 0
        self.buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise _TooLarge
        self.buffer += data

    async def flush(self, force: bool = False) -> None:
        if self.buffer and (force or len(self.buffer) >= FLUSH_BYTES):
            data = bytes(self.buffer)
            self.buffer.clear()
            await run_in_threadpool(self.file.write, data)

    def close(self) -> None:
        self.file.close()


class _MultipartFile:
    """Feeds the part named `file` (or the first part with a filename) to the sink; keeps small fields."""

    def __init__(self, sink: _Sink, boundary: bytes):
        self.sink = sink
        self.fields: dict[str, list[str]] = {}
        self.filename = None
        self.content_type = None
        self.found_file = False
        self._field_bytes = 0
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._target = None  # "file", a field name, or None to skip
        self._value = bytearray()
        self.parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._append("_header_name", d[s:e]),
            "on_header_value": lambda d, s, e: self._append("_header_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        })

    def _append(self, attr: str, data: bytes) -> None:
        setattr(self, attr, getattr(self, attr) + data)

    def _part_begin(self) -> None:
        self._headers, self._target, self._value = {}, None, bytearray()

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if not self.found_file and (name == "file" or filename is not None):
            self.found_file = True
            self.filename = filename.decode("utf-8", "replace") if filename else None
            self.content_type = self._headers.get(b"content-type", b"").decode("latin-1") or None
            self._target = "file"
        elif filename is None:
            self._target = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._target == "file":
            self.sink.feed(data[start:end])
        elif self._target is not None:
            self._field_bytes += end - start
            if self._field_bytes > MAX_FORM_FIELD_BYTES:
                raise bad_request("The form's text fields are too long.")
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._target not in (None, "file"):
            self.fields.setdefault(self._target, []).append(self._value.decode("utf-8", "replace"))


class _Body:
    """The request body read straight from the ASGI channel, so that we know whether it has ended and
    can discard the rest after refusing it."""

    def __init__(self, request: Request):
        self.receive = request.receive
        self.done = False

    async def chunks(self):
        while not self.done:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            self.done = not message.get("more_body", False)
            yield message.get("body", b"")

    async def drain(self, allowance: int) -> None:
        try:
            async for chunk in self.chunks():
                allowance -= len(chunk)
                if allowance < 0:
                    return
        except ClientDisconnect:
            pass


def _limit_message(limit: int) -> str:
    return (f"The upload is larger than this agent accepts ({limit} bytes, set by --max-upload-bytes); "
            "split it or ask the operator to raise the limit.")


async def receive_body(request: Request, dest_path: str, limit: int) -> dict:
    """Write the uploaded bytes to dest_path (which must not exist); returns
    {"size", "filename", "content_type", "fields"}. Raises 413 past `limit` and removes the file."""
    content_type = request.headers.get("content-type", "")
    is_multipart = content_type.lower().startswith("multipart/form-data")
    body = _Body(request)
    declared = request.headers.get("content-length")
    allowed_body = limit + (MULTIPART_OVERHEAD if is_multipart else 0)
    if declared and declared.isdigit() and int(declared) > allowed_body:
        if "expect" not in request.headers and int(declared) <= allowed_body + DRAIN_BYTES:
            await body.drain(DRAIN_BYTES + allowed_body)
        raise too_large(_limit_message(limit))

    sink = _Sink(dest_path, limit)
    form = None
    try:
        if is_multipart:
            _, params = parse_options_header(content_type)
            boundary = params.get(b"boundary")
            if not boundary:
                raise bad_request("The multipart form has no boundary in its Content-Type header.")
            form = _MultipartFile(sink, boundary)
        async for chunk in body.chunks():
            if form is not None:
                form.parser.write(chunk)
            else:
                sink.feed(chunk)
            await sink.flush()
        await sink.flush(force=True)
        if form is not None:
            form.parser.finalize()
            if not form.found_file:
                raise bad_request("The multipart form has no file; send it as `-F file=@archive.zip`.")
    except _TooLarge:
        sink.close()
        os.unlink(dest_path)
        await body.drain(DRAIN_BYTES)
        raise too_large(_limit_message(limit)) from None
    except FormParserError as exc:
        sink.close()
        os.unlink(dest_path)
        raise bad_request(f"The multipart form is malformed ({exc}).") from None
    except ClientDisconnect:
        sink.close()
        os.unlink(dest_path)
        raise bad_request("The client closed the connection before the upload was complete.") from None
    except BaseException:
        sink.close()
        os.unlink(dest_path)
        raise
    sink.close()
    return {
        "size": sink.size,
        "filename": form.filename if form else None,
        "content_type": form.content_type if form else content_type,
        "fields": form.fields if form else {},
    }
