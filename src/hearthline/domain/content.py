"""What an agent reads while she works: call scripts, knowledge articles and canned responses.

A **script** guides a conversation step by step. Each step has a text for the agent to say or
do and options that lead to another step (or end the script); the first step is the start. A
program has one script for all its queues and may have one per queue besides.

Texts of scripts and canned responses carry fields such as `{customer.first_name}`, filled in
for the contact at hand by `render` from the map built by `fields_for`. A field that has no
value is left visible as written, so the agent notices and asks instead of reading out a blank.

`search` looks through a program's knowledge articles and its referral directory at once.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NewType

from .errors import InvalidInput
from .ids import OperatorId, ProgramId, QueueId, TenantId
from .referrals import Referral
from .referrals import search as search_referrals

ScriptId = NewType("ScriptId", str)
ArticleId = NewType("ArticleId", str)
CannedResponseId = NewType("CannedResponseId", str)

MAX_STEPS = 100
MAX_OPTIONS = 20
MAX_STEP_TEXT = 5000
MAX_TITLE = 200
MAX_LABEL = 200
MAX_ARTICLE_BODY = 20_000
MAX_TAGS = 20
MAX_TAG = 40
MAX_CANNED_BODY = 10_000
SNIPPET_LENGTH = 200

_STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


# ---- scripts ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScriptOption:
    label: str
    next: str | None = None  # the id of the step it leads to; None ends the script


@dataclass(frozen=True, slots=True)
class ScriptStep:
    id: str
    title: str
    text: str = ""
    options: tuple[ScriptOption, ...] = ()


@dataclass(slots=True)
class Script:
    id: ScriptId
    operator_id: OperatorId
    tenant_id: TenantId
    program_id: ProgramId
    queue_id: QueueId | None  # None: every queue of the program that has no script of its own
    name: str
    steps: tuple[ScriptStep, ...]

    @property
    def start(self) -> str:
        """The id of the first step."""
        return self.steps[0].id


def _length(field: str, value: str, low: int, high: int) -> None:
    if not low <= len(value.strip() if low else value) <= high:
        raise InvalidInput(field, f"must be {low} to {high:,} characters" if low else f"at most {high:,} characters")


def check_script(script: Script) -> Script:
    """A name (1-200 characters) and 1-100 steps with unique slug ids; each step a title (1-200),
    a text of at most 5,000 characters and at most 20 options, each a label (1-200) and a `next`
    that names a step of the script (or None, which ends it). Raises InvalidInput naming the field
    by its path, e.g. `steps[2].options[0].next`."""
    _length("name", script.name, 1, 200)
    if not 1 <= len(script.steps) <= MAX_STEPS:
        raise InvalidInput("steps", f"a script has 1 to {MAX_STEPS} steps")
    ids: set[str] = set()
    for i, step in enumerate(script.steps):
        if not _STEP_ID.match(step.id):
            raise InvalidInput(f"steps[{i}].id", "use lower-case letters, digits, '-' or '_' (1-63 characters)")
        if step.id in ids:
            raise InvalidInput(f"steps[{i}].id", f"duplicate step id: {step.id}")
        ids.add(step.id)
        _length(f"steps[{i}].title", step.title, 1, MAX_TITLE)
        _length(f"steps[{i}].text", step.text, 0, MAX_STEP_TEXT)
        if len(step.options) > MAX_OPTIONS:
            raise InvalidInput(f"steps[{i}].options", f"at most {MAX_OPTIONS} options per step")
        for j, option in enumerate(step.options):
            _length(f"steps[{i}].options[{j}].label", option.label, 1, MAX_LABEL)
    for i, step in enumerate(script.steps):
        for j, option in enumerate(step.options):
            if option.next is not None and option.next not in ids:
                raise InvalidInput(f"steps[{i}].options[{j}].next", f"no step with id {option.next!r}")
    script.name = script.name.strip()
    return script


def steps_to_json(steps: Iterable[ScriptStep]) -> list[dict[str, Any]]:
    return [{"id": s.id, "title": s.title, "text": s.text,
             "options": [{"label": o.label, "next": o.next} for o in s.options]} for s in steps]


def steps_from_json(data: Iterable[Mapping[str, Any]]) -> tuple[ScriptStep, ...]:
    return tuple(ScriptStep(s["id"], s.get("title", ""), s.get("text", ""),
                            tuple(ScriptOption(o["label"], o.get("next")) for o in s.get("options", ())))
                 for s in data)


def render_steps(steps: Iterable[ScriptStep], fields: Mapping[str, str]) -> tuple[ScriptStep, ...]:
    """The steps with their titles, texts and option labels rendered (see `render`)."""
    return tuple(ScriptStep(s.id, render(s.title, fields), render(s.text, fields),
                            tuple(ScriptOption(render(o.label, fields), o.next) for o in s.options))
                 for s in steps)


# ---- fields ---------------------------------------------------------------------------------------
# `{{` and `}}` are literal braces; `{name}` is a field when the name is letters, digits, `_` and dots.
_TOKEN = re.compile(r"\{\{|\}\}|\{([\w.]+)\}")


def render(template: str, fields: Mapping[str, str]) -> str:
    """`template` with each `{field}` replaced by its value in `fields`. A field without a value
    stays as written (braces included); `{{` and `}}` give literal braces; any other brace is
    kept. Never raises."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        value = fields.get(match.group(1))
        return token if value is None else value

    return _TOKEN.sub(replace, template)


