"""The demo world: one operator, two client companies, their programs, queues and a workflow,
20 agents (17 simulated, 3 left for people to drive) and the logins to look at it all.

`seed` is idempotent: it does nothing if the demo operator already exists.
"""
from __future__ import annotations

import random
from datetime import timedelta
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from ..adapters.sql import tables as t
from ..domain.agents import Agent, AgentKind, Medium
from ..domain.interactions import Channel
from ..domain.organization import Disposition, Role, Scope, SkillDefinition
from ..domain.queues import Queue, Strategy
from ..domain.referrals import Referral
from ..domain.workflows import Route, Target, Workflow
from . import admin
from . import mail_setup
from .demo_care import CARE_SKILL, seed_care, seed_care_history
from .platform import Platform
from .simulator import QueueTraffic

DEMO_OPERATOR_ID = "demo-operator"
DEMO_MAIL_ADDRESS = "help@acme-energy.example"  # mail to it (the demo's SMTP listener) is Acme customer care work
DEMO_PASSWORD = "hearthline"
HUMAN_AGENTS = ("maria", "james", "aisha")
CARE_PROGRAM = "Acme Energy — customer care"
def REFERRALS(billing: str, tech: str) -> list[tuple[str, str, str | None, str | None, str]]:  # noqa: N802
    """The demo's referral directory: (program, name, phone, url, when to use)."""
    return [
        (billing, "Energy Assistance Fund", "+1 800 555 0100", "https://aid.example.org",
         "the customer cannot pay this month's bill: hardship grants and payment plans"),
        (billing, "Gas emergency line", "+1 800 555 0199", None,
         "the customer smells gas: refer at once, do not troubleshoot"),
        (billing, "Consumer advocate", None, "https://advocate.example.org",
         "a complaint the company cannot settle"),
        (tech, "Device maker support", "+1 800 555 0142", "https://support.example.com",
         "a faulty handset or router under the maker's warranty"),
    ]


DISPOSITIONS = {
    "billing": (("resolved", "Resolved"), ("payment-arranged", "Payment arranged"), ("referred", "Referred"),
                ("follow-up", "Needs follow-up")),
    "sales": (("sale", "Sale"), ("no-sale", "No sale"), ("follow-up", "Call back later")),
    "tech": (("resolved", "Resolved"), ("escalated", "Escalated to tier 2"), ("follow-up", "Needs follow-up")),
}


@dataclass(slots=True)
class DemoWorld:
    scope: Scope
    simulated_agent_ids: list[str] = field(default_factory=list)
    dispositions_by_queue: dict[str, list[str]] = field(default_factory=dict)
    traffic: list[QueueTraffic] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # username, password, what
    mail_addresses: list[str] = field(default_factory=list)  # the programs' e-mail addresses
    chat_program_id: str | None = None  # the program whose widget /try-chat/ shows


async def seed(p: Platform, rng: random.Random) -> DemoWorld:
    scope = Scope(DEMO_OPERATOR_ID)

    def exists() -> bool:
        with p.store.begin() as conn:
            return conn.execute(select(t.operators.c.id).where(t.operators.c.id == DEMO_OPERATOR_ID)).first() is not None

    if not await p.run(exists):
        await _create(p, scope, rng)
    world = await _describe(p, scope)
    world.mail_addresses = await _mail_address(p, scope)
    world.chat_program_id = next(pr.id for pr in await admin.list_programs(p, scope) if pr.name == CARE_PROGRAM)
    return world


async def _mail_address(p: Platform, scope: Scope) -> list[str]:
    """Acme customer care's e-mail address (its "Care email" queue), added to older demo
    databases too."""
    care = next((pr for pr in await admin.list_programs(p, scope) if pr.name == CARE_PROGRAM), None)
    if care is None:  # a demo database from before the care desk existed
        care = await seed_care(p, scope, next(t.id for t in await admin.list_tenants(p, scope)
                                              if t.name == "Acme Energy"))
        for agent in await admin.list_agents(p, scope):
            if not agent.attributes.get("simulated"):
                await admin.update_agent(p, scope, replace(agent, skills={**agent.skills, CARE_SKILL: 3}))
    if not any(a["address"] == DEMO_MAIL_ADDRESS for a in await mail_setup.list_mail_addresses(p, scope)):
        queue = next(q for q in await admin.list_queues(p, scope, care.id) if q.name == "Care email")
        await mail_setup.create_mail_address(p, scope, care.id, DEMO_MAIL_ADDRESS, queue_id=queue.id,
                                        display_name="Acme Energy customer care")
    return [a["address"] for a in await mail_setup.list_mail_addresses(p, scope)]


