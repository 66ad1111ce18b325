"""Data lives in a SQLite file: it survives restarts and never holds a secret in plaintext."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from nodion_pulumi.emulator import DEFAULT_PROJECT_ID, NAMESPACE, Emulator
from nodion_pulumi.emulator._store import secret_matches
from nodion_pulumi.emulator._token import KeptToken, keep_token

Create = Callable[..., dict[str, Any]]
ClientFactory = Callable[[Emulator], httpx.Client]


def _listed(api: httpx.Client) -> list[dict[str, Any]]:
    registries: list[dict[str, Any]] = api.get("/container_registries").json()[
        "container_registries"
    ]
    return registries


def test_data_and_credentials_survive_a_restart(
    tmp_path: Path, client_for: ClientFactory, create_registry: Create
) -> None:
    db = tmp_path / "emulator.db"
    with Emulator(token="test-token", data_path=db) as em:
        api = client_for(em)
        created = create_registry(api, name="kept", password="p")
        fra = em.nodion_registry_id("fra")
        assert api.post(f"/container_registries/{fra}/credentials").status_code == 201
        before = _listed(api)

    with Emulator(token="test-token", data_path=db) as em:
        api = client_for(em)
        after = _listed(api)
        assert after == before
        assert (
            api.get(f"/container_registries/{created['id']}").json()["container_registry"]
            == created
        )
        again = api.post(f"/container_registries/{fra}/credentials")
        assert again.status_code == 400
        assert again.json() == {"errors": ["Credentials already exist"]}


def test_seeded_ids_are_deterministic(tmp_path: Path) -> None:
    with Emulator(data_path=tmp_path / "a.db") as em:
        first = em.admin.registries()
    with Emulator(data_path=tmp_path / "b.db") as em:
        second = em.admin.registries()
    assert [r["id"] for r in first] == [r["id"] for r in second]
    assert [r["region_id"] for r in first] == [r["region_id"] for r in second]
    fra = first[0]
    assert fra["id"] == str(uuid.uuid5(NAMESPACE, f"registry:{DEFAULT_PROJECT_ID}:fra"))
    assert fra["region_id"] == str(uuid.uuid5(NAMESPACE, "region:fra"))


def test_seeding_is_idempotent_and_adds_new_regions(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    with Emulator(data_path=db) as em:
        original = em.admin.registries()
    with Emulator(data_path=db) as em:
        assert em.admin.registries() == original
    with Emulator(data_path=db, regions=["fra", "nbg", "ams", "hel", "waw"]) as em:
        grown = em.admin.registries()
    assert grown[:4] == original
    assert len(grown) == 5
    assert grown[4]["hostname"] == "registry.waw.nodion.net"
    assert grown[4]["name"] == "Nodion Registry (Warsaw, PL)"


def test_projects_sharing_a_file_stay_apart(
    tmp_path: Path, client_for: ClientFactory, create_registry: Create
) -> None:
    db = tmp_path / "emulator.db"
    other_project = "11111111-2222-4333-8444-555555555555"
    with Emulator(data_path=db) as em:
        create_registry(client_for(em), name="first-project-only")
        default_ids = {r["id"] for r in em.admin.registries()}
    with Emulator(data_path=db, project_id=other_project) as em:
        registries = em.admin.registries()
        creds = client_for(em).post(
            f"/container_registries/{em.nodion_registry_id('fra')}/credentials"
        )
    assert len(registries) == 4
    assert not default_ids & {r["id"] for r in registries}
    assert creds.json()["container_registry"]["username"] == "robot$project-11111111"


def test_the_file_never_holds_a_secret_in_plaintext(
    tmp_path: Path, client_for: ClientFactory, create_registry: Create
) -> None:
    db = tmp_path / "emulator.db"
    with Emulator(data_path=db) as em:
        api = client_for(em)
        create_registry(api, username="octocat", password="hunter2-SECRET")
        minted = api.post(f"/container_registries/{em.nodion_registry_id('hel')}/credentials")
        password = minted.json()["container_registry"]["password"]
        # Read while running too, when recent writes may still sit in the WAL file.
        live = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    closed = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for blob in (live, closed):
        assert b"hunter2-SECRET" not in blob
        assert password.encode() not in blob
    assert b"octocat" in closed  # sanity: the scan does see what is stored


def test_file_uses_wal_and_passes_integrity_check(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "dir" / "emulator.db"
    with Emulator(data_path=db):
        pass
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_in_memory_emulators_share_nothing(
    client_for: ClientFactory, create_registry: Create
) -> None:
    with Emulator() as em:
        create_registry(client_for(em))
        assert len(em.admin.registries()) == 5
    with Emulator() as em:
        assert len(em.admin.registries()) == 4


def test_restart_on_the_same_object_and_port(
    tmp_path: Path, client_for: ClientFactory, create_registry: Create
) -> None:
    em = Emulator(data_path=tmp_path / "emulator.db").start()
    port = em.port
    create_registry(client_for(em), name="x")
    em.stop()
    assert not em.running
    em2 = Emulator(data_path=tmp_path / "emulator.db", port=port).start()
    try:
        assert em2.port == port
        assert [r["name"] for r in em2.admin.registries()][-1] == "x"
    finally:
        em2.stop()


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def test_a_new_data_directory_and_its_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "nodion-pulumi" / "emulator.db"
    with Emulator(data_path=db) as em:
        em.admin.drop_credentials(em.nodion_registry_id("fra"))  # a write: the WAL exists now
        files = sorted(db.parent.iterdir())
        assert [p.name for p in files] == ["emulator.db", "emulator.db-shm", "emulator.db-wal"]
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert _mode(db.parent) == 0o700
    assert _mode(db) == 0o600


def test_an_existing_data_file_and_its_directory_are_tightened(tmp_path: Path) -> None:
    """An older version created the directory 0755 and the files 0644; the file holds the
    emulator's token and the digests of passwords users typed."""
    home = tmp_path / "nodion-pulumi"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    db = home / "emulator.db"
    with Emulator(data_path=db):
        pass
    for leftover in (db, home / "emulator.db-wal", home / "emulator.db-shm"):
        leftover.touch()
        leftover.chmod(0o644)
    home.chmod(0o755)
    with Emulator(data_path=db):
        assert _mode(home) == 0o700
        assert {p.name: _mode(p) for p in home.iterdir()} == {p.name: 0o600 for p in home.iterdir()}
    assert _mode(db) == 0o600


