"""The demo's customer-care desk: where a newcomer plays the customer.

Acme Energy's "customer care" program takes web chat (its widget is on /try-chat/<program>) and
e-mail. Its queues need the skill `care`, which only the three agents people drive have (Maria,
James, Aisha) — so a chat started in the widget reaches a person at a desk, not a simulated agent.
It comes with what the desk shows: customer records with history, a branching script, knowledge
articles, canned responses and the referral directory.
"""
from __future__ import annotations

from typing import Any

from ..domain.content import CannedResponse, KnowledgeArticle, Script, ScriptOption, ScriptStep
from ..domain.agents import Presence
from ..domain.organization import Disposition, Program, Role, Scope, SkillDefinition
from ..domain.queues import Queue
from ..domain.referrals import Referral
from ..domain.workflows import Target, Workflow
from ..domain.conversations import Sender
from ..domain.interactions import Channel, Customer
from . import admin, content, customers
from . import conversations as talk
from . import interactions as work

CARE_SKILL = "care"

CUSTOMERS = [  # first, last, e-mail, phone, customer no., attributes
    ("Dana", "Smith", "dana.smith@example.com", "+15125550101", "AC-10042",
     {"plan": "Green Saver 12", "meter": "E-778210", "balance_due": "$182.40", "autopay": "no"}),
    ("Luis", "Ortega", "luis.ortega@example.com", "+15125550102", "AC-10077",
     {"plan": "Fixed 24", "meter": "E-901133", "balance_due": "$0.00", "autopay": "yes"}),
]

SCRIPT = Script("", "", "", "", None, "Web chat — first reply", (  # type: ignore[arg-type]
    ScriptStep("greet", "Greet", "Hi {customer.first_name}, thanks for contacting Acme Energy — I'm "
               "{agent.first_name}. Let me look at your account.", (
                   ScriptOption("A bill looks wrong", "bill"), ScriptOption("Moving house", "move"),
                   ScriptOption("Cannot pay this month", "hardship"))),
    ScriptStep("bill", "A bill looks wrong", "Ask for today's meter reading and compare it with the bill's. "
               "An estimated bill (marked E) is corrected from an actual reading.", (
                   ScriptOption("Reading differs: correct the bill", "close"),
                   ScriptOption("Reading matches: explain usage", "close"))),
    ScriptStep("move", "Moving house", "Ask for the moving date and the new address; offer to move the "
               "contract. Final reading on the moving day.", (ScriptOption("Done", "close"),)),
    ScriptStep("hardship", "Cannot pay", "Acknowledge it — this is stressful. Offer a payment plan; if it "
               "is not enough, refer to the Energy Assistance Fund.", (ScriptOption("Done", "close"),)),
    ScriptStep("close", "Close", "Is there anything else I can help you with today, {customer.first_name}?", ()),
))

ARTICLES = [
    ("Reading your meter", "Digital meters show the reading on the display; press the button once for "
     "the day rate. Bills marked E are estimated and corrected from the next actual reading.",
     ("meter", "bill")),
    ("Payment plans", "Any customer with a balance over $50 can spread it over 3 to 12 months, no fee. "
     "Agents can set it up; a plan over 12 months needs a supervisor.", ("payment", "bill", "hardship")),
    ("Moving house", "Give us the moving date and new address at least 5 days ahead. We take a final "
     "reading on the day and move the contract, or close it.", ("move", "contract")),
    ("Why is my bill higher?", "Usual causes: an estimated reading, colder weather, a price change at "
     "renewal, or a missed autopay adding a late fee.", ("bill",)),
]

CANNED = [
    ("Greeting", "Hi {customer.first_name}, thanks for getting in touch with Acme Energy. I'm "
     "{agent.first_name} and I'll help you with this."),
    ("Payment plan offer", "We can spread your balance over up to 12 months at no extra cost. Would you "
     "like me to set that up for you?"),
    ("Closing", "Thanks for contacting Acme Energy, {customer.first_name}. Your reference is "
     "{interaction.reference}. Have a good day!"),
]