async def _create(p: Platform, scope: Scope, rng: random.Random) -> None:
    await admin.create_operator(p, "Hearthline Demo Center", operator_id=DEMO_OPERATOR_ID)
    for name, cert in (("billing", None), ("sales", None), ("tech", "brightside-tech"), ("retention", None)):
        await admin.put_skill(p, scope, SkillDefinition(name, f"{name} calls", cert))
    acme = await admin.create_tenant(p, scope, "Acme Energy")
    bright = await admin.create_tenant(p, scope, "Brightside Telecom")
    acme_billing = await admin.create_program(p, scope, acme.id, "Acme Energy — billing support")
    acme_sales = await admin.create_program(p, scope, acme.id, "Acme Energy — sales")
    bright_tech = await admin.create_program(p, scope, bright.id, "Brightside Telecom — technical support")
    care = await seed_care(p, scope, acme.id)

    def queue(program, name, **kw) -> Queue:  # type: ignore[no-untyped-def]
        return Queue("", "", "", program.id, name, **kw)

    billing = await admin.create_queue(p, scope, queue(acme_billing, "Billing", skills={"billing": 1},
                                                       service_level_seconds=30, wrap_up_seconds=30,
                                                       default_handle_seconds=60))
    billing_es = await admin.create_queue(p, scope, queue(acme_billing, "Billing (Spanish)", skills={"billing": 1},
                                                          language="es", service_level_seconds=30,
                                                          default_handle_seconds=60))
    await admin.create_queue(p, scope, queue(acme_sales, "Sales chat", skills={"sales": 1},
                                             strategy=Strategy.MOST_SKILLED, default_handle_seconds=90))
    await admin.create_queue(p, scope, queue(bright_tech, "Tech support", skills={"tech": 2},
                                             strategy=Strategy.FEWEST_CONTACTS, ageing_per_minute=1.0,
                                             default_handle_seconds=75))
    await admin.create_queue(p, scope, queue(bright_tech, "Tech email", skills={"tech": 1},
                                             service_level_seconds=3600, default_handle_seconds=45))
    workflow = await admin.create_workflow(p, scope, Workflow(
        "", "", "", acme_billing.id, "Acme billing intake",
        routes=(Route("spanish", 'language == "es"', (
            Target(billing_es.id, timeout_seconds=45),
            Target(billing.id, agent_expression='agent.languages HAS "es"', priority=5),
        )), Route("gold customers", 'tier IN ["gold", "platinum"]', (Target(billing.id, priority=10),))),
        default_target=Target(billing.id),
    ))
    await admin.update_program(p, scope, acme_billing.id, default_workflow_id=workflow.id)
    for program, name, phone, url, when in REFERRALS(acme_billing.id, bright_tech.id):
        await admin.create_referral(p, scope, Referral("", "", "", program, name, phone, url, when))
    for program, codes in ((acme_billing, DISPOSITIONS["billing"]), (acme_sales, DISPOSITIONS["sales"]),
                           (bright_tech, DISPOSITIONS["tech"])):
        await admin.update_program(p, scope, program.id, dispositions=tuple(Disposition(c, label) for c, label in codes))

    far = p.clock.now() + timedelta(days=365)
    profiles = [  # (name, skills, languages, kind)
        ("Maria Gonzalez", {"billing": 4, "sales": 2, CARE_SKILL: 3}, {"en", "es"}, AgentKind.EMPLOYEE),
        ("James Carter", {"tech": 4, "billing": 2, CARE_SKILL: 3}, {"en"}, AgentKind.CONTRACTOR),
        ("Aisha Bello", {"sales": 5, "billing": 3, CARE_SKILL: 3}, {"en", "fr"}, AgentKind.EMPLOYEE),
    ]
    first = ["Lena", "Omar", "Grace", "Diego", "Hana", "Tom", "Priya", "Carlos", "Mei", "Noah", "Sofia", "Kwame",
             "Ines", "Ravi", "Zoe", "Luis", "Anya"]
    for i, name in enumerate(first):
        skills = {"billing": rng.randint(1, 5)} if i % 3 != 2 else {"tech": rng.randint(2, 5)}
        if i % 4 == 0:
            skills["sales"] = rng.randint(1, 5)
        if i % 5 == 1:
            skills["tech"] = rng.randint(2, 5)
        languages = {"en", "es"} if i % 4 == 1 else {"en"}
        profiles.append((f"{name} {rng.choice(['Park', 'Silva', 'Moreau', 'Adeyemi', 'Novak', 'Reyes'])}",
                         skills, languages, AgentKind.CONTRACTOR if i % 2 else AgentKind.EMPLOYEE))
    for i, (name, skills, languages, kind) in enumerate(profiles):
        agent = await admin.create_agent(p, scope, Agent(
            "", "", name, kind=kind, skills=skills, languages=frozenset(languages),
            certifications={"brightside-tech": far} if "tech" in skills else {},
            capacity={Medium.VOICE: 1, Medium.CHAT: 3, Medium.EMAIL: 5}, score=round(rng.uniform(60, 99), 1),
            home_state=rng.choice(["TX", "FL", "OH", "AZ", "GA", "NC"]), time_zone="America/Chicago",
            attributes={"simulated": i >= len(HUMAN_AGENTS)}))
        username = HUMAN_AGENTS[i] if i < len(HUMAN_AGENTS) else f"sim{i:02d}"
        await admin.create_user(p, scope, username=username, password=DEMO_PASSWORD, role=Role.AGENT,
                                agent_id=agent.id, display_name=name)
    await admin.create_user(p, scope, username="admin", password=DEMO_PASSWORD, role=Role.ADMIN,
                            display_name="Demo admin")
    await admin.create_user(p, scope, username="supervisor", password=DEMO_PASSWORD, role=Role.SUPERVISOR,
                            display_name="Sam Supervisor")
    await admin.create_user(p, scope, username="acme-viewer", password=DEMO_PASSWORD, role=Role.CLIENT_VIEWER,
                            tenant_id=acme.id, display_name="Acme Energy (client)")
    james = next(a for a in await admin.list_agents(p, scope) if a.name == "James Carter")
    await seed_care_history(p, scope, care, james.id)