def _text(value: Any) -> str | None:
    """A field's value as text: strings as they are, numbers and booleans as JSON writes them,
    lists and objects as compact JSON; None (no value) stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except ValueError:  # a circular structure; cannot come from JSON, but never fail a render
        return str(value)


def _first_and_rest(name: str | None) -> tuple[str | None, str | None]:
    words = (name or "").split()
    if not words:
        return None, None
    return words[0], " ".join(words[1:]) or None


def fields_for(interaction: Mapping[str, Any], customer_record: Mapping[str, Any] | None,
               agent_name: str | None, program_name: str | None) -> dict[str, str]:
    """The fields of one contact, for `render`.

    `interaction` is shaped like the API's interaction (`id`, `channel`, `customer` with `name`,
    `email`, `phone`, and `attributes`); `customer_record` like a row of the customers table
    (`first_name`, `last_name`, `email`, `phone`, `attributes`), or None when the customer is
    not on file. The record wins over what the contact brought; without a record the first and
    last names are taken from the full name. Gives `customer.first_name|last_name|name|email|
    phone`, `interaction.id|reference|channel`, `program.name`, `agent.name|first_name`,
    `attributes.<key>` for each attribute of the contact (IVR, bot or form data) and
    `customer.<key>` for each attribute of the record. Fields without a value are left out."""
    fields: dict[str, str] = {}
    record = customer_record or {}
    for key, value in (record.get("attributes") or {}).items():
        text = _text(value)
        if text is not None:
            fields[f"customer.{key}"] = text
    for key, value in (interaction.get("attributes") or {}).items():
        text = _text(value)
        if text is not None:
            fields[f"attributes.{key}"] = text

    contact = interaction.get("customer") or {}
    derived_first, derived_last = _first_and_rest(contact.get("name"))
    first = record.get("first_name") or derived_first
    last = record.get("last_name") or (None if record.get("first_name") else derived_last)
    full = " ".join(x for x in (record.get("first_name"), record.get("last_name")) if x) or contact.get("name")
    ident = interaction.get("id")
    channel = interaction.get("channel")
    agent_first, _ = _first_and_rest(agent_name)
    standard = {
        "customer.first_name": first, "customer.last_name": last, "customer.name": full,
        "customer.email": record.get("email") or contact.get("email"),
        "customer.phone": record.get("phone") or contact.get("phone"),
        "interaction.id": ident, "interaction.reference": str(ident)[:8].upper() if ident else None,
        "interaction.channel": str(channel) if channel else None,
        "program.name": program_name, "agent.name": agent_name or None, "agent.first_name": agent_first,
    }
    # The standard fields win over an attribute of the record that happens to share a name.
    fields.update({k: str(v) for k, v in standard.items() if v})
    return fields


# ---- knowledge articles and canned responses --------------------------------------------------------
@dataclass(slots=True)
class KnowledgeArticle:
    id: ArticleId
    operator_id: OperatorId
    tenant_id: TenantId
    program_id: ProgramId
    title: str
    body: str
    tags: tuple[str, ...] = ()


def check_article(article: KnowledgeArticle) -> KnowledgeArticle:
    """A title of 1-200 characters, a body of at most 20,000, at most 20 tags of 1-40 characters.
    Returns the article with its title and tags stripped and repeated tags dropped; raises
    InvalidInput naming the field (`tags[3]`)."""
    _length("title", article.title, 1, MAX_TITLE)
    _length("body", article.body, 0, MAX_ARTICLE_BODY)
    if len(article.tags) > MAX_TAGS:
        raise InvalidInput("tags", f"at most {MAX_TAGS} tags")
    tags: list[str] = []
    for i, tag in enumerate(article.tags):
        _length(f"tags[{i}]", tag, 1, MAX_TAG)
        if tag.strip() not in tags:
            tags.append(tag.strip())
    article.title, article.tags = article.title.strip(), tuple(tags)
    return article


@dataclass(slots=True)
class CannedResponse:
    """A prepared answer an agent inserts into a chat or an e-mail, with fields like a script's."""

    id: CannedResponseId
    operator_id: OperatorId
    tenant_id: TenantId
    program_id: ProgramId
    name: str
    body: str