async def seed_care(p, scope: Scope, tenant_id: str) -> Program:  # type: ignore[no-untyped-def]
    """Create the customer-care program with its queues, workflow and content; returns it."""
    await admin.put_skill(p, scope, SkillDefinition(CARE_SKILL, "customer care: web chat and e-mail"))
    program = await admin.create_program(p, scope, tenant_id, "Acme Energy — customer care")
    chat = await admin.create_queue(p, scope, Queue("", "", "", program.id, "Web chat", skills={CARE_SKILL: 1},
                                                    service_level_seconds=60, default_handle_seconds=240))
    await admin.create_queue(p, scope, Queue("", "", "", program.id, "Care email", skills={CARE_SKILL: 1},
                                             service_level_seconds=3600, max_asa_seconds=1800,
                                             max_ewt_seconds=3600, default_handle_seconds=300))
    workflow = await admin.create_workflow(p, scope, Workflow("", "", "", program.id, "Care intake", routes=(),
                                                              default_target=Target(chat.id)))
    await admin.update_program(p, scope, program.id, default_workflow_id=workflow.id, dispositions=(
        Disposition("resolved", "Resolved"), Disposition("payment-arranged", "Payment arranged"),
        Disposition("referred", "Referred"), Disposition("follow-up", "Needs follow-up")))
    await content.create_script(p, scope, Script("", "", "", program.id, None, SCRIPT.name, SCRIPT.steps))
    for title, body, tags in ARTICLES:
        await content.create_article(p, scope, KnowledgeArticle("", "", "", program.id, title, body, tags))
    for name, body in CANNED:
        await content.create_canned(p, scope, CannedResponse("", "", "", program.id, name, body))
    await admin.create_referral(p, scope, Referral("", "", "", program.id, "Energy Assistance Fund",
                                                   "+1 800 555 0100", "https://aid.example.org",
                                                   "the customer cannot pay this month's bill"))
    for first, last, email, phone, number, attributes in CUSTOMERS:
        await customers.create_customer(p, scope, tenant_id, first_name=first, last_name=last, email=email,
                                        phone=phone, external_id=number, attributes=attributes)
    return program


async def seed_care_history(p, scope: Scope, program: Program, agent_id: str) -> None:  # type: ignore[no-untyped-def]
    """Dana's past: an e-mail answered and completed by `agent_id` (so her chat shows history),
    and a new e-mail of hers waiting for the care desk."""
    email_queue = next(q for q in await admin.list_queues(p, scope, program.id) if q.name == "Care email")
    dana = Customer(name="Dana Smith", email=CUSTOMERS[0][2])
    agent = Scope(scope.operator_id, role=Role.AGENT, agent_id=agent_id)

    async def mail(subject: str, text: str) -> Any:
        made = await work.create_interaction(p, scope, work.NewInteraction(
            program.id, Channel.EMAIL, customer=dana, queue_id=email_queue.id, attributes={"subject": subject}))
        await talk.add_message(p, made, Sender.CUSTOMER, text, email={
            "subject": subject, "from": {"address": dana.email, "name": dana.name},
            "to": [{"address": "help@acme-energy.example", "name": None}],
            "message_id": f"<{made.id}@mail.example.com>"})
        return made

    await work.set_agent_state(p, scope, agent_id, Presence.AVAILABLE, None)
    first = await mail("Meter reading", "Hello, my meter reads 4410 today, please use it for my next bill.")
    offer = next(o for o in await work.list_offers(p, scope, agent_id) if o["interaction_id"] == first.id)
    await work.accept_offer(p, scope, agent_id, offer["id"])
    await talk.post_agent_message(p, agent, first.id, "Thanks Dana, 4410 is on file for your next bill.")
    await work.end(p, scope, first.id)
    await work.complete(p, scope, first.id, disposition="resolved", notes="Reading 4410 entered.")
    await work.set_agent_state(p, scope, agent_id, Presence.OFFLINE, None)
    await mail("Billed twice?", "Hi, I think I was charged twice for October. Can you check? Account AC-10042. "
               "Thanks, Dana")
