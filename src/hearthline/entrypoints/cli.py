"""The `hearthline` command: serve, demo, db upgrade, operator/user create, bench.

Settings come from flags, then HEARTHLINE_* variables, then an optional TOML file, then defaults
(see docs/SETTINGS.md); every subcommand that touches the store accepts the same setting flags.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import runpy
import socket
import sys
from pathlib import Path
from typing import Any, Sequence

from .. import config
from ..bootstrap import Components, build
from ..domain.errors import DomainError
from ..domain.organization import Role, Scope

log = logging.getLogger("hearthline")


def _settings(ns: argparse.Namespace, **defaults: Any) -> config.Settings:
    """Settings from the command line, the environment and the file, with this command's own
    `defaults` (the demo's data directory) in place of the table's where neither the command line
    nor the environment gives a value."""
    given = {k: v for k, v in config.overrides_from_namespace(ns).items() if v is not None}
    own = {k: v for k, v in defaults.items() if config.env_var_name(k) not in os.environ}
    return config.load_settings({**own, **given})


def _logging(settings: config.Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)  # its start-up chatter, at every start


async def _serve(components: Components, extra: Any = None) -> None:
    """Run the HTTP server until SIGINT/SIGTERM; `extra(components)` starts demo workers."""
    import uvicorn

    from .web.app import create_app

    settings = components.settings
    app = create_app(components)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                                           lifespan="on", access_log=False))
    if extra is not None:
        app.state.after_start = extra
    await server.serve()


def cmd_serve(ns: argparse.Namespace) -> int:
    settings = _settings(ns)
    _logging(settings)
    components = build(settings)
    log.info("Hearthline on %s (store %s)", settings.effective_public_url(),
             "SQLite" if settings.effective_database_url().startswith("sqlite") else "PostgreSQL")
    asyncio.run(_serve(components))
    return 0


DEMO_SMTP_PORT = 2525


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cmd_demo(ns: argparse.Namespace) -> int:
    # The demo takes e-mail on 127.0.0.1:2525 unless told otherwise (--smtp-listen-port, or the
    # variable; 0 turns it off). Another demo holding 2525 must not stop this one from starting.
    if config.env_var_name("smtp_listen_port") not in os.environ and ns.smtp_listen_port is None:
        ns.smtp_listen_port = str(DEMO_SMTP_PORT if _port_free(DEMO_SMTP_PORT) else 0)
        if ns.smtp_listen_port == "0":
            print(f"port {DEMO_SMTP_PORT} is taken: the demo takes no e-mail (see --smtp-listen-port)", flush=True)
    settings = _settings(ns, data_dir=Path("var/demo"))
    _logging(settings)
    components = build(settings)

    async def start_demo(c: Components) -> Any:
        from ..services import demo
        from ..services.simulator import AgentSimulator, TrafficGenerator

        rng = random.Random(ns.seed)
        world = await demo.seed(c.platform, rng)
        simulator = AgentSimulator(c.platform, world.scope, world.simulated_agent_ids, rng=rng,
                                   handle_seconds=ns.handle_seconds,
                                   dispositions_by_queue=world.dispositions_by_queue)
        await simulator.start()
        c.platform.on_stop(simulator.stop)
        if not ns.no_traffic:
            traffic = TrafficGenerator(c.platform, world.scope, world.traffic, rng=rng)
            await traffic.start()
            c.platform.on_stop(traffic.stop)
        url = settings.effective_public_url()
        lines = [f"\nHearthline demo is running at {url}", f"  wallboard: {url}/wallboard   API docs: {url}/docs",
                 "  logins (username / password):"]
        lines += [f"    {u:<12} / {pw:<10}  {what}" for u, pw, what in world.logins]
        lines.append("  traffic: " + ("off (--no-traffic)" if ns.no_traffic else "simulated calls, chats and emails"))
        lines.append(f"  customer chat: open {url}/try-chat/{world.chat_program_id} "
                     "as the customer, and log in as maria in another window")
        if settings.smtp_listen_port:
            lines.append(f"  e-mail: send to {', '.join(world.mail_addresses)} through SMTP "
                         f"{settings.smtp_listen_host}:{settings.smtp_listen_port}; replies are "
                         + ("sent through " + settings.smtp_relay_host if settings.smtp_relay_host
                            else "kept in the transcript, not sent (no relay configured)"))
        lines.append("Press Ctrl+C to stop.\n")
        print("\n".join(lines), flush=True)

    asyncio.run(_serve(components, start_demo))
    return 0


def _with_store(ns: argparse.Namespace) -> Components:
    settings = _settings(ns)
    _logging(settings)
    components = build(settings)
    components.platform.store.start()
    components.platform.store.upgrade()
    return components


def cmd_db_upgrade(ns: argparse.Namespace) -> int:
    components = _with_store(ns)
    components.platform.store.close()
    print("database is at the newest schema")
    return 0


async def _in_platform(components: Components, fn: Any) -> Any:
    platform = components.platform
    try:
        return await fn(platform)
    finally:
        await platform.stop()


def cmd_operator_create(ns: argparse.Namespace) -> int:
    from ..services import admin

    components = _with_store(ns)
    operator = asyncio.run(_in_platform(components, lambda p: admin.create_operator(p, ns.name)))
    print(operator.id)
    return 0


def cmd_user_create(ns: argparse.Namespace) -> int:
    from ..services import admin

    components = _with_store(ns)
    password = ns.password if ns.password is not None else os.environ.get("HEARTHLINE_NEW_PASSWORD")
    if not password:
        print("give --password or set HEARTHLINE_NEW_PASSWORD", file=sys.stderr)
        return 2
    scope = Scope(ns.operator)

    async def create(p: Any) -> Any:
        return await admin.create_user(p, scope, username=ns.username, password=password, role=Role(ns.role),
                                       tenant_id=ns.tenant, agent_id=ns.agent, display_name=ns.display_name or "")

    user = asyncio.run(_in_platform(components, create))
    print(user.id)
    return 0


def cmd_bench(ns: argparse.Namespace) -> int:
    script = Path(ns.script)
    if not script.exists():
        print(f"no benchmark at {script}; run from the repository root", file=sys.stderr)
        return 2
    sys.argv = [str(script), *ns.args]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hearthline", description="Hearthline virtual call center")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the HTTP server")
    config.add_cli_arguments(p)
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("demo", help="seed a demo center and run it with simulated agents and traffic")
    p.add_argument("--no-traffic", action="store_true", help="start quiet: no simulated customers")
    p.add_argument("--seed", type=int, default=7, help="random seed of the simulation")
    p.add_argument("--handle-seconds", type=float, default=45.0, help="mean simulated handle time")
    config.add_cli_arguments(p)
    p.set_defaults(fn=cmd_demo)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    p = db.add_parser("upgrade", help="apply every pending migration")
    config.add_cli_arguments(p)
    p.set_defaults(fn=cmd_db_upgrade)

    op = sub.add_parser("operator", help="operators").add_subparsers(dest="op_command", required=True)
    p = op.add_parser("create", help="create an operator (with the default pause reasons); prints its id")
    p.add_argument("name")
    config.add_cli_arguments(p)
    p.set_defaults(fn=cmd_operator_create)

    user = sub.add_parser("user", help="users").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("create", help="create a user; prints its id")
    p.add_argument("--operator", required=True, help="operator id")
    p.add_argument("--username", required=True)
    p.add_argument("--password", help="or set HEARTHLINE_NEW_PASSWORD (keeps it out of the process list)")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--tenant", help="tenant id (client viewers)")
    p.add_argument("--agent", help="agent id (agents)")
    p.add_argument("--display-name")
    config.add_cli_arguments(p)
    p.set_defaults(fn=cmd_user_create)

    p = sub.add_parser("bench", help="run the routing benchmark (bench/routing.py)")
    p.add_argument("--script", default="bench/routing.py")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_bench)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    ns = parser().parse_args(argv)
    try:
        return int(ns.fn(ns))
    except config.SettingsError as err:
        print(f"hearthline: {err}", file=sys.stderr)
        return 2
    except DomainError as err:
        print(f"hearthline: {err.code}: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
