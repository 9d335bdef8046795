"""Interactions created per second through the HTTP API, on SQLite and on PostgreSQL.

Starts the real server (`hearthline serve`) as a subprocess for each store, seeds an operator, an
admin, a tenant, a program and a queue through the API, then has C concurrent clients POST
/api/v1/interactions for a fixed time (load from wrk, a C load generator, when installed —
`make bench` installs it — so that the client does not limit the figure; else N requests from
httpx). The baseline, measured in the same run against the same
server with the same clients, is GET /healthz (a request that touches the store and nothing
else): the ratio says what routing + storing an interaction costs over a bare request.

    python bench/http_create.py [--seconds 8] [--concurrency 16] [--skip-postgres] [--json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import shutil
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402

PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(data_dir: Path, database_url: str) -> None:
    from hearthline.bootstrap import build
    from hearthline.config import load_settings
    from hearthline.domain.organization import Role, Scope
    from hearthline.services import admin

    settings = load_settings({"data_dir": data_dir, "database_url": database_url}, environ={})

    async def run() -> None:
        platform = build(settings).platform
        platform.store.start()
        platform.store.upgrade()
        try:
            operator = await admin.create_operator(platform, "Bench")
            await admin.create_user(platform, Scope(operator.id), username="bench-admin", password=PASSWORD,
                                    role=Role.ADMIN)
        finally:
            await platform.stop()
            platform.store.close()

    asyncio.run(run())


def start_server(data_dir: Path, database_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTHLINE_")}
    env["HEARTHLINE_LOG_LEVEL"] = "WARNING"
    if database_url:
        env["HEARTHLINE_DATABASE_URL"] = database_url
    log = open(data_dir / "server.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "hearthline.entrypoints.cli", "serve", "--port", str(port),
                             "--data-dir", str(data_dir)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start; see {data_dir / 'server.log'}")


def wrk(base: str, token: str, seconds: int, concurrency: int, method: str, path: str,
        body: dict | None) -> dict[str, float]:
    """Load from wrk (a C load generator): the server, not the client, is what is measured."""
    script = "\n".join([
        f'wrk.method = "{method}"',
        f"wrk.body = {json.dumps(json.dumps(body)) if body is not None else 'nil'}",
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["Authorization"] = "Bearer {token}"',
        "done = function(summary, latency, requests)",
        '  io.write(string.format("JSON {\\"requests\\": %d, \\"seconds\\": %f, \\"p50\\": %f, '
        '\\"p99\\": %f, \\"errors\\": %d}\\n", summary.requests, summary.duration / 1e6, '
        "latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, "
        "summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + "
        "summary.errors.timeout))",
        "end",
    ])
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "-s", f.name, base + path],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    r = json.loads(line[5:])
    return {"per_second": r["requests"] / r["seconds"], "p50_ms": r["p50"], "p99_ms": r["p99"],
            "errors": r["errors"], "requests": r["requests"]}


async def hammer(base: str, token: str, count: int, concurrency: int, method: str, path: str,
                 body: dict | None) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(count))
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for _ in counter:
            started = time.perf_counter()
            response = await client.request(method, path, json=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 300:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"per_second": count / elapsed, "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000, "errors": errors}


def run_store(name: str, database_url: str, count: int, concurrency: int, seconds: int,
              use_wrk: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"hl-bench-{name}-") as tmp:
        data_dir = Path(tmp)
        seed(data_dir, database_url)
        proc, base = start_server(data_dir, database_url)
        try:
            with httpx.Client(base_url=base, timeout=30) as http:
                token = http.post("/api/v1/auth/token", json={"username": "bench-admin", "password": PASSWORD}) \
                    .json()["access_token"]
                h = {"Authorization": f"Bearer {token}"}
                tenant = http.post("/api/v1/tenants", json={"name": "Bench client"}, headers=h).json()
                program = http.post("/api/v1/programs", json={"tenant_id": tenant["id"], "name": "Bench"},
                                    headers=h).json()
                queue = http.post("/api/v1/queues", json={"program_id": program["id"], "name": "Bench queue"},
                                  headers=h).json()
            body = {"program_id": program["id"], "channel": "voice", "queue_id": queue["id"],
                    "customer": {"name": "Bench caller"}, "attributes": {"language": "en"}}
            asyncio.run(hammer(base, token, 100, concurrency, "POST", "/api/v1/interactions", body))  # warm up
            if use_wrk:
                baseline = wrk(base, token, seconds, concurrency, "GET", "/healthz", None)
                create = wrk(base, token, seconds, concurrency, "POST", "/api/v1/interactions", body)
            else:
                baseline = asyncio.run(hammer(base, token, count, concurrency, "GET", "/healthz", None))
                create = asyncio.run(hammer(base, token, count, concurrency, "POST", "/api/v1/interactions", body))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return {"store": name, "create": create, "baseline_healthz": baseline,
            "ratio_create_to_baseline": create["per_second"] / baseline["per_second"]}


def postgres_database(url: str) -> tuple[str, callable]:
    """A fresh database for the run, dropped afterwards."""
    import psycopg

    admin_url = url.replace("postgresql+psycopg://", "postgresql://")
    name = f"hl_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk measurement")
    parser.add_argument("--python-client", action="store_true", help="load from httpx even if wrk is installed")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None and not ns.python_client
    results = [run_store("sqlite", "", ns.count, ns.concurrency, ns.seconds, use_wrk)]
    if not ns.skip_postgres:
        pg_url = os.environ.get("HEARTHLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        url, drop = postgres_database(pg_url)
        try:
            results.append(run_store("postgresql", url, ns.count, ns.concurrency, ns.seconds, use_wrk))
        finally:
            drop()
    if ns.json:
        print(json.dumps(results, indent=2))
        return
    how = f"wrk, {ns.seconds} s per measurement" if use_wrk else f"httpx, {ns.count} requests per measurement"
    print(f"HTTP API, one server process, {ns.concurrency} concurrent connections, load from {how}")
    print(f"{'store':<11} {'what':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        for label, m in (("POST /interactions", r["create"]), ("GET /healthz (base)", r["baseline_healthz"])):
            print(f"{r['store']:<11} {label:<22} {m['per_second']:>8.0f} {m['p50_ms']:>8.1f} {m['p99_ms']:>8.1f} "
                  f"{m['errors']:>7}")
        print(f"{r['store']:<11} create / baseline ratio: {r['ratio_create_to_baseline']:.2f}")


if __name__ == "__main__":
    main()
