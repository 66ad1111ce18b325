"""Concurrent clients: every acknowledged write lands once and the file stays intact."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from nodion_pulumi.emulator import Emulator

ClientFactory = Callable[[Emulator], httpx.Client]

THREADS = 8
PER_THREAD = 25


def test_parallel_creates_all_land_exactly_once(tmp_path: Path, client_for: ClientFactory) -> None:
    db = tmp_path / "emulator.db"
    lock = threading.Lock()
    with Emulator(token="test-token", data_path=db) as em:
        clients = [client_for(em) for _ in range(THREADS)]

        def worker(n: int) -> list[tuple[int, str]]:
            results = []
            for i in range(PER_THREAD):
                response = clients[n].post(
                    "/container_registries",
                    json={"name": f"t{n}-{i}", "registry_type": "ghcr", "password": "p"},
                )
                with lock:
                    results.append(
                        (response.status_code, response.json()["container_registry"]["id"])
                    )
            return results

        with ThreadPoolExecutor(THREADS) as pool:
            outcomes = [r for batch in pool.map(worker, range(THREADS)) for r in batch]
        listed = em.admin.registries()

    assert {status for status, _ in outcomes} == {200}
    ids = [registry_id for _, registry_id in outcomes]
    assert len(set(ids)) == THREADS * PER_THREAD
    externals = [r for r in listed if r["registry_type"] == "ghcr"]
    assert len(externals) == THREADS * PER_THREAD
    assert {r["id"] for r in externals} == set(ids)
    assert sorted(r["name"] for r in externals) == sorted(
        f"t{n}-{i}" for n in range(THREADS) for i in range(PER_THREAD)
    )
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM registries").fetchone()[0] == 4 + 200
    finally:
        conn.close()


def test_racing_credential_requests_mint_exactly_once(
    emulator: Emulator, client_for: ClientFactory
) -> None:
    fra = emulator.nodion_registry_id("fra")
    clients = [client_for(emulator) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def mint(client: httpx.Client) -> int:
        barrier.wait()
        return client.post(f"/container_registries/{fra}/credentials").status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(mint, clients))
    assert sorted(statuses) == [201] + [400] * (THREADS - 1)


def test_keep_alive_connections_serve_many_requests(
    emulator: Emulator, client_for: ClientFactory
) -> None:
    local_addresses: set[object] = set()
    client = client_for(emulator)
    for _ in range(20):
        response = client.get("/container_registries")
        assert response.status_code == 200
        stream = response.extensions["network_stream"]
        local_addresses.add(stream.get_extra_info("client_addr"))
    # One pooled connection (one local port) carried every request.
    assert len(local_addresses) == 1
    (address,) = local_addresses
    assert isinstance(address, tuple)
    assert address[1] > 0
