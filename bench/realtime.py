"""The live feed under load: 1,000 agents and 100 supervisors on WebSockets, 500 events/s; and
web chat messages per second end to end.

Starts the real server (`hearthline serve`, SQLite in a temporary data directory) as a
subprocess. The seeding step (through the services, before the server starts) makes an operator,
a tenant, a program with a default workflow to a queue needing skill "bench", N agents with that
skill, a user of role agent linked to each, S supervisor users, and an API token for every user
(issued by services/auth.py, so no 1,100 logins; every user shares one argon2 hash computed once,
since hashing 1,100 passwords would take minutes and is not what is measured).

Events are agents changing their own presence through the public API: PUT
/api/v1/agents/{id}/state with the agent's token, alternating "paused" (reason break) and
"available" — each one produces one AgentStateChanged event, sent to that agent's socket and
marking every supervisor's feed as changed. The sender is open loop: event i is due at
t0 + i/rate; it is sent by the agent who has been idle longest (one request per agent at a time,
so her events cannot be reordered), over at most --concurrency keep-alive connections of a
minimal HTTP/1.1 client (httpx cost more client CPU than the server spent). Events still unsent
when the time is up — the server fell behind and every connection was busy — are not sent; the
achieved rate and the count not sent are reported.

Phases, in this order, on the same server:
  1. baseline: the event load with no socket connected — the server CPU of the events alone;
  2. idle: all N + S sockets connected, no events (supervisors still get their 5-s snapshot);
  3. loaded: all sockets connected and the same event load;
  4. chat: the supervisors leave (unless --chat-with-supervisors), --chat-sessions customers
     start a web chat each and are accepted by agents; they write back to back for --seconds
     (see `chat_throughput`). The server runs with the chat limits per customer and per client
     address raised (CHAT_LIMITS_ENV): every simulated customer comes from 127.0.0.1, and the
     limits are anti-abuse settings, not what is measured.
Server CPU of phase 3 over phase 1 is printed in all and per event (if the server does not keep
the rate, only the per-event ratio means anything).

What is measured (all times are wall clock of the one machine, so server and client agree):
* server CPU: utime + stime of the server process (all its threads) from /proc/<pid>/stat over
  the load window, in seconds, as % of one core and per event; RSS from /proc/<pid>/status.
* agent delivery latency: receive time on the agent's socket − the event's `at` (the router
  stamps `at` when it applies the batch, before the store write, so this includes the commit,
  the bus fan-out and the socket send); and receive time − the time the HTTP request was sent.
  Each delivered event is matched to its request (per agent, in order, by the state it sets);
  requests whose event never arrived are reported as missing, `dropped` messages as dropped.
* HTTP latency of the PUT itself (send → response).
* supervisors: snapshots received per supervisor per second during the load, and their size.
  A snapshot carries no event id, so freshness is measured as: for each event E (agent a set to
  state s at time `at`) and each of the first --parse-supervisors supervisors, the first snapshot
  received after `at` in which agent a shows state s, looked for until a's event after next (the
  one that sets s again), so a match can only be E itself. Latency = its receive time − `at`
  (also from the request's send time); events no snapshot showed in that window are counted as
  not seen. Only that sample is parsed, to keep the client's CPU down; all are counted. This is
  meaningful when each agent's events are further apart than the snapshot interval (agents/rate
  of 2 s by default); with fewer agents most events are superseded first (a note says so).
* chat: messages/s accepted by POST /api/v1/chat/messages, latency from the request to the
  MessageAdded event on the agent's socket and to the echo on the customer's own chat socket.
* client CPU (this process) per phase, to tell whether the client, not the server, was the limit:
  client and server share the machine.

Sockets are opened as a browser would, offering permessage-deflate (uvicorn accepts it);
--no-deflate turns it off.

    python bench/realtime.py [--agents 1000] [--supervisors 100] [--rate 500] [--seconds 10]
                             [--chat-sessions 100] [--json]
"""
from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

PASSWORD = "bench-password-1"
SKILL = "bench"
PAUSE_REASON = "break"
IDLE_SECONDS = 5.0
SNAPSHOT_MIN_SECONDS = 1.0  # the server's snapshot interval while events happen (entrypoints/web/ws.py)
GRACE_SECONDS = 2.5  # after the load, for the last deliveries and snapshots to arrive
CONNECT_PARALLEL = 100


