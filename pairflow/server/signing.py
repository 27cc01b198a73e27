"""Signed callback URLs for Request and HttpWebhook triggers: the `sig` query parameter.

A callback URL carries `sp` (the permission: `/triggers/{trigger}/run`), `sv` (the signing version,
"1.0") and `sig`. `sig` is the base64url HMAC-SHA256 (no padding), keyed with the workflow's access
key, of the canonical string

    "{sp}\\n{sv}\\n{workflow}\\n{trigger}"

so a signature is valid for exactly one trigger of one workflow, and regenerating the workflow's access
key makes every URL signed with the old key stop working. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SIGNING_VERSION = "1.0"
API_VERSION = "2022-05-01"
ACCESS_KEY_BYTES = 32


def new_access_key() -> str:
    return secrets.token_urlsafe(ACCESS_KEY_BYTES)


def permission(trigger: str) -> str:
    return f"/triggers/{trigger}/run"


def canonical_string(sp: str, sv: str, workflow: str, trigger: str) -> str:
    return f"{sp}\n{sv}\n{workflow}\n{trigger}"


def sign(key: str, workflow: str, trigger: str, sp: str | None = None, sv: str = SIGNING_VERSION) -> str:
    """The `sig` for the trigger's callback URL."""
    message = canonical_string(sp or permission(trigger), sv, workflow, trigger).encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def signature_matches(key: str, workflow: str, trigger: str, sp: str, sv: str, sig: str) -> bool:
    """Constant-time check of a presented signature; only the current permission and version pass."""
    if sp != permission(trigger) or sv != SIGNING_VERSION:
        return False
    return constant_time_equal(sign(key, workflow, trigger, sp, sv), sig)


def constant_time_equal(expected: str, presented: str) -> bool:
    return hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogateescape"))
