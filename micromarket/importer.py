"""Any existing MCP server as specialists: import a standard ``mcpServers`` config, or an MCP Registry ``server.json``.

    {"mcpServers": {"name": {"command": "...", "args": [...], "env": {...}} | {"url": "http://.../mcp"}}}
    {"name": "io.github.owner/server", "packages": [{"registryType": "pypi", "identifier": "...", ...}], "remotes": [...]}

A ``server.json`` (the official MCP Registry's format, also a registry API ``{"servers": [{"server": {...}}]}``
answer) becomes ``mcpServers`` entries first (:func:`servers_from_registry`): a package is run by its runtime
(``runtimeHint``, else npx for npm, uvx for PyPI, docker for OCI, dnx for NuGet) at its pinned version; a remote is
its streamable-HTTP URL. The same confirmation and launch rules then apply.

Each server is started (or reached) through the MCP pool, its tools/list becomes a
card (:func:`capability_index.cards.card_from_tools`; a ``card://<name>`` resource
adds metadata when the server publishes one) and every tool is indexed as a
capability. A server that is down is reported, not fatal.

The launch is exactly the configured command and args, with an explicit
environment: the pool's short allowlist (PATH, HOME, LANG...) plus the configured
``env`` -- never the caller's API keys.

Tools that take one string (or solve-style ``task``) need no model; the arguments of
typed tools are filled by the run's chat model (``nodes/tool_arguments.py``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import re
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from micromarket.capability_index.cards import SpecialistCard, Transport, card_from_tools
from micromarket.errors import InputError, MicromarketError

log = logging.getLogger("micromarket.importer")

DEFAULT_TIMEOUT_S = 30.0


@dataclass
class ImportResult:
    name: str
    specialist_id: str
    status: str  # registered | updated | unchanged | down | invalid
    capabilities: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- config


def specialist_id_for(name: str) -> str:
    """A card id from a server name: lowercase, [a-z0-9_-], at most 64 characters."""
    s = re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-_")
    return (s or "server")[:64]


def transport_for(name: str, spec: Any) -> Transport:
    """The Transport of one ``mcpServers`` entry. Raises InputError naming the server and the field."""
    if not isinstance(spec, dict):
        raise InputError(f"mcpServers.{name}: expected an object with 'command' or 'url', got {type(spec).__name__}")
    if spec.get("disabled") is True:
        raise InputError(f"mcpServers.{name}: disabled")
    url = spec.get("url") or spec.get("serverUrl")
    kind = str(spec.get("type") or spec.get("transport") or "").lower()
    if url:
        if kind in ("sse",):
            raise InputError(f"mcpServers.{name}: SSE servers are not supported; use streamable HTTP (a URL ending in /mcp)")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InputError(f"mcpServers.{name}.url: must start with http:// or https://, got {url!r}")
        return Transport(kind="http", url=url)
    command = spec.get("command")
    if not isinstance(command, str) or not command.strip():
        raise InputError(f"mcpServers.{name}: needs 'command' (stdio) or 'url' (streamable HTTP)")
    args = spec.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
        raise InputError(f"mcpServers.{name}.args: must be a list of strings")
    env = spec.get("env") or {}
    if not isinstance(env, dict):
        raise InputError(f"mcpServers.{name}.env: must be an object of strings")
    cwd = spec.get("cwd")
    return Transport(kind="stdio", command=[command, *map(str, args)], env={str(k): str(v) for k, v in env.items()},
                     cwd=str(cwd) if cwd else None)


# ---------------------------------------------------------------- server.json (MCP Registry)

RUNTIMES = {"npm": "npx", "pypi": "uvx", "oci": "docker", "nuget": "dnx"}


def _is_registry(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("servers"), list):
        return True
    return isinstance(data.get("name"), str) and ("packages" in data or "remotes" in data)


def _fill_variables(value: Any, variables: Any, where: str) -> Any:
    """``{name}`` placeholders filled from the input's ``variables`` (their value or default); one left unfilled
    cannot be launched unattended."""
    if not isinstance(value, str) or "{" not in value:
        return value

    def fill(m: re.Match) -> str:
        v = (variables or {}).get(m.group(1)) if isinstance(variables, dict) else None
        got = v.get("value", v.get("default")) if isinstance(v, dict) else None
        if got is None:
            raise InputError(f"{where}: variable {{{m.group(1)}}} has no value or default; give it in an mcpServers config")
        return str(got)

    return re.sub(r"\{([A-Za-z_][\w-]*)\}", fill, value)


def _arg_values(args: Any, where: str) -> list[str]:
    """A server.json argument list (positional and named inputs) as argv words; a required input without a
    value or default cannot be launched unattended."""
    out: list[str] = []
    for i, a in enumerate(args or []):
        if not isinstance(a, dict):
            raise InputError(f"{where}[{i}]: expected an object, got {type(a).__name__}")
        value = _fill_variables(a.get("value", a.get("default")), a.get("variables"), f"{where}[{i}]")
        if a.get("type") == "named":
            name = a.get("name")
            if not isinstance(name, str) or not name:
                raise InputError(f"{where}[{i}]: a named argument needs 'name'")
            if value is None and not a.get("isRequired"):
                continue  # optional and unset: passing the bare name could swallow the next word as its value
            if value is None:
                raise InputError(f"{where}[{i}] ({name}): required and has no value or default; give it in an mcpServers config")
            out += [name, str(value)]
        elif a.get("type") == "positional":
            if value is None:
                if a.get("isRequired"):
                    raise InputError(f"{where}[{i}] ({a.get('valueHint', 'positional')}): required and has no value or default; "
                                     "give it in an mcpServers config")
                continue
            out.append(str(value))
        else:
            raise InputError(f"{where}[{i}].type: expected 'positional' or 'named', got {a.get('type')!r}")
    return out


# variables that would change what runs (the loader, the interpreter, the package index) instead of configuring it
_LAUNCH_ALTERING = re.compile(r"^(PATH|LD_\w*|DYLD_\w*|NODE_OPTIONS|NODE_PATH|PYTHON\w*|npm_config_\w*|NPM_CONFIG_\w*|UV_\w*|PIP_\w*|BASH_ENV|ENV)$")


def _env_values(env: Any, where: str) -> dict[str, str]:
    """Fixed values and defaults only: a secret the server needs is never taken from this process's environment.
    A variable that would change what the confirmed command runs (``_LAUNCH_ALTERING``) is refused."""
    out: dict[str, str] = {}
    for i, e in enumerate(env or []):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            raise InputError(f"{where}[{i}]: expected an object with 'name'")
        if _LAUNCH_ALTERING.match(e["name"]):
            raise InputError(f"{where}[{i}] ({e['name']}): a server.json may not set a variable that changes what is launched")
        value = e.get("value", e.get("default"))
        if value is None:
            if e.get("isRequired"):
                raise InputError(f"{where}[{i}] ({e['name']}): required and has no value; give it in an mcpServers config's env")
            continue
        out[e["name"]] = str(value)
    return out


def _package_entry(pkg: dict, where: str) -> dict[str, Any]:
    """An ``mcpServers`` entry that runs one server.json package at its pinned version."""
    kind = pkg.get("registryType")
    ident = pkg.get("identifier")
    if kind not in RUNTIMES:
        raise InputError(f"{where}.registryType: {kind!r} is not runnable here (npm, pypi, oci, nuget)")
    if not isinstance(ident, str) or not ident.strip():
        raise InputError(f"{where}.identifier: missing")
    transport = (pkg.get("transport") or {}).get("type")
    if transport != "stdio":
        raise InputError(f"{where}.transport: only stdio packages are launched (got {transport!r}); use the server's remote URL")
    version = pkg.get("version")
    if isinstance(version, str) and version and version != "latest":
        tagged = ":" in ident.rsplit("/", 1)[-1] or "@" in ident  # an image that names its tag or digest
        pinned = {"npm": f"{ident}@{version}", "pypi": f"{ident}=={version}", "nuget": f"{ident}@{version}",
                  "oci": ident if tagged else f"{ident}:{version}"}.get(kind, ident)
    else:
        pinned = ident
    runtime = pkg.get("runtimeHint") or RUNTIMES[kind]
    # the runtime's own words first, then the server's runtime arguments (a docker --mount follows `run -i --rm`)
    defaults = {"npx": ["-y"], "docker": ["run", "-i", "--rm"]}.get(runtime, [])
    runtime_args = _arg_values(pkg.get("runtimeArguments"), f"{where}.runtimeArguments")
    env = _env_values(pkg.get("environmentVariables"), f"{where}.environmentVariables")
    if runtime == "docker":  # a container sees only the variables passed to it by name
        defaults += [w for name in env for w in ("-e", name)]
    args = [*defaults, *runtime_args, pinned, *_arg_values(pkg.get("packageArguments"), f"{where}.packageArguments")]
    return {"command": runtime, "args": args, "env": env}


def servers_from_registry(data: dict, where: str = "<server.json>") -> dict[str, Any]:
    """The ``mcpServers`` entries of a server.json (or a registry API list of them): one per server, its first
    stdio package (or, without one, its first streamable-HTTP remote). Raises InputError naming the field."""
    docs = data["servers"] if isinstance(data.get("servers"), list) else [data]
    servers: dict[str, Any] = {}
    for n, doc in enumerate(docs):
        doc = doc.get("server", doc) if isinstance(doc, dict) else doc  # registry API: {"server": {...}, "_meta": {...}}
        at = where if len(docs) == 1 else f"{where}: servers[{n}]"
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or "/" not in doc["name"]:
            raise InputError(f"{at}.name: expected a registry name such as 'io.github.owner/server'")
        short = doc["name"].rsplit("/", 1)[1] or doc["name"]
        packages = doc.get("packages") or []
        remotes = doc.get("remotes") or []
        if not isinstance(packages, list) or not isinstance(remotes, list):
            raise InputError(f"{at}: 'packages' and 'remotes' must be lists")
        stdio = [(i, p) for i, p in enumerate(packages) if isinstance(p, dict) and (p.get("transport") or {}).get("type") == "stdio"]
        http = [r for r in remotes if isinstance(r, dict) and r.get("type") == "streamable-http"]
        if stdio:
            i, pkg = stdio[0]
            entry = _package_entry(pkg, f"{at}.packages[{i}]")
        elif http:
            entry = {"url": http[0].get("url")}
        else:
            raise InputError(f"{at}: no stdio package and no streamable-http remote to connect to")
        if short in servers:
            short = specialist_id_for(doc["name"])
        servers[short] = entry
    return servers


def load_config(source: str | Path | dict) -> dict[str, Any]:
    """The ``mcpServers`` mapping of a config file or a server.json (or of an already parsed dict)."""
    if isinstance(source, dict):
        data = source
        where = "<config>"
    else:
        p = Path(source).expanduser()
        if not p.is_file():
            raise InputError(f"config file not found: {p}")
        where = str(p)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"{where}: not valid JSON: {e}") from None
    if _is_registry(data):
        return servers_from_registry(data, where)
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise InputError(f'{where}: expected {{"mcpServers": {{name: {{command, args, env}} | {{url}}}}}} or an MCP Registry '
                         'server.json {"name": ..., "packages": [...]}')
    if not servers:
        raise InputError(f"{where}: mcpServers is empty")
    return servers


# ---------------------------------------------------------------- import


async def probe_server(pool, name: str, transport: Transport, *, specialist_id: str | None = None,
                       timeout: float = DEFAULT_TIMEOUT_S) -> SpecialistCard:
    """Connect, list the tools and derive the card. Raises on any failure."""
    sid = specialist_id or specialist_id_for(name)

    async def go() -> SpecialistCard:
        tools, init = await pool.list_tools(transport, key=sid)
        if not tools:
            raise MicromarketError(f"server {name!r} offers no tools")
        card_res = None
        if init.resources:
            for uri in (f"card://{name}", f"card://{sid}"):
                text = await pool.read_resource(transport, uri, key=sid)
                if text:
                    card_res = _parse_card_resource(text)
                    if card_res:
                        break
        return card_from_tools(
            specialist_id=sid,
            server_name=name,
            server_description=init.instructions or init.title,
            tools=tools,
            transport=transport,
            card_resource=card_res,
            version=str(init.version or "0.0.0"),
        )

    return await asyncio.wait_for(go(), timeout)


def _parse_card_resource(text: str) -> dict | None:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    data.pop("id", None)
    data.pop("transport", None)  # the configured launch is authoritative
    return data


@dataclass
class PlannedServer:
    """One server of a config, before anything is launched: what would run, and whether it replaces a specialist."""

    name: str
    specialist_id: str
    transport: Transport | None
    launches: str  # the exact command line, or the URL reached
    replaces: bool = False
    error: str | None = None


def plan_import(market, source: str | Path | dict, *, only: list[str] | None = None) -> list[PlannedServer]:
    """What importing ``source`` would launch or reach, server by server. Launches nothing."""
    from micromarket.specialists.launch import launch_command  # deferred: the mcp SDK

    plans: list[PlannedServer] = []
    seen: dict[str, str] = {}
    for name, spec in load_config(source).items():
        if only and name not in only:
            continue
        name, sid = str(name), specialist_id_for(str(name))
        if sid in seen:
            raise InputError(f"servers {seen[sid]!r} and {name!r} map to the same specialist id {sid!r}; rename one")
        seen[sid] = name
        try:
            t = transport_for(name, spec)
        except (InputError, ValueError) as e:
            plans.append(PlannedServer(name, sid, None, "", error=str(e)))
            continue
        try:
            launches = t.url if t.kind == "http" else shlex.join(launch_command(t))
        except InputError:  # a missing program or a '..': shown as configured; the probe reports it down, with the reason
            launches = shlex.join(t.command or [])
        if t.kind == "stdio" and t.env:  # shown with the command: names only (values may be secrets)
            launches += "  [env: " + ", ".join(sorted(t.env)) + "]"
        plans.append(PlannedServer(name, sid, t, launches, replaces=market.services.store.has(sid)))
    return plans


async def aimport_servers(market, source: str | Path | dict, *, timeout: float = DEFAULT_TIMEOUT_S,
                          only: list[str] | None = None, replace: bool = False) -> list[ImportResult]:
    """Import every server of an ``mcpServers`` config into ``market``; servers are probed concurrently.

    A server whose id is already registered is neither launched nor changed unless ``replace``.
    """
    pool = market.services.pool
    results: list[ImportResult] = []
    todo: list[tuple[str, str, Transport]] = []
    for p in await asyncio.to_thread(plan_import, market, source, only=only):
        if p.error or p.transport is None:
            results.append(ImportResult(p.name, p.specialist_id, "invalid", error=p.error))
        elif p.replaces and not replace:
            results.append(ImportResult(p.name, p.specialist_id, "exists", error=(
                f"specialist {p.specialist_id!r} is already registered; not launched, not changed (pass --replace to update it)")))
        else:
            todo.append((p.name, p.specialist_id, p.transport))

    async def one(name: str, sid: str, t: Transport) -> ImportResult:
        try:
            card = await probe_server(pool, name, t, specialist_id=sid, timeout=timeout)
        except asyncio.TimeoutError:
            return ImportResult(name, sid, "down", error=f"no answer within {timeout:g} s")
        except Exception as e:  # noqa: BLE001 - a down server is reported, not fatal
            return ImportResult(name, sid, "down", error=_short(e))
        try:
            status = await asyncio.to_thread(_register, market, card)
        except MicromarketError as e:
            return ImportResult(name, sid, "invalid", error=str(e))
        return ImportResult(name, sid, status, capabilities=[c.name for c in card.capabilities])

    results += await asyncio.gather(*(one(*x) for x in todo))
    return results


def _register(market, card: SpecialistCard) -> str:
    store = market.services.store
    if store.has(card.id):
        old = store.get(card.id)
        if old.fingerprint() == card.fingerprint() and old.version == card.version and old.description == card.description:
            return "unchanged"
        market.register(card, replace=True)
        return "updated"
    market.register(card)
    return "registered"


def import_servers(market, source: str | Path | dict, **kw) -> list[ImportResult]:
    """aimport_servers from sync code, in a worker thread's loop (so also inside a running loop, e.g. Jupyter)."""
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, aimport_servers(market, source, **kw)).result()


def _short(e: BaseException) -> str:
    s = str(e) or type(e).__name__
    return s.splitlines()[0][:300] if s else type(e).__name__