# ---- process helpers --------------------------------------------------------------------------
def raise_nofile() -> None:
    """Soft file-descriptor limit up to the hard one: 1,100 sockets need more than the usual 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    if soft == resource.RLIM_INFINITY or soft >= target:
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after "(comm)": fields 3.. of proc(5)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, kb = line.split()[:2]
                values[key[:-1]] = int(kb) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


# ---- seeding ----------------------------------------------------------------------------------
@dataclass
class Seeded:
    program_id: str
    agent_ids: list[str]
    agent_tokens: list[str]
    supervisor_tokens: list[str]
    seconds: float


def seed(data_dir: Path, n_agents: int, n_supervisors: int) -> Seeded:
    from hearthline.bootstrap import build
    from hearthline.config import load_settings
    from hearthline.domain.agents import Agent
    from hearthline.domain.organization import Role, Scope, SkillDefinition
    from hearthline.domain.queues import Queue
    from hearthline.domain.workflows import Target, Workflow
    from hearthline.services import admin
    from hearthline.services.auth import hash_password

    settings = load_settings({"data_dir": data_dir}, environ={})
    started = time.perf_counter()
    # One argon2 hash for every user (each takes ~0.1 s on purpose; 1,100 of them would take minutes).
    shared_hash = hash_password(PASSWORD)
    original_hash = admin.hash_password
    admin.hash_password = lambda _password: shared_hash

    async def run() -> Seeded:
        components = build(settings)
        platform = components.platform
        platform.store.start()
        platform.store.upgrade()
        try:
            operator = await admin.create_operator(platform, "Bench")
            scope = Scope(operator.id)
            await admin.put_skill(platform, scope, SkillDefinition(SKILL, "benchmark skill"))
            tenant = await admin.create_tenant(platform, scope, "Bench client")
            program = await admin.create_program(platform, scope, tenant.id, "Bench program")
            queue = await admin.create_queue(platform, scope, Queue("", "", "", program.id, "Bench queue",
                                                                    skills={SKILL: 1}))
            # web chats are routed by the program's default workflow
            workflow = await admin.create_workflow(platform, scope, Workflow(
                "", "", "", program.id, "Bench intake", default_target=Target(queue.id)))
            await admin.update_program(platform, scope, program.id, default_workflow_id=workflow.id)
            agents: list[Agent] = []
            for start in range(0, n_agents, 100):  # in chunks, so the router commits many at once
                agents += await asyncio.gather(*(
                    admin.create_agent(platform, scope, Agent("", "", f"Agent {i:05d}", skills={SKILL: 3}))
                    for i in range(start, min(n_agents, start + 100))))

            def issue(user: Any) -> str:
                # services/auth.py's token issue (what POST /api/v1/auth/token does after the password check)
                return components.auth._issue(user, "api", "bench")

            agent_tokens, supervisor_tokens = [], []
            for i, agent in enumerate(agents):
                user = await admin.create_user(platform, scope, username=f"bench-agent-{i:05d}", password=PASSWORD,
                                               role=Role.AGENT, agent_id=agent.id)
                agent_tokens.append(await platform.run(issue, user))
            for i in range(n_supervisors):
                user = await admin.create_user(platform, scope, username=f"bench-supervisor-{i:04d}",
                                               password=PASSWORD, role=Role.SUPERVISOR)
                supervisor_tokens.append(await platform.run(issue, user))
            return Seeded(program.id, [a.id for a in agents], agent_tokens, supervisor_tokens, 0.0)
        finally:
            await platform.stop()
            platform.store.close()

    try:
        seeded = asyncio.run(run())
    finally:
        admin.hash_password = original_hash
    seeded.seconds = time.perf_counter() - started
    return seeded


# ---- the server -------------------------------------------------------------------------------
def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTHLINE_")}
    env["HEARTHLINE_LOG_LEVEL"] = "WARNING"
    env.update(CHAT_LIMITS_ENV)
    log = open(data_dir / "server.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "hearthline.entrypoints.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--data-dir", str(data_dir)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=raise_nofile)
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1, trust_env=False).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError("the server did not answer /healthz within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# ---- statistics -------------------------------------------------------------------------------
def summary(values: list[float]) -> dict[str, float | int | None]:
    """n, p50, p99 and max of latencies given in seconds, reported in ms."""
    if not values:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    v = sorted(values)

    def pct(q: float) -> float:
        return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))] * 1000

    return {"n": len(v), "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": v[-1] * 1000}


def iso_ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


# ---- the event load ---------------------------------------------------------------------------
@dataclass
class Send:
    agent: int
    state: str  # the state the request sets
    sent: float  # wall time
    answered: float = 0.0
    status: int = 0


class _Closed(ConnectionError):
    """The server had closed the connection before this request."""


class HttpPool:
    """A minimal HTTP/1.1 keep-alive client for the event sender: httpx costs about 4 ms of client
    CPU per request, so at 500 requests/s on this 2-core machine the client, not the server, was
    the limit (measured: ~220/s with the client at 96% of a core). This writes the request bytes and
    reads the status line, headers and a Content-Length body; nothing more is needed here."""

    def __init__(self, base: str, size: int) -> None:
        host_port = base.split("://", 1)[1]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.size = size
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
        for _ in range(size):
            self.idle.put_nowait(None)  # opened on first use

    async def request(self, method: str, path: str, token: str | None, body: bytes = b"",
                      timeout: float = 30) -> tuple[int, bytes]:
        """(status, body) of one request; status -1 if the connection failed or timed out."""
        conn = await self.idle.get()
        try:
            if conn is not None:
                try:
                    status, data, keep = await asyncio.wait_for(
                        self._exchange(conn, method, path, token, body), timeout)
                except _Closed:  # the server closed the idle keep-alive connection: nothing was done
                    conn[1].close()
                    conn = None
            if conn is None:
                conn = await asyncio.open_connection(self.host, self.port)
                status, data, keep = await asyncio.wait_for(self._exchange(conn, method, path, token, body), timeout)
            if not keep:
                conn[1].close()
                conn = None
            return status, data
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError):
            if conn is not None:
                conn[1].close()
            conn = None
            return -1, b""
        finally:
            self.idle.put_nowait(conn)

    async def _exchange(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], method: str, path: str,
                        token: str | None, body: bytes) -> tuple[int, bytes, bool]:
        reader, writer = conn
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{auth}"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        line = await reader.readline()
        if not line:
            raise _Closed()
        status = int(line.split(b" ", 2)[1])
        length, keep = 0, True
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                keep = False
            elif name == b"transfer-encoding":
                raise ValueError("chunked responses are not supported by this client")
        data = await reader.readexactly(length) if length else b""
        return status, data, keep

    def close(self) -> None:
        while not self.idle.empty():
            conn = self.idle.get_nowait()
            if conn is not None:
                conn[1].close()


@dataclass
class Load:
    """The agents' presence, known to the client; every request flips one agent."""

    base: str
    agent_ids: list[str]
    tokens: list[str]
    concurrency: int
    state: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = ["offline"] * len(self.agent_ids)

    async def _put(self, client: HttpPool, agent: int, target: str, sends: list[Send]) -> None:
        body = {"state": "paused", "reason": PAUSE_REASON} if target == "paused" else {"state": target}
        send = Send(agent, target, time.time())
        sends.append(send)
        send.status, _ = await client.request("PUT", f"/api/v1/agents/{self.agent_ids[agent]}/state",
                                              self.tokens[agent], json.dumps(body).encode())
        send.answered = time.time()
        if 200 <= send.status < 300:
            self.state[agent] = target

    @contextlib.asynccontextmanager
    async def _client(self) -> Any:
        pool = HttpPool(self.base, self.concurrency)
        try:
            yield pool
        finally:
            pool.close()

    async def all_available(self) -> None:
        """Log every agent in (and warm the server up): the load then toggles paused/available."""
        sends: list[Send] = []
        async with self._client() as client:
            sem = asyncio.Semaphore(self.concurrency)

            async def one(i: int) -> None:
                async with sem:
                    await self._put(client, i, "available", sends)

            await asyncio.gather(*(one(i) for i in range(len(self.agent_ids))))
        bad = [s for s in sends if not 200 <= s.status < 300]
        if bad:
            raise RuntimeError(f"{len(bad)} agents could not log in (first status {bad[0].status})")

    async def paced(self, rate: float, seconds: float) -> dict[str, Any]:
        """Open-loop load: event i due at t0 + i/rate, sent by the agent idle longest, for `seconds`.
        Events not yet sent when the time is up (the server fell behind and every connection was
        busy) are not sent at all: they are reported as `not_sent`."""
        sends: list[Send] = []
        free: deque[int] = deque(range(len(self.agent_ids)))
        agent_freed = asyncio.Event()
        slots = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task] = set()
        late = 0  # events sent more than 10 ms after they were due

        async def fire(client: HttpPool, agent: int) -> None:
            try:
                await self._put(client, agent, "available" if self.state[agent] == "paused" else "paused", sends)
            finally:
                free.append(agent)
                agent_freed.set()
                slots.release()

        async def next_slot_and_agent(end: float) -> int:
            await asyncio.wait_for(slots.acquire(), max(0.0, end - time.time()))
            try:
                while not free:
                    agent_freed.clear()
                    await asyncio.wait_for(agent_freed.wait(), max(0.0, end - time.time()))
            except TimeoutError:
                slots.release()
                raise
            return free.popleft()

        async with self._client() as client:
            t0 = time.time()
            end = t0 + seconds
            due_total = int(rate * seconds - 1e-9) + 1
            i = 0
            while i < due_total:
                due = t0 + i / rate
                now = time.time()
                if due > now:
                    await asyncio.sleep(due - now)
                elif now - due > 0.010:
                    late += 1
                    if now >= end:
                        break
                try:
                    agent = await next_slot_and_agent(end)
                except TimeoutError:
                    break
                task = asyncio.create_task(fire(client, agent))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                i += 1
            sent_until = time.time()
            if tasks:
                await asyncio.gather(*tasks)
            finished = time.time()
        ok = [s for s in sends if 200 <= s.status < 300]
        return {"target_rate": rate, "seconds": seconds, "due": due_total, "sent": len(sends),
                "not_sent": due_total - len(sends), "ok": len(ok), "errors": len(sends) - len(ok), "late": late,
                "achieved_rate": len(ok) / (finished - t0), "t0": t0, "sent_until": sent_until,
                "finished": finished, "http": summary([s.answered - s.sent for s in ok]), "sends": sends}


