"""SQLite persistence for registries.

One connection guarded by a lock, WAL journal and `synchronous=FULL`: every request runs in one
transaction and a reply is only sent after its commit, so whatever a client saw acknowledged
survives a crash or SIGKILL of the emulator.

Secrets (external registry passwords, minted Nodion credentials) are kept only as salted
digests: the API never returns them again, so the emulator has no reason to hold them.
Passwords people chose get a slow one (scrypt); credentials the emulator minted are random
enough for SHA-256. The one plaintext value is the emulator's own API token (in `settings`),
which it must print again at every start; so the file is created 0600 (and tightened to it),
and its directory 0700.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from nodion_pulumi._facts import NODION_REGISTRY_TYPE

_SCHEMA = """
CREATE TABLE IF NOT EXISTS registries (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL,
    registry_type TEXT NOT NULL,
    name TEXT NOT NULL,
    hostname TEXT NOT NULL,
    region_slug TEXT,
    region_id TEXT,
    username TEXT,
    secret_digest TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS registries_project ON registries (project_id, pk);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_COLUMNS = (
    "pk, id, registry_type, name, hostname, region_slug, region_id, username, secret_digest, "
    "created_at, updated_at"
)


@dataclass(frozen=True)
class Row:
    pk: int
    id: str
    registry_type: str
    name: str
    hostname: str
    region_slug: str | None
    region_id: str | None
    username: str | None
    secret_digest: str | None
    created_at: str
    updated_at: str

    @property
    def is_nodion(self) -> bool:
        return self.registry_type == NODION_REGISTRY_TYPE

    @property
    def has_credentials(self) -> bool:
        return self.secret_digest is not None


_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
"""scrypt's interactive-login cost (16 MiB and tens of ms per hash): stored beside each digest,
so that raising it later leaves earlier digests readable."""
_SCRYPT_MAXMEM = 64 * 1024 * 1024
"""Refuse to check a digest whose stored parameters ask for more (a hand-edited state)."""


def digest_password(password: str) -> str:
    """A slow, salted digest of a password someone typed (an external registry's).

    Users point the emulator at real Docker Hub or GitHub tokens: whoever copies the data
    file should not be able to try a dictionary against them at SHA-256 speed.
    """
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${key.hex()}"


def digest_secret(secret: str) -> str:
    """A fast salted digest, for credentials the emulator minted itself.

    They are 32 random bytes, so no dictionary reaches them and a slow hash would buy
    nothing; the served registries check them on every login, where scrypt would cost.
    """
    salt = secrets.token_hex(16)
    digest = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def secret_matches(stored: str | None, secret: str | None) -> bool:
    """Whether `secret` is what `stored` digests: both kinds above, and the one-SHA-256
    digests older versions stored for every password (those files keep working)."""
    if stored is None or secret is None:
        return stored is None and secret is None
    scheme, _, rest = stored.partition("$")
    if scheme == "sha256":
        salt, _, digest = rest.partition("$")
        candidate = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
        return hmac.compare_digest(candidate, digest)
    if scheme == "scrypt":
        try:
            n, r, p, salt, key = rest.split("$")
            expected = bytes.fromhex(key)
            found = _scrypt(secret, bytes.fromhex(salt), int(n), int(r), int(p), len(expected))
        except ValueError:  # malformed, or parameters beyond the memory cap
            return False
        return hmac.compare_digest(found, expected)
    return False


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=length
    )


class Tx:
    """Queries scoped to one project inside one open transaction."""

    def __init__(self, conn: sqlite3.Connection, project_id: str) -> None:
        self._conn = conn
        self._project_id = project_id

    def rows(self) -> list[Row]:
        cur = self._conn.execute(
            f"SELECT {_COLUMNS} FROM registries WHERE project_id = ? ORDER BY pk",  # noqa: S608
            (self._project_id,),
        )
        return [Row(*r) for r in cur.fetchall()]

    def get(self, registry_id: str) -> Row | None:
        cur = self._conn.execute(
            f"SELECT {_COLUMNS} FROM registries WHERE project_id = ? AND id = ?",  # noqa: S608
            (self._project_id, registry_id),
        )
        found = cur.fetchone()
        return Row(*found) if found else None

    def insert(
        self,
        *,
        registry_id: str,
        registry_type: str,
        name: str,
        hostname: str,
        timestamp: str,
        region_slug: str | None = None,
        region_id: str | None = None,
        username: str | None = None,
        secret_digest: str | None = None,
    ) -> Row:
        self._conn.execute(
            "INSERT INTO registries (id, project_id, registry_type, name, hostname, region_slug,"
            " region_id, username, secret_digest, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                registry_id,
                self._project_id,
                registry_type,
                name,
                hostname,
                region_slug,
                region_id,
                username,
                secret_digest,
                timestamp,
                timestamp,
            ),
        )
        row = self.get(registry_id)
        assert row is not None
        return row

    def save(self, row: Row) -> Row:
        """Write back the mutable fields of `row` (fetched earlier in this transaction)."""
        self._conn.execute(
            "UPDATE registries SET name = ?, hostname = ?, username = ?, secret_digest = ?,"
            " updated_at = ? WHERE project_id = ? AND id = ?",
            (
                row.name,
                row.hostname,
                row.username,
                row.secret_digest,
                row.updated_at,
                self._project_id,
                row.id,
            ),
        )
        return row

    def delete(self, registry_id: str) -> None:
        self._conn.execute(
            "DELETE FROM registries WHERE project_id = ? AND id = ?",
            (self._project_id, registry_id),
        )

    def setting(self, key: str) -> str | None:
        """A value of the whole data file (not of one project), such as the API token."""
        found = self._conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(found[0]) if found else None

    def set_setting(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def _private_file(path: str) -> None:
    """Create `path` readable by its owner only (its directory 0700 when created here) before
    SQLite opens it: SQLite gives its -wal and -shm files the database file's mode. A file an
    older version left readable to others is tightened, and so are its leftover -wal/-shm files.

    An existing directory is tightened too when it is the emulator's own, holding nothing but
    this data file (the default `~/.local/share/nodion-pulumi/`). One that holds anything else
    (`--data ./emulator.db` in a project) is the user's to keep as it is; the file is private
    on its own there. Nor is a sticky directory (`/tmp`, even an empty one in a fresh
    container): it is shared by convention, and 0700 would lock every other user out.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    own = [path, f"{path}-wal", f"{path}-shm", f"{path}-journal"]
    for name in own:
        try:
            mode = os.stat(name).st_mode
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(name, 0o600)
    if set(os.listdir(directory)) <= {os.path.basename(name) for name in own}:
        with contextlib.suppress(OSError):  # not ours to change (another owner): leave it
            mode = os.stat(directory).st_mode
            if mode & 0o077 and not mode & stat.S_ISVTX:
                os.chmod(directory, 0o700)


class Store:
    def __init__(self, path: str | os.PathLike[str] | None, project_id: str) -> None:
        target = ":memory:" if path is None else os.fspath(path)
        if path is not None:
            _private_file(target)
        self._lock = threading.Lock()
        self._project_id = project_id
        # isolation_level=None: transactions are begun explicitly, never implicitly.
        self._conn = sqlite3.connect(
            target, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        self._closed = False

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._lock:
            self._check_open()
            self._conn.execute("BEGIN")
            try:
                yield Tx(self._conn, self._project_id)
            finally:
                self._conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """One IMMEDIATE transaction: committed when the block ends, rolled back on error."""
        with self._lock:
            self._check_open()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn, self._project_id)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the emulator store is closed")
