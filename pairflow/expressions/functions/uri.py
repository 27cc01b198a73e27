"""URI parsing functions: uriHost, uriPath, uriPathAndQuery, uriPort, uriQuery, uriScheme.

Only absolute URIs are accepted, as .NET's `Uri` does; a missing port is the scheme's default.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from pairflow.errors import ExpressionEvaluationError
from pairflow.expressions.functions import args
from pairflow.expressions.registry import function
from pairflow.jsontypes import JSON

DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443, "sftp": 22, "ldap": 389}


def _split(value: JSON, name: str) -> SplitResult:
    text = args.text(value, name, 0).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (validates the port)
    except ValueError as error:
        raise ExpressionEvaluationError(
            f"The template language function '{name}' got an invalid URI: {error}"
        ) from None
    if not parts.scheme or not parts.netloc:
        raise ExpressionEvaluationError(
            f"The template language function '{name}' expects an absolute URI but got '{text[:200]}'"
        )
    return parts


@function("uriHost", 1)
def uri_host(value: JSON) -> JSON:
    return _split(value, "uriHost").hostname or ""


@function("uriPath", 1)
def uri_path(value: JSON) -> JSON:
    return _split(value, "uriPath").path or "/"


@function("uriPathAndQuery", 1)
def uri_path_and_query(value: JSON) -> JSON:
    parts = _split(value, "uriPathAndQuery")
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@function("uriPort", 1)
def uri_port(value: JSON) -> JSON:
    parts = _split(value, "uriPort")
    if parts.port is not None:
        return parts.port
    port = DEFAULT_PORTS.get(parts.scheme.lower())
    return -1 if port is None else port


@function("uriQuery", 1)
def uri_query(value: JSON) -> JSON:
    parts = _split(value, "uriQuery")
    return f"?{parts.query}" if parts.query else ""


@function("uriScheme", 1)
def uri_scheme(value: JSON) -> JSON:
    return _split(value, "uriScheme").scheme.lower()