# ---- the sockets ------------------------------------------------------------------------------
@dataclass
class Feed:
    """One client socket and what it received: (wall time, raw message)."""

    ws: ClientConnection
    keep: bool  # keep the raw messages (agents: all; supervisors: the parsed sample)
    messages: list[tuple[float, bytes]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    sizes: int = 0
    closed: str | None = None
    task: asyncio.Task | None = None

    async def read(self) -> None:
        try:
            while True:
                raw = await self.ws.recv(decode=False)
                now = time.time()
                self.times.append(now)
                self.sizes += len(raw)
                if self.keep:
                    self.messages.append((now, raw))
        except ConnectionClosed as err:
            self.closed = f"{err.rcvd.code if err.rcvd else 'no close frame'}"


async def open_feeds(ws_base: str, tokens: list[str], keep: list[bool], deflate: bool,
                     path: str = "/api/v1/ws") -> list[Feed | None]:
    """One socket per token, in token order (None where the connection failed)."""
    sem = asyncio.Semaphore(CONNECT_PARALLEL)

    async def one(token: str, keep_it: bool) -> Feed | None:
        async with sem:
            try:
                ws = await connect(f"{ws_base}{path}?token={token}", compression="deflate" if deflate else None,
                                   max_size=64 * 2**20, max_queue=None, open_timeout=30, proxy=None,
                                   user_agent_header="hearthline-bench")
            except Exception:  # noqa: BLE001 - a failed connection is counted, not fatal
                return None
        feed = Feed(ws, keep_it)
        feed.task = asyncio.create_task(feed.read())
        return feed

    return list(await asyncio.gather(*(one(t, k) for t, k in zip(tokens, keep))))


async def close_feeds(feeds: list[Feed]) -> None:
    async def one(feed: Feed) -> None:
        try:
            await asyncio.wait_for(feed.ws.close(), 5)
        except Exception:  # noqa: BLE001 - closing at the end; the server is stopped next anyway
            pass
        if feed.task is not None:
            feed.task.cancel()

    for start in range(0, len(feeds), 200):
        await asyncio.gather(*(one(f) for f in feeds[start:start + 200]))


# ---- analysis ---------------------------------------------------------------------------------
def agent_deliveries(agent_feeds: dict[int, Feed], sends: list[Send], t_from: float,
                     t_until: float) -> dict[str, Any]:
    """Match every AgentStateChanged received on an agent's socket to the request that caused it."""
    by_agent: dict[int, list[Send]] = defaultdict(list)
    for s in sends:
        if 200 <= s.status < 300:
            by_agent[s.agent].append(s)
    from_at, from_send, dropped, missing, unmatched = [], [], 0, 0, 0
    events: dict[int, list[tuple[float, str, float]]] = {}  # agent → [(at, state, sent)]
    for agent, feed in agent_feeds.items():
        pending = by_agent.get(agent, [])
        j = 0
        mine: list[tuple[float, str, float]] = []
        for received, raw in feed.messages:
            if not t_from <= received <= t_until:
                continue
            message = json.loads(raw)
            if message["type"] == "dropped":
                dropped += message["count"]
                continue
            if message["type"] != "event" or message["event"]["name"] != "AgentStateChanged":
                continue
            event = message["event"]
            state, at = event["data"]["state"], iso_ts(event["at"])
            while j < len(pending) and pending[j].state != state:
                j += 1
                missing += 1
            if j == len(pending):
                unmatched += 1
                continue
            sent = pending[j].sent
            j += 1
            from_at.append(received - at)
            from_send.append(received - sent)
            mine.append((at, state, sent))
        missing += len(pending) - j
        events[agent] = mine
    return {"from_event": summary(from_at), "from_request": summary(from_send), "dropped": dropped,
            "missing": missing, "unmatched": unmatched, "events": events}


def supervisor_freshness(sample: list[Feed], events: dict[int, list[tuple[float, str, float]]],
                         agent_ids: list[str], t_from: float, t_until: float) -> dict[str, Any]:
    """For each (event, sampled supervisor): the first snapshot that shows the event's state."""
    from_at, from_send, not_seen = [], [], 0
    for feed in sample:
        times: list[float] = []
        states: list[dict[str, str]] = []
        for received, raw in feed.messages:
            if not t_from <= received <= t_until:
                continue
            message = json.loads(raw)
            if message.get("type") != "snapshot":
                continue
            times.append(received)
            states.append({a["agent_id"]: a["state"] for a in message["agents"]})
        for agent, evs in events.items():
            agent_id = agent_ids[agent]
            for k, (at, state, sent) in enumerate(evs):
                window_end = evs[k + 2][0] if k + 2 < len(evs) else t_until
                n = bisect.bisect_left(times, at)
                while n < len(times) and times[n] < window_end:
                    if states[n].get(agent_id) == state:
                        from_at.append(times[n] - at)
                        from_send.append(times[n] - sent)
                        break
                    n += 1
                else:
                    not_seen += 1
    return {"from_event": summary(from_at), "from_request": summary(from_send), "not_seen": not_seen,
            "supervisors_parsed": len(sample)}


# ---- chat -------------------------------------------------------------------------------------
CHAT_API = ("/api/v1/chat/sessions", "/api/v1/chat/messages", "/api/v1/chat/ws")
CHAT_LIMITS_ENV = {  # the server's per-customer and per-address limits, out of the way (see main's docstring)
    "HEARTHLINE_CHAT_MESSAGES_PER_10_SECONDS": "1000000",
    "HEARTHLINE_CHAT_SESSIONS_PER_MINUTE": "1000000",
}


async def chat_throughput(base: str, pid: int, program_id: str, load: Load, agent_feeds: dict[int, Feed],
                          sessions: int, seconds: float, deflate: bool) -> dict[str, Any] | None:
    """End-to-end chat messages per second through the server, or None if this build has no
    customer chat API (POST /api/v1/chat/sessions, POST /api/v1/chat/messages, /api/v1/chat/ws).

    `sessions` customers start a web chat each (POST /api/v1/chat/sessions, no login), open the
    widget's socket (/api/v1/chat/ws) and are routed by the program's default workflow to agents
    who are available; each agent's client sees the InteractionOffered event on her live-feed
    socket and accepts (POST /api/v1/agents/{id}/offers/{offer}/accept), as the desk does. Then
    every customer posts messages back to back (one in flight each, a unique client_ref each) for
    `seconds`: messages/s is what the server accepted; latency is from the request sent to the
    MessageAdded event on the agent's socket (and to the echo on the customer's own socket)."""
    pool = HttpPool(base, max(8, min(sessions, 128)))
    try:
        status, data = await pool.request("GET", "/openapi.json", None)
        paths = json.loads(data).get("paths", {}) if status == 200 else {}
        if not all(path in paths or path.endswith("/ws") for path in CHAT_API):
            return None
        free = [i for i in agent_feeds if load.state[i] == "available"]
        count = min(sessions, len(free))
        if count == 0:
            return {"error": "no available agent to take a chat"}

        # customers start their chats
        t_start = time.time()
        sem = asyncio.Semaphore(32)

        async def start(n: int) -> tuple[str, str] | None:
            body = {"program_id": program_id, "name": f"Customer {n}", "email": f"customer{n}@example.com",
                    "question": "Hello, I have a question about my bill."}
            async with sem:
                status, data = await pool.request("POST", "/api/v1/chat/sessions", None, json.dumps(body).encode())
            if status != 201:
                return None
            view = json.loads(data)
            return view["token"], view["interaction_id"]

        started = [x for x in await asyncio.gather(*(start(n) for n in range(count))) if x is not None]
        if not started:
            return {"error": "no chat could be started (POST /api/v1/chat/sessions failed)"}
        ws_base = base.replace("http://", "ws://")
        customer_slots = await open_feeds(ws_base, [tok for tok, _ in started], [True] * len(started), deflate,
                                          path="/api/v1/chat/ws")

        # agents accept the offers they see on their sockets
        wanted = {iid for _, iid in started}
        offers: dict[str, tuple[int, str]] = {}  # interaction → (agent, offer id)
        seen = {i: 0 for i in agent_feeds}
        deadline = time.time() + 20
        while len(offers) < len(wanted) and time.time() < deadline:
            await asyncio.sleep(0.1)
            for i, feed in agent_feeds.items():
                for received, raw in feed.messages[seen[i]:]:
                    if received >= t_start and b"InteractionOffered" in raw:
                        message = json.loads(raw)
                        event = message.get("event") or {}
                        if message["type"] == "event" and event.get("interaction_id") in wanted:
                            offers[event["interaction_id"]] = (i, event["data"]["offer_id"])
                seen[i] = len(feed.messages)

        async def accept(interaction_id: str, agent: int, offer_id: str) -> bool:
            async with sem:
                status, _ = await pool.request(
                    "POST", f"/api/v1/agents/{load.agent_ids[agent]}/offers/{offer_id}/accept", load.tokens[agent])
            return status == 200

        accepted_ids = [iid for iid, ok in zip(offers, await asyncio.gather(
            *(accept(iid, a, o) for iid, (a, o) in offers.items()))) if ok]
        accepted = set(accepted_ids)
        customers = [(n, tok, iid) for n, (tok, iid) in enumerate(started) if iid in accepted]
        if not customers:
            return {"error": f"no chat was accepted ({len(offers)} offers seen of {len(started)} chats)"}

        # customers write, back to back, for `seconds`
        sent: dict[str, float] = {}
        http: list[float] = []
        errors = 0
        statuses: dict[int, int] = defaultdict(int)

        async def customer(n: int, token: str, end: float) -> None:
            nonlocal errors
            k = 0
            while time.time() < end:
                ref = f"bench-{n}-{k}"
                k += 1
                t = time.time()
                sent[ref] = t
                status, _ = await pool.request("POST", "/api/v1/chat/messages", token,
                                               json.dumps({"body": f"message {k} from customer {n}",
                                                           "client_ref": ref}).encode())
                if status == 201:
                    http.append(time.time() - t)
                else:
                    errors += 1
                    statuses[status] += 1
                    del sent[ref]
                    await asyncio.sleep(0.05)

        async def post_all() -> float:
            t0 = time.time()
            await asyncio.gather(*(customer(n, tok, t0 + seconds) for n, tok, _ in customers))
            return t0

        t0, cpu = await measured(pid, post_all())
        await asyncio.sleep(GRACE_SECONDS)
        t_until = time.time()
        customer_feeds = [f for f in customer_slots if f is not None]
        await close_feeds(customer_feeds)
    finally:
        pool.close()

    agent_from_send, agent_from_event, customer_from_send = [], [], []
    for feed in agent_feeds.values():
        for received, raw in feed.messages:
            if t0 <= received <= t_until and b"MessageAdded" in raw:
                message = json.loads(raw)
                event = message.get("event") or {}
                ref = ((event.get("data") or {}).get("message") or {}).get("client_ref")
                if message["type"] == "event" and ref in sent:
                    agent_from_send.append(received - sent[ref])
                    agent_from_event.append(received - iso_ts(event["at"]))
    for feed in customer_feeds:
        for received, raw in feed.messages:
            if t0 <= received <= t_until:
                message = json.loads(raw)
                ref = (message.get("message") or {}).get("client_ref") if message.get("type") == "message" else None
                if ref in sent:
                    customer_from_send.append(received - sent[ref])
    wall = cpu["wall_s"]
    return {"sessions": len(customers), "started": len(started), "offers_seen": len(offers),
            "customer_sockets": len(customer_feeds), "seconds": wall, "posted": len(sent), "errors": errors,
            "error_statuses": dict(statuses), "messages_per_s": len(sent) / wall,
            "delivered_to_agents": len(agent_from_send), "delivered_to_agents_per_s": len(agent_from_send) / wall,
            "http": summary(http), "agent_from_request": summary(agent_from_send),
            "agent_from_event": summary(agent_from_event), "customer_echo_from_request": summary(customer_from_send),
            "cpu": cpu, "server_cpu_ms_per_message": 1000 * cpu["server_cpu_s"] / len(sent) if sent else None}


# ---- the run ----------------------------------------------------------------------------------
async def measured(pid: int, coro: Any) -> tuple[Any, dict[str, float]]:
    """Run `coro`, with the server's and this process's CPU over it."""
    server0, client0, wall0 = proc_cpu_seconds(pid), self_cpu_seconds(), time.time()
    result = await coro
    server1, client1, wall1 = proc_cpu_seconds(pid), self_cpu_seconds(), time.time()
    rss, peak = proc_rss_mb(pid)
    wall = wall1 - wall0
    return result, {"wall_s": wall, "server_cpu_s": server1 - server0,
                    "server_cpu_pct": 100 * (server1 - server0) / wall, "client_cpu_pct": 100 * (client1 - client0) / wall,
                    "server_rss_mb": rss, "server_rss_peak_mb": peak}


def per_event(cpu: dict[str, float], load: dict[str, Any]) -> float | None:
    return 1000 * cpu["server_cpu_s"] / load["ok"] if load["ok"] else None


async def run_bench(base: str, pid: int, seeded: Seeded, ns: argparse.Namespace) -> dict[str, Any]:
    load = Load(base, seeded.agent_ids, seeded.agent_tokens, ns.concurrency)
    started = time.perf_counter()
    await load.all_available()
    warm_up_s = time.perf_counter() - started

    # 1. the events alone
    baseline, baseline_cpu = await measured(pid, load.paced(ns.rate, ns.seconds))
    baseline_cpu["server_cpu_ms_per_event"] = per_event(baseline_cpu, baseline)

    # 2. connect everyone, then idle
    ws_base = base.replace("http://", "ws://")
    started = time.perf_counter()
    agent_slots = await open_feeds(ws_base, seeded.agent_tokens, [True] * len(seeded.agent_tokens), not ns.no_deflate)
    sample = min(ns.parse_supervisors, len(seeded.supervisor_tokens))
    supervisor_slots = await open_feeds(ws_base, seeded.supervisor_tokens,
                                        [i < sample for i in range(len(seeded.supervisor_tokens))], not ns.no_deflate)
    connect_s = time.perf_counter() - started
    agent_feeds = {i: f for i, f in enumerate(agent_slots) if f is not None}
    agent_list = list(agent_feeds.values())
    supervisors = [f for f in supervisor_slots if f is not None]
    sampled = [f for f in supervisor_slots[:sample] if f is not None]
    failures = len(agent_slots) - len(agent_list) + len(supervisor_slots) - len(supervisors)
    await asyncio.sleep(1.0)  # first snapshots and states out of the way
    idle_from = time.time()
    _, idle_cpu = await measured(pid, asyncio.sleep(IDLE_SECONDS))
    idle_snapshots = sum(1 for f in supervisors for t in f.times if idle_from <= t <= idle_from + idle_cpu["wall_s"])

    # 3. the events with everyone watching
    loaded, loaded_cpu = await measured(pid, load.paced(ns.rate, ns.seconds))
    loaded_cpu["server_cpu_ms_per_event"] = per_event(loaded_cpu, loaded)
    await asyncio.sleep(GRACE_SECONDS)
    t_until = time.time()
    closed_early = sum(1 for f in [*agent_list, *supervisors] if f.closed is not None)

    # 4. chat, no presence events; the agents connected, the supervisors only if asked (their
    #    snapshots' cost is what phase 3 shows; with them the chat figure mostly repeats it)
    chat = None
    if ns.chat_sessions:
        if not ns.chat_with_supervisors:
            await close_feeds(supervisors)
            await asyncio.sleep(0.5)
        try:
            chat = await chat_throughput(base, pid, seeded.program_id, load, agent_feeds, ns.chat_sessions,
                                         ns.seconds, not ns.no_deflate)
        except Exception as err:  # noqa: BLE001 - the chat API is young: report, keep the other figures
            chat = {"error": f"{type(err).__name__}: {err}"}
        if chat is not None and "error" not in chat:
            chat["supervisors_connected"] = len(supervisors) if ns.chat_with_supervisors else 0
    await close_feeds([*agent_list, *supervisors])

    t0, t_end = loaded["t0"], loaded["finished"]
    delivered = agent_deliveries(agent_feeds, loaded["sends"], t0, t_until)
    late_deliveries = sum(1 for f in agent_list for t in f.times if t_end < t <= t_until)
    snaps = [sum(1 for t in f.times if t0 <= t <= t_end) for f in supervisors]  # (alerts would count too)
    snap_bytes = [len(raw) for f in sampled for t, raw in f.messages if t0 <= t <= t_end]
    freshness = supervisor_freshness(sampled, delivered.pop("events"), seeded.agent_ids, t0, t_until)
    for phase in (baseline, loaded):
        phase.pop("sends")
    return {
        "agents": len(seeded.agent_ids), "supervisors": len(seeded.supervisor_tokens), "rate": ns.rate,
        "seconds": ns.seconds, "deflate": not ns.no_deflate, "seed_s": seeded.seconds, "warm_up_s": warm_up_s,
        "connect": {"seconds": connect_s, "agent_sockets": len(agent_list), "supervisor_sockets": len(supervisors),
                    "failures": failures, "closed_early": closed_early},
        "baseline": {"load": baseline, "cpu": baseline_cpu},
        "idle": {"cpu": idle_cpu, "snapshots_per_supervisor_per_s":
                 idle_snapshots / max(1, len(supervisors)) / idle_cpu["wall_s"]},
        "loaded": {"load": loaded, "cpu": loaded_cpu},
        "cpu_ratio_loaded_to_baseline": loaded_cpu["server_cpu_s"] / max(1e-9, baseline_cpu["server_cpu_s"]),
        "cpu_per_event_ratio": (loaded_cpu["server_cpu_ms_per_event"] or 0)
        / max(1e-9, baseline_cpu["server_cpu_ms_per_event"] or 0),
        "agent_delivery": {**delivered, "after_load_ended": late_deliveries},
        "supervisor_snapshots": {
            "per_supervisor_per_s": sum(snaps) / max(1, len(snaps)) / (t_end - t0),
            "min_per_supervisor": min(snaps, default=0), "max_per_supervisor": max(snaps, default=0),
            "total": sum(snaps),
            "mean_kb": (sum(snap_bytes) / len(snap_bytes) / 1024) if snap_bytes else None,
            "freshness": freshness},
        "chat_sessions": ns.chat_sessions, "chat": chat,
    }


def fmt(value: float | int | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(r: dict[str, Any]) -> None:
    print(f"Live feed over WebSocket: one server process on SQLite, {r['agents']} agents + {r['supervisors']} "
          f"supervisors, target {r['rate']:.0f} events/s for {r['seconds']:.0f} s "
          f"(permessage-deflate {'on' if r['deflate'] else 'off'})")
    c = r["connect"]
    print(f"seeded in {r['seed_s']:.1f} s; {c['agent_sockets']} agent + {c['supervisor_sockets']} supervisor sockets "
          f"opened in {c['seconds']:.1f} s ({c['failures']} failed, {c['closed_early']} closed by the server)")
    print()
    print(f"{'phase':<31} {'events/s':>9} {'not sent':>9} {'errors':>7} {'srv CPU s':>10} {'srv CPU %':>10} "
          f"{'ms/event':>9} {'RSS MB':>7} {'client CPU %':>13}")
    rows = [("events, no sockets (baseline)", r["baseline"]["load"], r["baseline"]["cpu"]),
            (f"{c['agent_sockets'] + c['supervisor_sockets']} sockets, idle", None, r["idle"]["cpu"]),
            (f"events + {c['agent_sockets'] + c['supervisor_sockets']} sockets", r["loaded"]["load"],
             r["loaded"]["cpu"])]
    for label, load, cpu in rows:
        rate = fmt(load["achieved_rate"], ".0f") if load else "-"
        errors = str(load["errors"]) if load else "-"
        not_sent = str(load["not_sent"]) if load else "-"
        print(f"{label:<31} {rate:>9} {not_sent:>9} {errors:>7} {cpu['server_cpu_s']:>10.2f} "
              f"{cpu['server_cpu_pct']:>10.0f} {fmt(cpu.get('server_cpu_ms_per_event'), '.2f'):>9} "
              f"{cpu['server_rss_mb']:>7.0f} {cpu['client_cpu_pct']:>13.0f}")
    print(f"server CPU with sockets / events alone: {r['cpu_ratio_loaded_to_baseline']:.2f} in all, "
          f"{r['cpu_per_event_ratio']:.2f} per event  (peak RSS {r['loaded']['cpu']['server_rss_peak_mb']:.0f} MB)")
    for name in ("baseline", "loaded"):
        load = r[name]["load"]
        if load["achieved_rate"] < 0.95 * load["target_rate"]:
            print(f"NOTE: {name}: the server did not sustain {load['target_rate']:.0f} events/s "
                  f"({load['achieved_rate']:.0f}/s achieved, {load['not_sent']} of {load['due']} events not sent "
                  f"in time, client CPU {r[name]['cpu']['client_cpu_pct']:.0f}%)")
    print()
    d, s = r["agent_delivery"], r["supervisor_snapshots"]
    f = s["freshness"]
    print(f"{'latency (ms)':<50} {'n':>7} {'p50':>8} {'p99':>8} {'max':>8}")
    lines = [
        ("HTTP PUT agent state, baseline", r["baseline"]["load"]["http"]),
        ("HTTP PUT agent state, with sockets", r["loaded"]["load"]["http"]),
        ("agent socket, from event time", d["from_event"]),
        ("agent socket, from request sent", d["from_request"]),
        (f"supervisor snapshot showing it, from event time", f["from_event"]),
        (f"supervisor snapshot showing it, from request sent", f["from_request"]),
    ]
    for label, m in lines:
        print(f"{label:<50} {m['n']:>7} {fmt(m['p50_ms']):>8} {fmt(m['p99_ms']):>8} {fmt(m['max_ms']):>8}")
    print(f"agent events: {d['from_event']['n']} delivered of {r['loaded']['load']['ok']} requests, "
          f"{d['missing']} missing, {d['dropped']} dropped, {d['unmatched']} unmatched, "
          f"{d['after_load_ended']} arrived after the load ended")
    print(f"supervisor snapshots during the load: {s['per_supervisor_per_s']:.2f} per supervisor per s "
          f"(min {s['min_per_supervisor']}, max {s['max_per_supervisor']} per supervisor, {s['total']} in all, "
          f"{fmt(s['mean_kb'], '.0f')} KB each); idle: {r['idle']['snapshots_per_supervisor_per_s']:.2f}/s; "
          f"freshness from {f['supervisors_parsed']} supervisors, {f['not_seen']} (event, supervisor) pairs not seen")
    every = r["agents"] / r["rate"]
    if r["supervisors"] and every < 2 * SNAPSHOT_MIN_SECONDS:
        print(f"NOTE: each agent changes state every {every:.2f} s, more often than supervisors get snapshots, so "
              f"most events are superseded before any snapshot can show them; the freshness figures cover only "
              f"those that were shown")
    print()
    print_chat(r["chat"], r)


def print_chat(chat: dict[str, Any] | None, r: dict[str, Any]) -> None:
    if chat is None:
        print("chat: skipped (no chat API in this build)" if r.get("chat_sessions", 1)
              else "chat: skipped (--chat-sessions 0)")
        return
    if "error" in chat:
        print(f"chat: failed: {chat['error']}")
        return
    cpu = chat["cpu"]
    print(f"chat, no presence events, {r['connect']['agent_sockets']} agent + "
          f"{chat['supervisors_connected']} supervisor sockets connected: {chat['sessions']} customers each with an "
          f"agent who accepted (of {chat['started']} chats started, {chat['offers_seen']} offered in time), "
          f"writing back to back for {chat['seconds']:.0f} s")
    print(f"  {chat['messages_per_s']:.0f} messages/s accepted, {chat['delivered_to_agents_per_s']:.0f}/s delivered "
          f"to agents ({chat['delivered_to_agents']} of {chat['posted']}), {chat['errors']} errors "
          f"{chat['error_statuses'] or ''}; server CPU {cpu['server_cpu_pct']:.0f}% "
          f"({fmt(chat['server_cpu_ms_per_message'], '.2f')} ms/message), client CPU {cpu['client_cpu_pct']:.0f}%")
    print(f"{'chat latency (ms)':<50} {'n':>7} {'p50':>8} {'p99':>8} {'max':>8}")
    for label, m in (("HTTP POST /chat/messages", chat["http"]),
                     ("agent socket, from request sent", chat["agent_from_request"]),
                     ("agent socket, from event time", chat["agent_from_event"]),
                     ("customer's own socket (echo), from request sent", chat["customer_echo_from_request"])):
        print(f"{label:<50} {m['n']:>7} {fmt(m['p50_ms']):>8} {fmt(m['p99_ms']):>8} {fmt(m['max_ms']):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--supervisors", type=int, default=100)
    parser.add_argument("--rate", type=float, default=500, help="target events per second")
    parser.add_argument("--seconds", type=float, default=10, help="length of each event-load phase")
    parser.add_argument("--concurrency", type=int, default=64, help="HTTP connections of the event sender")
    parser.add_argument("--parse-supervisors", type=int, default=10,
                        help="supervisors whose snapshots are parsed for freshness (all are counted)")
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    parser.add_argument("--chat-sessions", type=int, default=100,
                        help="web chats in the chat measurement (0: skip it)")
    parser.add_argument("--chat-with-supervisors", action="store_true",
                        help="keep the supervisors connected during the chat measurement")
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args()
    if ns.agents < 1 or ns.supervisors < 0 or ns.rate <= 0 or ns.seconds <= 0:
        parser.error("--agents must be at least 1; --rate and --seconds positive")
    raise_nofile()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on Ctrl-C

    tmp = Path(tempfile.mkdtemp(prefix="hl-bench-realtime-"))
    proc: subprocess.Popen | None = None
    try:
        seeded = seed(tmp, ns.agents, ns.supervisors)
        proc, base = start_server(tmp)
        result = asyncio.run(run_bench(base, proc.pid, seeded, ns))
        if ns.json:
            print(json.dumps(result, indent=2))
        else:
            print_table(result)
    except Exception:
        log = tmp / "server.log"
        if log.exists():  # the data directory goes with the cleanup: show the end of the server's log
            print(f"--- end of the server's log ---\n{log.read_text(errors='replace')[-4000:]}", file=sys.stderr)
        raise
    finally:
        if proc is not None:
            stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
