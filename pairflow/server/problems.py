"""Errors the HTTP layer answers with, in Logic Apps' shape: `{"error": {"code", "message", "details"?}}`.

An `ApiError` carries the HTTP status and the error code; handlers raise it and the app turns it into
a JSON response. Nothing else about HTTP lives here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pairflow.errors import PairflowError
from pairflow.jsontypes import JSONObject


class ApiError(PairflowError):
    """The request was refused."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.details = list(details)
        self.headers = dict(headers or {})
        super().__init__(message)

    def body(self) -> JSONObject:
        error: JSONObject = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = [
                {"pointer": pointer or "/", "message": text} for pointer, text in self.details
            ]
        return {"error": error}


def not_found(code: str, message: str) -> ApiError:
    return ApiError(404, code, message)


def bad_request(code: str, message: str, details: Sequence[tuple[str, str]] = ()) -> ApiError:
    return ApiError(400, code, message, details)
