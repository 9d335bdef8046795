"""Routing benchmark: the RoutingEngine's two decisions against a naive full scan.

    python bench/routing.py            # a table
    python bench/routing.py --json     # the same numbers as JSON
    python bench/routing.py --profile  # also cProfile both decisions and print where time goes

The data set, built in-process with a fixed seed: 10,000 agents with 3 random skills each (of 50),
200 queues (queue i requires skill i % 50, with mixed strategies, priorities and ageing) and
100,000 waiting contacts spread over the queues with random priorities and media.

A decision, timed with perf_counter_ns around each one:
  (a) an agent frees up: mark her accepting (refresh), `work_for`, remove the chosen contact,
      mark her busy again (refresh). A fresh contact replaces the taken one, untimed, so the
      number waiting stays put.
  (b) a contact arrives while agents are ready and queues are empty: `add`, `agents_for`,
      remove the contact, mark the chosen agent busy (refresh). Busy agents are freed again
      later, untimed, so about 8,000 stay ready.

Growth: (a) again with 1,000, 10,000 and 100,000 waiting, one engine each, in interleaved rounds.

The baseline answers the same questions by scanning: every waiting contact for (a), every agent
for (b), with the same ordering rules. A sample of decisions is checked against it
("agreement"). Nothing is asserted: the numbers are reported as measured.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import sys
import time
from collections import deque
from pathlib import Path

try:
    import hearthline  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hearthline.domain.agents import Medium  # noqa: E402
from hearthline.domain.queues import Queue, Strategy  # noqa: E402
from hearthline.domain.routing import RoutingAgent, RoutingEngine, WaitingEntry  # noqa: E402

SEED = 20250303
N_AGENTS = 10_000
N_SKILLS = 50
N_QUEUES = 200
N_WAITING = 100_000
T0 = 1_740_992_400.0  # 2025-03-03 09:00 UTC, epoch seconds
STRATEGIES = (Strategy.LONGEST_IDLE, Strategy.LONGEST_IDLE, Strategy.MOST_SKILLED, Strategy.ROUND_ROBIN,
              Strategy.FEWEST_CONTACTS, Strategy.PERFORMANCE)
MEDIA = (Medium.VOICE,) * 8 + (Medium.CHAT, Medium.EMAIL)
TARGET_RATE = 50_000  # decisions/s
TARGET_P99_MS = 1.0


# ---- data -------------------------------------------------------------------------------------

class World:
    """Queues, agents and a source of contacts, all from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.queues = [
            Queue(id=f"q{i:03d}", operator_id="op", tenant_id="t", program_id="p", name=f"queue {i}",
                  strategy=rng.choice(STRATEGIES), skills={f"s{i % N_SKILLS:02d}": 1},
                  priority=rng.choice((0, 0, 0, 1, 2)), ageing_per_minute=rng.choice((0.0, 0.0, 0.5, 1.0, 2.0)))
            for i in range(N_QUEUES)
        ]
        self.queue_by_id = {q.id: q for q in self.queues}
        self.agents = []
        for i in range(N_AGENTS):
            skills = {f"s{k:02d}": rng.randint(1, 5) for k in rng.sample(range(N_SKILLS), 3)}
            self.agents.append(RoutingAgent(
                agent_id=f"a{i:05d}", skills=skills, languages=frozenset(),
                capacity={Medium.VOICE: 1, Medium.CHAT: 3, Medium.EMAIL: 5},
                idle_since=T0 - rng.uniform(0, 3600), contacts_today=rng.randint(0, 40),
                score=round(rng.random(), 3),
            ))
        self.seq = 0

    def entry(self, now: float, *, spread: float = 3600.0) -> WaitingEntry:
        """A new waiting contact in a random queue, enqueued within `spread` seconds before now."""
        self.seq += 1
        queue = self.rng.choice(self.queues)
        return WaitingEntry(
            interaction_id=f"c{self.seq:07d}", queue_id=queue.id, medium=self.rng.choice(MEDIA),
            priority=float(self.rng.randint(0, 9) + queue.priority),
            enqueued=float(int(now - self.rng.uniform(0, spread))), seq=self.seq,
        )

    def engine(self, *, accepting: bool) -> RoutingEngine:
        engine = RoutingEngine()
        for queue in self.queues:  # queues first: set_queue re-indexes every known agent
            engine.set_queue(queue)
        for agent in self.agents:
            agent.accepting, agent.load = accepting, {}
            engine.set_agent(agent)
        return engine


