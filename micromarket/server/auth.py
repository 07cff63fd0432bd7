"""Who may use the HTTP front door: a bearer token kept in the home, the bind policy, Host/Origin checks.

- ``<home>/token`` (0600, created atomically) holds a random token; every HTTP request must carry
  ``Authorization: Bearer <token>`` (401 otherwise). The CLI's daemon client reads it from the same home.
- ``--no-auth`` only on a loopback bind; a bind beyond loopback only with a token and ``--allow-remote``.
- Host and Origin are checked on every bind by the mcp SDK's ``TransportSecuritySettings`` (DNS rebinding).

The SDK's own auth (``mcp.server.auth``) is an OAuth resource server (issuer URL, token verifier, metadata
routes); a static local token is simpler as the small ASGI middleware below.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import secrets
from pathlib import Path

from micromarket.errors import InputError
from micromarket.home import TOKEN_FILE, TokenFileError, read_token  # noqa: F401 - TokenFileError re-exported

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


def token_path(home: str | Path) -> Path:
    return Path(home) / TOKEN_FILE


def load_or_create_token(home: str | Path) -> str:
    """The front door's token from ``<home>/token``, created (0600, O_EXCL) if absent; refuses a file others can read."""
    path = token_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token(path)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32) + "\n")
    return read_token(path)


def is_loopback(host: str) -> bool:
    h = host.strip("[]")
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, auth: bool, allow_remote: bool) -> None:
    """Refuse ``--no-auth`` beyond loopback, and any bind beyond loopback without ``--allow-remote``."""
    if is_loopback(host):
        return
    if not auth:
        raise InputError(f"--no-auth is allowed on a loopback address only (127.0.0.1, ::1, localhost), not on {host!r}")
    if not allow_remote:
        raise InputError(f"refusing to listen on {host!r}, beyond this machine: pass --allow-remote to serve other hosts "
                         "(clients then need the token in <home>/token and a Host name given with --allow-host)")


def transport_security(host: str, port: int, extra_hosts: list[str] | tuple[str, ...] = ()):
    """The SDK's DNS-rebinding protection for this bind: the bound address and localhost forms at ``port``, plus ``extra_hosts``."""
    from mcp.server.transport_security import TransportSecuritySettings

    names = list(LOCAL_NAMES)
    if host not in ("0.0.0.0", "::", ""):
        names.append(f"[{host}]" if ":" in host and not host.startswith("[") else host)
    hosts = [f"{n}:{port}" for n in dict.fromkeys(names)]
    for h in extra_hosts:
        h = h.strip()
        if not h:
            continue
        has_port = "]:" in h if h.startswith("[") else ":" in h
        hosts += [h] if has_port else [f"{h}:{port}", h]
    hosts = list(dict.fromkeys(hosts))
    origins = [o for h in hosts for o in (f"http://{h}", f"https://{h}")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def caller_id(authorization: str | None) -> str:
    """A stable, non-secret name for the caller behind a bearer token (for per-caller budgets)."""
    if not authorization:
        return "anonymous"
    return "token:" + hashlib.sha256(authorization.encode("utf-8")).hexdigest()[:12]


class BearerTokenMiddleware:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>`` (constant-time compare), else 401."""

    def __init__(self, app, token: str):
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        got = b""
        for k, v in scope.get("headers") or ():
            if k.lower() == b"authorization":
                got = v
                break
        if not hmac.compare_digest(got, self._expected):
            body = json.dumps({"error": "invalid_token",
                               "error_description": "a bearer token is required: Authorization: Bearer <the token in <home>/token>"}).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                    (b"www-authenticate", b'Bearer error="invalid_token"')]})
            await send({"type": "http.response.body", "body": body})
            return
        return await self.app(scope, receive, send)