def test_a_shared_directory_is_left_as_it_is(tmp_path: Path) -> None:
    """`--data ./emulator.db` in a project: the project directory is not the emulator's to
    lock, and the data file is private on its own."""
    (tmp_path / "Pulumi.yaml").write_text("name: p\n")
    tmp_path.chmod(0o755)
    db = tmp_path / "emulator.db"
    with Emulator(data_path=db):
        assert _mode(db) == 0o600
    assert _mode(tmp_path) == 0o755


def test_a_sticky_scratch_directory_is_left_as_it_is(tmp_path: Path) -> None:
    """`--data /tmp/emulator.db` in a fresh container, where /tmp holds nothing else: /tmp is
    everyone's, and 0700 would lock every other user out of it."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    scratch.chmod(0o1777)
    db = scratch / "emulator.db"
    with Emulator(data_path=db):
        assert _mode(db) == 0o600
    assert os.stat(scratch).st_mode & 0o7777 == 0o1777


def test_stored_passwords_use_scrypt_with_their_salt_and_parameters(
    tmp_path: Path, client_for: ClientFactory, create_registry: Create
) -> None:
    db = tmp_path / "emulator.db"
    with Emulator(data_path=db) as em:
        api = client_for(em)
        first = create_registry(api, name="a", password="same-password")
        second = create_registry(api, name="b", password="same-password")
    conn = sqlite3.connect(db)
    try:
        digests = dict(conn.execute("SELECT id, secret_digest FROM registries").fetchall())
    finally:
        conn.close()
    a, b = digests[first["id"]], digests[second["id"]]
    assert a != b  # a salt of its own each
    for digest in (a, b):
        scheme, n, r, p, salt, key = digest.split("$")
        assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
        assert len(bytes.fromhex(salt)) == 16
        assert len(bytes.fromhex(key)) == 32
    assert secret_matches(a, "same-password")
    assert not secret_matches(a, "same-passwore")


def test_digests_an_older_version_stored_still_match(
    tmp_path: Path, client_for: ClientFactory, create_registry: Create
) -> None:
    """Older files hold one salted SHA-256 per password: reading them must keep working, and
    the next password sent is stored the slow way."""
    salt = "00" * 16
    legacy = "sha256$" + salt + "$" + hashlib.sha256(f"{salt}:old-password".encode()).hexdigest()
    assert secret_matches(legacy, "old-password")
    assert not secret_matches(legacy, "other-password")
    db = tmp_path / "emulator.db"
    with Emulator(data_path=db) as em:
        api = client_for(em)
        created = create_registry(api, name="legacy", password="placeholder")
    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute(
                "UPDATE registries SET secret_digest = ? WHERE id = ?", (legacy, created["id"])
            )
    finally:
        conn.close()
    with Emulator(data_path=db) as em:
        api = client_for(em)
        url = f"/container_registries/{created['id']}"
        same = api.patch(url, json={"password": "old-password"}).json()["container_registry"]
        assert same["updated_at"] == created["updated_at"]  # recognised: nothing changed
        api.patch(url, json={"password": "new-password"})
        (row,) = [r for r in em.export_state()["registries"] if r["id"] == created["id"]]
        assert row["secret_digest"].startswith("scrypt$")
        assert secret_matches(row["secret_digest"], "new-password")


def test_the_token_is_kept_per_data_file(tmp_path: Path) -> None:
    db = tmp_path / "token.db"
    generated = keep_token(db, DEFAULT_PROJECT_ID)
    assert generated.origin == "generated"
    assert len(generated.value) >= 24
    assert keep_token(db, DEFAULT_PROJECT_ID) == KeptToken(generated.value, "kept")
    assert keep_token(db, DEFAULT_PROJECT_ID, "mine") == KeptToken("mine", "given")
    assert keep_token(db, DEFAULT_PROJECT_ID) == KeptToken("mine", "kept")
    # Per file, not per project: the emulator requires one token whatever the project.
    assert keep_token(db, "11111111-2222-4333-8444-555555555555").value == "mine"
    assert keep_token(tmp_path / "other.db", DEFAULT_PROJECT_ID).value != "mine"
    # Registries and the token live side by side in the one file.
    with Emulator(token="mine", data_path=db) as em:
        assert len(em.admin.registries()) == 4
    assert keep_token(db, DEFAULT_PROJECT_ID).value == "mine"