# ---- baseline: scan everything --------------------------------------------------------------

def baseline_work_for(world: World, entries: dict, agent: RoutingAgent, now: float) -> WaitingEntry | None:
    """Scan every waiting contact: highest effective priority, then longest waiting, then arrival."""
    if not agent.accepting:
        return None
    queues = {q.id for q in world.queues if q.admits(agent.skills, agent.languages)}
    media = {m for m in Medium if agent.ready_for(m)}
    best, best_rank = None, None
    for entry in entries.values():
        if entry.only_agent is not None:
            if entry.only_agent != agent.agent_id:
                continue
        elif entry.queue_id not in queues:
            continue
        if entry.medium not in media or not entry.allows(agent):
            continue
        rate = world.queue_by_id[entry.queue_id].ageing_per_minute / 60.0
        rank = (-(entry.priority + rate * max(0.0, now - entry.enqueued)), entry.enqueued, entry.seq)
        if best_rank is None or rank < best_rank:
            best, best_rank = entry, rank
    return best


def _strategy_key(queue: Queue, agent: RoutingAgent) -> tuple:
    load = sum(agent.load.values())
    s = queue.strategy
    if s is Strategy.MOST_SKILLED:
        middle: tuple = (-agent.skills.get(next(iter(queue.skills)), 0), agent.idle_since)
    elif s is Strategy.ROUND_ROBIN:
        middle = (agent.last_offered.get(queue.id, 0.0), agent.idle_since)
    elif s is Strategy.FEWEST_CONTACTS:
        middle = (agent.contacts_today, agent.idle_since)
    elif s is Strategy.PERFORMANCE:
        middle = (-agent.score, agent.idle_since)
    else:
        middle = (agent.idle_since,)
    return (load, *middle, agent.agent_id)


def baseline_agent_for(world: World, entry: WaitingEntry) -> RoutingAgent | None:
    """Scan every agent: a ready member that may take the contact, best by the queue's strategy."""
    queue = world.queue_by_id[entry.queue_id]
    best, best_key = None, None
    for agent in world.agents:
        if not agent.ready_for(entry.medium) or not queue.admits(agent.skills, agent.languages):
            continue
        if not entry.allows(agent):
            continue
        key = _strategy_key(queue, agent)
        if best_key is None or key < best_key:
            best, best_key = agent, key
    return best


# ---- measuring ----------------------------------------------------------------------------------

def summary(latencies_ns: list[int], total_ns: int, cpu_ns: int) -> dict:
    """Rates and percentiles of wall-clock latencies; `cpu_per_second` counts this thread's CPU
    time only, so it is the steadier figure on a machine that other work shares."""
    ordered = sorted(latencies_ns)
    n = len(ordered)

    def pct(p: float) -> float:
        return ordered[min(n - 1, int(p * n))] / 1e3 if n else 0.0

    return {
        "decisions": n,
        "per_second": n / (total_ns / 1e9) if total_ns else 0.0,
        "cpu_per_second": n / (cpu_ns / 1e9) if cpu_ns else 0.0,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "max_us": ordered[-1] / 1e3 if n else 0.0,
    }


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def step(self) -> float:
        self.now += 0.01
        return self.now


def fill(world: World, engine: RoutingEngine, mirror: dict, count: int, now: float) -> None:
    for _ in range(count):
        entry = world.entry(now)
        engine.add(entry)
        mirror[entry.interaction_id] = entry


def free_agent_decision(engine: RoutingEngine, agent: RoutingAgent, now: float) -> WaitingEntry | None:
    """(a): the agent frees up, is offered the best contact, and is busy again."""
    agent.accepting = True
    agent.load = {}
    agent.idle_since = now
    engine.refresh(agent)
    entry = engine.work_for(agent.agent_id, now)
    if entry is not None:
        engine.remove(entry.interaction_id)
        agent.load = {entry.medium: 1}
    agent.accepting = False
    engine.refresh(agent)
    return entry


def run_free_agent(world: World, engine: RoutingEngine, mirror: dict, clock: Clock, n: int, *,
                   baseline: bool = False, check: int = 0,
                   prof: cProfile.Profile | None = None) -> tuple[dict, int, int]:
    """n decisions of kind (a). With `baseline`, decisions are made by the full scan instead.
    The first `check` decisions are also made by the other method and compared."""
    latencies, total, cpu, agree, checked = free_agent_loop(world, engine, mirror, clock, n, baseline=baseline,
                                                            check=check, prof=prof)
    return summary(latencies, total, cpu), agree, checked