async def _describe(p: Platform, scope: Scope) -> DemoWorld:
    world = DemoWorld(scope)
    agents = await admin.list_agents(p, scope)
    world.simulated_agent_ids = [a.id for a in agents if a.attributes.get("simulated")]
    queues = {q.name: q for q in await admin.list_queues(p, scope)}
    programs = {pr.id: pr for pr in await admin.list_programs(p, scope)}
    world.dispositions_by_queue = {q.id: [d.code for d in programs[q.program_id].dispositions] for q in queues.values()}
    billing = queues["Billing"]
    workflow_id = programs[billing.program_id].default_workflow_id
    world.traffic = [
        QueueTraffic(billing.program_id, None, workflow_id, Channel.VOICE, 9.0,
                     {"language": ["en", "en", "en", "es"], "tier": ["basic", "basic", "gold", "platinum"]}),
        QueueTraffic(queues["Sales chat"].program_id, queues["Sales chat"].id, None, Channel.CHAT, 4.0, {}),
        QueueTraffic(queues["Tech support"].program_id, queues["Tech support"].id, None, Channel.VOICE, 5.0, {}),
        QueueTraffic(queues["Tech email"].program_id, queues["Tech email"].id, None, Channel.EMAIL, 2.0, {},
                     patience_seconds=10_000.0),
    ]
    world.logins = [
        ("supervisor", DEMO_PASSWORD, "supervisor: the console (queues, agents, alerts, chats read-only)"),
        ("admin", DEMO_PASSWORD, "operator admin: everything, the admin pages and the API at /docs"),
        ("maria", DEMO_PASSWORD, "agent (billing, Spanish; customer-care chat and e-mail) — drive her yourself"),
        ("james", DEMO_PASSWORD, "agent (tech support; customer-care chat and e-mail) — not simulated"),
        ("acme-viewer", DEMO_PASSWORD, "client viewer: Acme Energy's queues only"),
    ]
    return world
