"""Reading a request body without ever holding more than the configured limit.

The Content-Length header is checked first (refused before a byte is read), then a counter over the
streamed chunks catches chunked or lying requests.
"""

from __future__ import annotations

import base64
import json

from starlette.requests import Request

from pairflow.jsontypes import JSON
from pairflow.server.problems import ApiError


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "RequestEntityTooLarge",
        f"The request content length exceeds the limit of {limit} bytes.",
    )


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_large(limit)
        except ValueError:
            raise ApiError(
                400, "InvalidRequestContent", "The Content-Length header is not a number."
            ) from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == "text/json"


def _is_text_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/")
        or media in ("application/xml", "application/x-www-form-urlencoded")
        or (media.endswith("+xml"))
    )


def decode_body(raw: bytes, content_type: str) -> JSON:
    """The body as a workflow sees it: JSON parsed, text as a string, other bytes as Logic Apps'
    `{"$content-type", "$content"}` object. Raises 400 InvalidRequestContent for malformed JSON."""
    if not raw:
        return None
    if is_json_type(content_type) or not content_type:
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            if not content_type:  # untyped bodies that are not JSON are passed on as text/bytes
                return _opaque(raw, "application/octet-stream")
            raise ApiError(
                400,
                "InvalidRequestContent",
                f"The request content is not valid and could not be deserialized: {error}",
            ) from None
        except RecursionError:
            raise ApiError(
                400, "InvalidRequestContent", "The request content is nested too deeply."
            ) from None
    if _is_text_type(content_type):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return _opaque(raw, content_type)


def _opaque(raw: bytes, content_type: str) -> JSON:
    return {"$content-type": content_type, "$content": base64.b64encode(raw).decode("ascii")}