def free_agent_loop(world: World, engine: RoutingEngine, mirror: dict, clock: Clock, n: int, *,
                    baseline: bool = False, check: int = 0,
                    prof: cProfile.Profile | None = None) -> tuple[list[int], int, int, int, int]:
    """The loop of run_free_agent: raw latencies (ns), their sum, CPU ns, agreements, checks."""
    latencies, agree, checked = [], 0, 0
    total = cpu = 0
    agents = world.agents
    for i in range(n):
        agent = agents[world.rng.randrange(len(agents))]
        now = clock.step()
        if i < check:  # compare before deciding, on the same state, untimed
            agent.accepting, agent.load = True, {}
            agent.idle_since = now
            engine.refresh(agent)
            ours = engine.work_for(agent.agent_id, now)
            theirs = baseline_work_for(world, mirror, agent, now)
            checked += 1
            agree += (ours is theirs)
            agent.accepting = False
            engine.refresh(agent)
        c = time.thread_time_ns()
        if baseline:
            t = time.perf_counter_ns()
            agent.accepting, agent.load, agent.idle_since = True, {}, now
            entry = baseline_work_for(world, mirror, agent, now)
            if entry is not None:
                del mirror[entry.interaction_id]
                agent.load = {entry.medium: 1}
            agent.accepting = False
            dt = time.perf_counter_ns() - t
            cpu += time.thread_time_ns() - c
            if entry is not None:
                engine.remove(entry.interaction_id)  # keep the engine in step, untimed
        elif prof is not None:  # profile the decision alone
            t = time.perf_counter_ns()
            entry = prof.runcall(free_agent_decision, engine, agent, now)
            dt = time.perf_counter_ns() - t
            if entry is not None:
                del mirror[entry.interaction_id]
        else:
            t = time.perf_counter_ns()
            entry = free_agent_decision(engine, agent, now)
            dt = time.perf_counter_ns() - t
            cpu += time.thread_time_ns() - c
            if entry is not None:
                del mirror[entry.interaction_id]
        latencies.append(dt)
        total += dt
        if entry is not None:  # a new arrival takes its place: the number waiting stays put
            fresh = world.entry(now)
            engine.add(fresh)
            mirror[fresh.interaction_id] = fresh
    return latencies, total, cpu, agree, checked


def arrival_decision(engine: RoutingEngine, entry: WaitingEntry, now: float,
                     offers: list[int]) -> RoutingAgent | None:
    """(b): a contact arrives, the best ready agent is picked, and she is busy with it."""
    chosen = engine.agents_for(entry)  # as the center does: filed only if nobody can take it
    if not chosen:
        engine.add(entry)
        return None
    agent = chosen[0]
    offers[0] += 1
    agent.last_offered[entry.queue_id] = float(offers[0])
    agent.accepting = False
    agent.load = {entry.medium: 1}
    engine.refresh(agent)
    return agent


def run_arrivals(world: World, engine: RoutingEngine, clock: Clock, n: int, *, baseline: bool = False,
                 check: int = 0, busy: deque | None = None,
                 prof: cProfile.Profile | None = None) -> tuple[dict, int, int]:
    """n decisions of kind (b). Busy agents are freed again (untimed) once 2,000 are busy."""
    busy = busy if busy is not None else deque()
    offers = [0]
    latencies, agree, checked, total, cpu = [], 0, 0, 0, 0
    for i in range(n):
        now = clock.step()
        entry = world.entry(now, spread=0.0)
        if i < check:
            engine.add(entry)
            ours = engine.agents_for(entry)
            engine.remove(entry.interaction_id)
            theirs = baseline_agent_for(world, entry)
            checked += 1
            agree += ((ours[0] if ours else None) is theirs)
        c = time.thread_time_ns()
        if baseline:
            t = time.perf_counter_ns()
            agent = baseline_agent_for(world, entry)
            if agent is not None:
                offers[0] += 1
                agent.last_offered[entry.queue_id] = float(offers[0])
                agent.accepting, agent.load = False, {entry.medium: 1}
            dt = time.perf_counter_ns() - t
            cpu += time.thread_time_ns() - c
            if agent is not None:
                engine.refresh(agent)  # keep the engine in step, untimed
        elif prof is not None:  # profile the decision alone
            t = time.perf_counter_ns()
            agent = prof.runcall(arrival_decision, engine, entry, now, offers)
            dt = time.perf_counter_ns() - t
        else:
            t = time.perf_counter_ns()
            agent = arrival_decision(engine, entry, now, offers)
            dt = time.perf_counter_ns() - t
            cpu += time.thread_time_ns() - c
        latencies.append(dt)
        total += dt
        if agent is not None:
            busy.append(agent)
        while len(busy) > 2_000:  # the longest-busy agent finishes and is ready again
            done = busy.popleft()
            done.accepting, done.load, done.idle_since = True, {}, now
            done.contacts_today += 1
            engine.refresh(done)
            engine.file(done.agent_id)  # no work waiting: she is filed as ready, as the center does
    return summary(latencies, total, cpu), agree, checked