def check_canned(canned: CannedResponse) -> CannedResponse:
    """A name of 1-200 characters and a body of 1-10,000. Raises InvalidInput naming the field."""
    _length("name", canned.name, 1, 200)
    _length("body", canned.body, 1, MAX_CANNED_BODY)
    canned.name = canned.name.strip()
    return canned


# ---- search -------------------------------------------------------------------------------------------
def snippet(text: str, words: list[str], limit: int = SNIPPET_LENGTH) -> str:
    """At most `limit` characters of `text` (whitespace collapsed) around the first place one of
    the lower-case `words` occurs; the beginning of the text when none does. "…" marks a cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    lowered = flat.lower()
    found = [i for i in (lowered.find(w) for w in words) if i >= 0]
    first = min(found, default=0)
    start = max(0, first - limit // 4)
    if start and flat[start - 1] != " ":  # start at a word
        space = flat.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    lead = "…" if start else ""
    room = limit - len(lead)
    body = flat[start:start + room]
    if start + room < len(flat):
        body = body[:room - 1]
        space = body.rfind(" ")
        if space > room // 2:  # end at a word, unless that loses too much
            body = body[:space]
        body = body.rstrip() + "…"
    return lead + body


def search(articles: Iterable[KnowledgeArticle], referrals: Iterable[Referral], query: str) -> list[dict[str, Any]]:
    """Articles and referral entries that contain every word of `query` (case-insensitive,
    anywhere in an article's title, body or tags; in an entry's name or guidance — the
    directory's own search). Ranked: all words in the title (or name) first, then all in title
    and tags, then the rest; alphabetically within a rank. An empty query lists everything.

    Each result: `kind` ("article" or "referral"), `id`, `title`, `snippet` (at most 200
    characters around the first match), and `tags` for an article or `target`, `phone`, `url`
    for a referral."""
    words = query.lower().split()
    ranked: list[tuple[int, str, str, dict[str, Any]]] = []
    for a in articles:
        title, tags = a.title.lower(), " ".join(a.tags).lower()
        everything = f"{title} {a.body.lower()} {tags}"
        if not all(w in everything for w in words):
            continue
        rank = 0 if all(w in title for w in words) else 1 if all(w in f"{title} {tags}" for w in words) else 2
        ranked.append((rank, title, a.id, {"kind": "article", "id": a.id, "title": a.title,
                                           "snippet": snippet(a.body, words), "tags": list(a.tags)}))
    for r in search_referrals(list(referrals), query):
        rank = 0 if all(w in r.name.lower() for w in words) else 2
        ranked.append((rank, r.name.lower(), r.id, {
            "kind": "referral", "id": r.id, "title": r.name, "snippet": snippet(r.when_to_use, words),
            "target": r.target, "phone": r.phone, "url": r.url}))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]
