"""Helpers for the PostgreSQL tests (no tests here): a fresh database per test, dropped afterwards.

The server is ``MICROMARKET_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
used only to CREATE and DROP ``mm_test_<random>`` databases). When it is unreachable the tests
skip with the reason, unless ``MICROMARKET_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

ADMIN_URL = os.environ.get("MICROMARKET_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _with_db(url: str, dbname: str) -> str:
    p = urlsplit(url)
    return urlunsplit(p._replace(path="/" + dbname))


def admin_connection():
    """An autocommit connection to the admin database, or skip (fail when MICROMARKET_REQUIRE_POSTGRES=1)."""
    try:
        import psycopg
    except ImportError as e:  # pragma: no cover
        pytest.skip(f"psycopg is not installed (pip install 'micromarket[postgres]'): {e}")
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        msg = f"PostgreSQL is not reachable at {ADMIN_URL} (set MICROMARKET_TEST_POSTGRES_URL): {str(e).strip()}"
        if os.environ.get("MICROMARKET_REQUIRE_POSTGRES", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """CREATE DATABASE mm_test_<random>; yield its URL; DROP it (closing any connection left open)."""
    admin = admin_connection()
    name = f"mm_test_{secrets.token_hex(6)}"
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield _with_db(ADMIN_URL, name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


def database_exists(name: str) -> bool:
    admin = admin_connection()
    try:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
    finally:
        admin.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url