def profile(label: str, fn) -> str:
    """Run fn(prof), which profiles each decision (and nothing around it) with prof."""
    prof = cProfile.Profile()
    fn(prof)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    return f"--- cProfile: {label} (sorted by own time) ---\n" + out.getvalue()


# ---- main ---------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--profile", action="store_true", help="cProfile both decisions and print the top")
    parser.add_argument("--decisions", type=int, default=20_000, help="engine decisions per measurement")
    args = parser.parse_args(argv)
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    started = time.perf_counter()

    world = World(SEED)
    clock = Clock()
    t = time.perf_counter()
    busy_engine = world.engine(accepting=False)
    mirror: dict = {}
    fill(world, busy_engine, mirror, N_WAITING, clock.now)
    log(f"built: {N_AGENTS:,} agents, {N_QUEUES} queues, {N_SKILLS} skills, {len(busy_engine):,} waiting "
        f"in {time.perf_counter() - t:.1f} s")
    gc.collect()
    gc.freeze()  # the data set is long-lived: keep the collector from re-scanning it mid-measurement

    results: dict = {"python": platform.python_version(), "machine": platform.machine(), "seed": SEED,
                     "cpus": os.cpu_count(), "load_before": round(os.getloadavg()[0], 2),
                     "agents": N_AGENTS, "queues": N_QUEUES, "skills": N_SKILLS, "waiting": N_WAITING}
    n = args.decisions

    # (a) an agent frees up, 100k waiting
    run_free_agent(world, busy_engine, mirror, clock, 1_000)  # warm-up
    engine_a, _, _ = run_free_agent(world, busy_engine, mirror, clock, n)
    base_a, agree_a, checked_a = run_free_agent(world, busy_engine, mirror, clock, 40, baseline=True, check=40)
    profiles = []
    if args.profile:
        profiles.append(profile(f"(a) agent frees up, {len(busy_engine):,} waiting, 5,000 decisions",
                                lambda prof: run_free_agent(world, busy_engine, mirror, clock, 5_000, prof=prof)))

    # growth of (a) with the number waiting: one engine per size, measured in interleaved rounds so
    # that a busy spell on the machine falls on every size alike
    agreement = {"free_agent_100k": [agree_a, checked_a]}
    lines = {100_000: (busy_engine, mirror)}
    for size in (10_000, 1_000):
        engine_s = world.engine(accepting=False)
        mirror_s: dict = {}
        fill(world, engine_s, mirror_s, size, clock.now)
        lines[size] = (engine_s, mirror_s)
    for size, check in ((10_000, 100), (1_000, 400)):
        _, _, _, agree, checked = free_agent_loop(world, *lines[size], clock, check, check=check)
        agreement[f"free_agent_{size // 1000}k"] = [agree, checked]
    raw: dict = {size: ([], 0, 0) for size in lines}
    rounds = 10
    for _ in range(rounds):
        for size, (engine_s, mirror_s) in lines.items():
            lat, tot, cpu, _, _ = free_agent_loop(world, engine_s, mirror_s, clock, n // 2 // rounds)
            acc = raw[size]
            raw[size] = (acc[0] + lat, acc[1] + tot, acc[2] + cpu)
    growth = {size: summary(*raw[size]) for size in sorted(lines)}

    # (b) a contact arrives; agents ready, queues empty
    world_b = World(SEED)
    ready_engine = world_b.engine(accepting=True)
    clock_b = Clock()
    busy: deque = deque()
    run_arrivals(world_b, ready_engine, clock_b, 2_000, busy=busy)  # warm-up, and 2,000 agents busy
    engine_b, _, _ = run_arrivals(world_b, ready_engine, clock_b, n, busy=busy)
    base_b, agree_b, checked_b = run_arrivals(world_b, ready_engine, clock_b, 200, baseline=True, check=200,
                                              busy=busy)
    agreement["arrival"] = [agree_b, checked_b]
    if args.profile:
        profiles.append(profile("(b) contact arrives, 5,000 decisions",
                                lambda prof: run_arrivals(world_b, ready_engine, clock_b, 5_000, busy=busy,
                                                          prof=prof)))

    results["free_agent"] = {"engine": engine_a, "baseline": base_a,
                             "speedup": engine_a["per_second"] / base_a["per_second"]}
    results["arrival"] = {"engine": engine_b, "baseline": base_b,
                          "speedup": engine_b["per_second"] / base_b["per_second"]}
    results["free_agent_growth"] = {str(k): v for k, v in growth.items()}
    results["growth_ratio"] = {
        basis: {
            "1k_to_10k": growth[1_000][basis] / growth[10_000][basis],
            "10k_to_100k": growth[10_000][basis] / growth[100_000][basis],
            "1k_to_100k": growth[1_000][basis] / growth[100_000][basis],
        }
        for basis in ("per_second", "cpu_per_second")
    }
    results["agreement"] = {k: f"{a}/{c}" for k, (a, c) in agreement.items()}
    results["target"] = {"per_second": TARGET_RATE, "p99_ms": TARGET_P99_MS}

    results["load_after"] = round(os.getloadavg()[0], 2)
    results["seconds"] = round(time.perf_counter() - started, 1)

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    for text in profiles:
        log(text)
    return 0


def print_table(r: dict) -> None:
    def row(label: str, s: dict) -> str:
        return (f"  {label:<34} {s['per_second']:>11,.0f} {s['cpu_per_second']:>11,.0f} {s['p50_us']:>9.1f} "
                f"{s['p99_us']:>9.1f} {s['max_us']:>10.1f} {s['decisions']:>8,}")

    print()
    print(f"Routing decisions — {r['agents']:,} agents, {r['queues']} queues, {r['skills']} skills, "
          f"Python {r['python']} ({r['machine']})")
    print(f"  load average {r['load_before']} before, {r['load_after']} after, on {r['cpus']} CPUs"
          + ("  — the machine was busy: wall-clock figures are pessimistic" if r["load_before"] > 1.0 else ""))
    print(f"  {'decision':<34} {'/s (wall)':>11} {'/s (CPU)':>11} {'p50 µs':>9} {'p99 µs':>9} "
          f"{'max µs':>10} {'n':>8}")
    print(f"  {'-' * 34} {'-' * 11} {'-' * 11} {'-' * 9} {'-' * 9} {'-' * 10} {'-' * 8}")
    print(row("(a) agent frees up — engine", r["free_agent"]["engine"]))
    print(row("(a) agent frees up — full scan", r["free_agent"]["baseline"]))
    print(row("(b) contact arrives — engine", r["arrival"]["engine"]))
    print(row("(b) contact arrives — full scan", r["arrival"]["baseline"]))
    print()
    print(f"  engine / full scan (wall):  (a) {r['free_agent']['speedup']:,.0f}×   "
          f"(b) {r['arrival']['speedup']:,.0f}×")
    print()
    print("  (a) agent frees up, by number waiting:")
    for size, s in r["free_agent_growth"].items():
        print(row(f"    {int(size):>7,} waiting", s))
    for basis, label in (("per_second", "wall"), ("cpu_per_second", "CPU")):
        g = r["growth_ratio"][basis]
        print(f"  rate ratio ({label}) 1k/10k {g['1k_to_10k']:.2f}, 10k/100k {g['10k_to_100k']:.2f}, "
              f"1k/100k {g['1k_to_100k']:.2f}  (1.00: no slow-down as the line grows)")
    print()
    print("  agreement with the full scan: " + ", ".join(f"{k} {v}" for k, v in r["agreement"].items()))
    total = sum(int(v.split("/")[0]) for v in r["agreement"].values())
    of = sum(int(v.split("/")[1]) for v in r["agreement"].values())
    print(f"  agreement: {total}/{of}")
    t = r["target"]
    for name in ("free_agent", "arrival"):
        e = r[name]["engine"]
        ok_rate = "meets" if e["per_second"] >= t["per_second"] else "misses"
        ok_p99 = "meets" if e["p99_us"] <= t["p99_ms"] * 1000 else "misses"
        print(f"  {name}: {ok_rate} the {t['per_second']:,}/s target, {ok_p99} the p99 ≤ {t['p99_ms']} ms target")
    print(f"  total time {r['seconds']} s")


if __name__ == "__main__":
    sys.exit(main())
