"""Tests for the routing expression language (hearthline.domain.expressions)."""
from __future__ import annotations

import dataclasses
import enum
import operator
import pickle
from decimal import Decimal
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hearthline.domain.errors import DomainError
from hearthline.domain.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    ExpressionContext,
    InvalidExpression,
    check_expression,
    compile_expression,
)

INTERACTION, AGENT, SKIP = ExpressionContext.INTERACTION, ExpressionContext.AGENT, ExpressionContext.SKIP


def ev(text: str, context: ExpressionContext = INTERACTION, **roots: Any) -> bool:
    result = compile_expression(text, context).evaluate(roots)
    assert type(result) is bool
    return result


def ev_i(text: str, **fields: Any) -> bool:
    """Evaluate in INTERACTION context with ``fields`` as the interaction root."""
    return ev(text, interaction=fields)


def raises_at(text: str, context: ExpressionContext = INTERACTION) -> InvalidExpression:
    with pytest.raises(InvalidExpression) as info:
        compile_expression(text, context)
    err = info.value
    assert err.details["expression"] == text
    assert str(err) == err.message
    return err


# --------------------------------------------------------------------------- the brief's examples

FILTER = 'language == "es" AND tier IN ["gold", "platinum"]'


@pytest.mark.parametrize(
    ("language", "tier", "expected"),
    [("es", "gold", True), ("es", "platinum", True), ("es", "silver", False), ("en", "gold", False),
     (None, "gold", False), ("es", None, False), ("ES", "gold", False)],
)
def test_workflow_filter(language: Any, tier: Any, expected: bool) -> None:
    assert ev_i(FILTER, language=language, tier=tier) is expected


def test_workflow_filter_paths_and_missing_root() -> None:
    assert compile_expression(FILTER).paths == frozenset({"language", "tier"})
    assert ev(FILTER) is False  # no interaction root at all


@pytest.mark.parametrize(
    ("billing", "expected"),
    [(3, True), (4, True), (3.0, True), (2, False), (2.99, False), ("5", False), (True, False), (None, False)],
)
def test_agent_skill_threshold(billing: Any, expected: bool) -> None:
    text = "agent.skills.billing >= 3"
    assert ev(text, AGENT, agent={"skills": {"billing": billing}}) is expected
    # attribute access on plain objects works the same way
    agent = SimpleNamespace(skills=SimpleNamespace(billing=billing))
    assert ev(text, AGENT, agent=agent) is expected


def test_agent_skill_missing() -> None:
    text = "agent.skills.billing >= 3"
    assert ev(text, AGENT, agent={"skills": {"sales": 5}}) is False
    assert ev(text, AGENT, agent={}) is False
    assert ev(text, AGENT) is False


@pytest.mark.parametrize(
    ("languages", "expected"),
    [(["en", "es"], True), (("es",), True), ({"es", "fr"}, True), (frozenset({"es"}), True),
     ({"es": 5}, True), ("es-MX", True), (["en"], False), (["ES"], False), ({"en": 1}, False),
     ("en", False), (None, False), (5, False), ([], False)],
)
def test_agent_languages_has(languages: Any, expected: bool) -> None:
    assert ev('agent.languages HAS "es"', AGENT, agent={"languages": languages}) is expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [({"vip": False, "priority": 3}, True), ({"vip": True, "priority": 3}, False),
     ({"vip": False, "priority": 6}, False), ({"priority": 5}, True), ({}, True), ({"vip": "yes"}, False)],
)
def test_not_vip_or_priority(fields: dict[str, Any], expected: bool) -> None:
    assert ev_i("NOT (vip OR priority > 5)", **fields) is expected


# --------------------------------------------------------------------------- precedence

@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        ("a OR b AND c", {"a": True, "b": False, "c": False}, True),  # a OR (b AND c)
        ("(a OR b) AND c", {"a": True, "b": False, "c": False}, False),
        ("b AND c OR a", {"a": True, "b": False, "c": False}, True),
        ("NOT a AND b", {"a": False, "b": False}, False),  # (NOT a) AND b
        ("NOT (a AND b)", {"a": False, "b": False}, True),
        ("NOT a OR b", {"a": True, "b": True}, True),  # (NOT a) OR b
        ("NOT (a OR b)", {"a": True, "b": True}, False),
        ("NOT a == 1", {"a": 1}, False),  # NOT (a == 1)
        ("NOT a IN [1]", {"a": 2}, True),
        ("NOT NOT a", {"a": 1}, True),
        ("a AND b OR c AND d", {"a": False, "b": True, "c": True, "d": True}, True),
        ("a AND (b OR c) AND d", {"a": True, "b": False, "c": True, "d": False}, False),
        ("vip AND NOT blocked", {"vip": True, "blocked": False}, True),
        ("vip AND NOT blocked", {"vip": True, "blocked": True}, False),
    ],
)
def test_precedence(text: str, fields: dict[str, Any], expected: bool) -> None:
    assert ev_i(text, **fields) is expected


# --------------------------------------------------------------------------- semantics

@pytest.mark.parametrize(
    ("text", "expected"),
    [("missing == null", True), ("missing != null", False), ("missing", False), ("NOT missing", True),
     ("missing > 0", False), ("missing <= 0", False), ("missing < 'a'", False), ("missing IN [null]", True),
     ("missing IN [1]", False), ("missing NOT IN [1]", True), ("missing HAS 'x'", False),
     ("a.b.c.d == null", True), ("a.b.c.d", False), ("customer.tier == null", True)],
)
def test_missing_paths_are_null(text: str, expected: bool) -> None:
    assert ev_i(text, a=1) is expected
    assert ev(text) is expected  # empty environment


@pytest.mark.parametrize(
    ("x", "text", "expected"),
    [
        ("3", "x < 5", False), ("3", "x >= 5", False), (3, "x < '5'", False), (True, "x > 0", False),
        (False, "x < 1", False), (True, "x >= true", False), (None, "x < 1", False), (None, "x >= null", False),
        ([1], "x < [2]", False), ({"a": 1}, "x > 0", False), (object(), "x > 0", False),
        (3, "x < 4.5", True), (4.5, "x > 4", True), (-2, "x > -2.5", True), (Decimal("2.5"), "x < 3", True),
        ("abc", "x < 'abd'", True), ("b", "x > 'a'", True), ("b", "x <= 'b'", True), ("3", "NOT x < 5", True),
    ],
)
def test_ordering_only_between_numbers_or_strings(x: Any, text: str, expected: bool) -> None:
    assert ev_i(text, x=x) is expected


def test_ordering_between_two_paths() -> None:
    assert ev_i("x < y", x=1, y=2.5) is True
    assert ev_i("x < y", x="a", y=1) is False
    assert ev_i("x >= y", x=None, y=None) is False


class Tier(enum.StrEnum):
    GOLD = "gold"


@pytest.mark.parametrize(
    ("x", "text", "expected"),
    [
        (True, "x == 1", False), (1, "x == true", False), (True, "x == true", True), (0, "x != false", True),
        (1, "x == 1.0", True), (1, "x != '1'", True), (None, "x == null", True), (0, "x == null", False),
        (["a", "b"], "x == ['a', 'b']", True), (["a"], "x != ['a']", False),
        (True, "x IN [1, 2]", False), (1, "x IN [true]", False), (True, "x IN [1, true]", True),
        (1, "x IN [1.0]", True), (["a"], "x IN ['a']", False), (["a"], "x NOT IN ['a']", True),
        ({"a": 1}, "x IN ['a']", False), (Tier.GOLD, "x IN ['gold']", True), (Tier.GOLD, "x == 'gold'", True),
        ("x", "x IN []", False), ("x", "x NOT IN []", True),
        ([1, 2], "x HAS 1", True), ([True], "x HAS 1", False), ([1], "x HAS true", False),
        ({1: "a"}, "x HAS 1", True), ("abc", "x HAS 'b'", True), ("abc", "x HAS 1", False),
        ([["a"]], "x HAS ['a']", True), ([Tier.GOLD], "x HAS 'gold'", True),
    ],
)
def test_equality_and_membership(x: Any, text: str, expected: bool) -> None:
    assert ev_i(text, x=x) is expected


def test_has_with_a_path_operand() -> None:
    text = "agent.languages HAS language"
    assert ev(text, AGENT, agent={"languages": ["es", "en"]}, interaction={"language": "es"}) is True
    assert ev(text, AGENT, agent={"languages": ["en"]}, interaction={"language": "es"}) is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("false", False), ("null", False), ("'a'", True), ("''", False), ("[]", False),
     ("[0]", True), ("0", False), ("-1", True), ("1 < 2", True), ("'b' < 'a'", False), ("[1] HAS 1", True),
     ("'abc' HAS 'bc'", True), ("null == null", True)],
)
def test_literal_only_expressions(text: str, expected: bool) -> None:
    assert ev(text) is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [(r'x == "say \"hi\""', 'say "hi"'), (r"x == 'it\'s'", "it's"), (r"x == 'a\\b'", "a\\b"),
     (r'x == "line\nnext"', "line\nnext"), (r"x == 'a\tb'", "a\tb"), ("x == \"it's\"", "it's"),
     ("x == -2", -2), ("x>=-2", -1), ("x == 4.5", 4.5), ("x == 007", 7), ("x == ''", "")],
)
def test_literals_and_escapes(text: str, value: Any) -> None:
    assert ev_i(text, x=value) is True


@pytest.mark.parametrize(
    "text",
    ["language == 'es' and vip", "language == 'es' And vip", "NOT blocked AND vip", "not blocked and vip",
     "vip oR missing", "tier in ['gold']", "tier In ['gold']", "tier not in ['x']", "tier NoT iN ['x']",
     "tags has 'a'", "tags HaS 'a'", "flag == TRUE", "flag == True", "flag != FALSE", "none == NULL",
     "none == Null"],
)
def test_keywords_are_case_insensitive(text: str) -> None:
    fields = {"language": "es", "vip": True, "blocked": False, "tier": "gold", "tags": ["a"], "flag": True}
    assert ev_i(text, **fields) is True


def test_paths_are_case_sensitive() -> None:
    assert ev_i("Language == 'es'", language="es") is False


# --------------------------------------------------------------------------- path resolution

def test_roots_per_context() -> None:
    env = {
        "interaction": {"language": "es", "customer": {"tier": "bronze"}},
        "customer": {"tier": "gold"},
        "agent": {"level": 2},
        "queue": SimpleNamespace(waiting=21),
    }
    for context in ExpressionContext:
        # "customer" is a root everywhere, so it is not read under the interaction
        assert compile_expression("customer.tier == 'gold'", context)(env) is True
        assert compile_expression("interaction.language == 'es'", context)(env) is True
        assert compile_expression("language == 'es'", context)(env) is True
    assert compile_expression("agent.level == 2", AGENT)(env) is True
    assert compile_expression("queue.waiting > 20", SKIP)(env) is True
    assert compile_expression("queue.waiting > 21", SKIP)(env) is False


def test_root_may_be_an_object_or_any_mapping() -> None:
    assert ev("language == 'es'", interaction=SimpleNamespace(language="es")) is True
    assert ev("language == 'es'", interaction=MappingProxyType({"language": "es"})) is True
    assert compile_expression("language == 'es'")(MappingProxyType({"interaction": {"language": "es"}})) is True


def test_private_attributes_are_never_read() -> None:
    agent = SimpleNamespace(_secret=1, skills=SimpleNamespace(_x=2))
    assert ev("agent._secret == null", AGENT, agent=agent) is True
    assert ev("agent.skills._x == null", AGENT, agent=agent) is True
    assert ev("agent.__class__ == null", AGENT, agent=agent) is True
    assert ev("agent.__dict__", AGENT, agent=agent) is False
    # mapping keys are data, not attributes: an underscore is fine there
    assert ev("agent._secret == 1", AGENT, agent={"_secret": 1}) is True


class Hostile:
    """Every hook raises."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __lt__(self, other: object) -> bool:
        raise RuntimeError("lt")

    __gt__ = __le__ = __ge__ = __lt__

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __bool__(self) -> bool:
        raise RuntimeError("bool")

    def __getattr__(self, name: str) -> Any:
        raise ValueError(name)

    def __iter__(self) -> Any:
        raise RuntimeError("iter")

    def __contains__(self, item: object) -> bool:
        raise RuntimeError("contains")


class HostileStr(str):
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    __hash__ = str.__hash__

    def __lt__(self, other: object) -> bool:
        raise RuntimeError("lt")


class HostileMapping(dict):
    def get(self, key: Any, default: Any = None) -> Any:
        raise RuntimeError("get")


@pytest.mark.parametrize(
    "text",
    ["x", "NOT x", "x == 1", "x != 1", "x > 1", "x <= 'a'", "x IN [1, 'a']", "x NOT IN [1]", "x HAS 1",
     "x HAS 'a'", "[1, 2] HAS x", "'abc' HAS x", "x.boom == 1", "x.anything", "list HAS x", "list HAS 'a'",
     "s == 'a'", "s < 'b'", "s IN ['a']", "x == y", "m.key", "NOT m.key == 1"],
)
def test_hostile_environment_never_raises(text: str) -> None:
    fields = {"x": Hostile(), "y": Hostile(), "list": [Hostile()], "s": HostileStr("a"), "m": HostileMapping()}
    assert type(ev_i(text, **fields)) is bool
    expr = compile_expression(text)
    for env in (None, 42, "text", [1, 2], Hostile(), HostileMapping(), {"interaction": Hostile()}):
        assert type(expr.evaluate(env)) is bool  # type: ignore[arg-type]


def test_failed_comparison_is_false_not_negated() -> None:
    assert ev_i("x == 1", x=Hostile()) is False
    assert ev_i("x != 1", x=Hostile()) is False
    assert ev_i("NOT x == 1", x=Hostile()) is True


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("language == ", 12, "expected a value after '==' at position 12"),
        ("a == 'es", 5, "unterminated string at position 5"),
        ('a == "es\\"', 5, "unterminated string at position 5"),
        ('language =~ "es"', 9, "unknown operator '=~' at position 9"),
        ("(a))", 3, "unexpected ')' at position 3"),
        ("", 0, "empty expression"),
        (" \t\n ", 0, "empty expression"),
        ("a AND", 5, "expected a value after 'AND' at position 5"),
        ("a and or b", 6, "expected a value after 'and' at position 6"),
        ("a NOT b", 6, "expected 'IN' after 'NOT' at position 6"),
        ("a IN b", 5, "expected a list after 'IN' at position 5"),
        ("a IN [1, b]", 9, "expected a literal value after ',' at position 9"),
        ("a IN [[1]]", 6, "expected a literal value after '[' at position 6"),
        ("a IN [1 2]", 8, "expected ',' or ']' but found '2' at position 8"),
        ("a IN [1,", 8, "expected a literal value after ',' at position 8"),
        ("(a == 1", 7, "expected ')' but found end of expression at position 7"),
        ("(a b)", 3, "expected ')' but found 'b' at position 3"),
        ("customer. == 1", 9, "expected a name after '.' at position 9"),
        ("x == 3abc", 5, "invalid number '3abc' at position 5"),
        ("x == 1.", 5, "invalid number '1.' at position 5"),
        ("x = 1", 2, "unknown operator '=' at position 2"),
        ("x == 1 && y", 7, "unknown operator '&&' at position 7"),
        ("x - 1", 2, "unknown operator '-' at position 2"),
        ("x @ y", 2, "unexpected character '@' at position 2"),
        ('x == "a\\q"', 7, "unknown escape '\\q' in string at position 7"),
        ("x == 1 y", 7, "unexpected 'y' at position 7"),
        ("a == 1 == 2", 7, "unexpected '==' at position 7"),
        ("(a) == 1", 4, "unexpected '==' at position 4"),
        ("== 1", 0, "expected a value at position 0"),
        ("()", 1, "expected a value after '(' at position 1"),
        ("NOT", 3, "expected a value after 'NOT' at position 3"),
        ("true.x", 0, "a path cannot start with the keyword 'true' at position 0"),
        ("__import__('os')", 10, "unexpected '(' at position 10"),
    ],
)
def test_syntax_errors_name_the_position(text: str, position: int, message: str) -> None:
    err = raises_at(text)
    assert err.details["position"] == position
    assert err.message == message


def test_invalid_expression_is_a_domain_error() -> None:
    err = raises_at("a ==")
    assert isinstance(err, DomainError)
    assert err.code == InvalidExpression.code == "invalid-expression"
    assert err.details == {"position": 4, "expression": "a =="}


@pytest.mark.parametrize(
    ("text", "context", "position", "root"),
    [
        ("agent.skills.x > 1", INTERACTION, 0, "agent"),
        ("language == 'es' AND agent.skills.x > 1", INTERACTION, 21, "agent"),
        ("agent", INTERACTION, 0, "agent"),
        ("agent.x == 1", SKIP, 0, "agent"),
        ("queue.waiting > 20", INTERACTION, 0, "queue"),
        ("vip OR queue.waiting > 20", AGENT, 7, "queue"),
        ("x HAS queue.name", AGENT, 6, "queue"),
    ],
)
def test_context_violations(text: str, context: ExpressionContext, position: int, root: str) -> None:
    err = raises_at(text, context)
    assert err.details["position"] == position
    assert err.message == f"{root} attributes are not available here at position {position}"


@pytest.mark.parametrize(
    ("text", "contexts"),
    [("agent.skills.billing >= 3", {AGENT}), ("queue.waiting > 20", {SKIP}),
     ("customer.tier == 'gold'", {INTERACTION, AGENT, SKIP}), ("interaction.x", {INTERACTION, AGENT, SKIP})],
)
def test_roots_allowed_only_in_their_contexts(text: str, contexts: set[ExpressionContext]) -> None:
    for context in ExpressionContext:
        if context in contexts:
            assert check_expression(text, context) is None
        else:
            raises_at(text, context)


def test_depth_limit() -> None:
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert ev_i(ok, a=True) is True
    err = raises_at("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    assert err.details["position"] == MAX_DEPTH
    assert "nested too deeply" in err.message
    assert ev_i("NOT " * MAX_DEPTH + "a", a=True) is True  # 50 NOTs: even
    assert raises_at("NOT " * (MAX_DEPTH + 1) + "a").details["position"] == 4 * MAX_DEPTH
    assert ev_i("NOT (" * (MAX_DEPTH // 2) + "a" + ")" * (MAX_DEPTH // 2), a=False) is True  # 25 NOTs
    raises_at("NOT (" * (MAX_DEPTH // 2) + "NOT a" + ")" * (MAX_DEPTH // 2))


@pytest.mark.parametrize("text", ["(" * MAX_LENGTH, "NOT " * 499 + "a", "[" * MAX_LENGTH, "(" * 999 + ")" * 999])
def test_pathological_nesting_is_an_error_not_a_crash(text: str) -> None:
    raises_at(text)


def test_length_limit() -> None:
    ok = "a == '" + "x" * (MAX_LENGTH - 7) + "'"
    assert len(ok) == MAX_LENGTH
    assert ev_i(ok, a="x" * (MAX_LENGTH - 7)) is True
    err = raises_at(ok + " ")
    assert err.details["position"] == MAX_LENGTH
    assert err.message == f"expression longer than {MAX_LENGTH} characters at position {MAX_LENGTH}"


def test_long_flat_chains_evaluate() -> None:
    text = " OR ".join(["a"] * 399) + " OR b"
    assert len(text) <= MAX_LENGTH
    assert ev_i(text, a=False, b=True) is True
    assert ev_i(text, a=False, b=False) is False
    assert ev_i(" AND ".join(["a"] * 300), a=1) is True


# --------------------------------------------------------------------------- API

def test_expression_equality_hash_and_identity_of_source() -> None:
    text = "tier IN ['gold'] AND vip"
    a, b = compile_expression(text), Expression(text)
    assert a == b and hash(a) == hash(b)
    assert compile_expression(text, AGENT) != a
    assert compile_expression(text + " ") != a
    assert len({a, b, compile_expression(text, "agent")}) == 2
    assert a.source == text and a.context is INTERACTION
    assert compile_expression(text, "skip").context is SKIP


def test_expression_is_immutable_and_picklable() -> None:
    expr = compile_expression("agent.skills.billing >= 3", AGENT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        expr.source = "true"  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(expr))
    assert copy == expr and copy.paths == expr.paths
    assert copy({"agent": {"skills": {"billing": 3}}}) is True


def test_paths_as_written() -> None:
    expr = compile_expression("customer.tier == 'gold' AND agent.skills.billing > 2 OR language", AGENT)
    assert expr.paths == frozenset({"customer.tier", "agent.skills.billing", "language"})
    assert compile_expression("1 == 1").paths == frozenset()


def test_call_is_evaluate() -> None:
    expr = compile_expression("x > 1")
    for env in ({"interaction": {"x": 2}}, {"interaction": {"x": 0}}, {}):
        assert expr(env) is expr.evaluate(env)


def test_check_expression() -> None:
    assert check_expression("a == 1") is None
    with pytest.raises(InvalidExpression):
        check_expression("a ==")
    with pytest.raises(InvalidExpression):
        check_expression("queue.x", INTERACTION)


@pytest.mark.parametrize("value", [None, 42, b"a == 1", ["a"]])
def test_non_string_source_is_invalid(value: Any) -> None:
    with pytest.raises(InvalidExpression):
        compile_expression(value)


# --------------------------------------------------------------------------- property tests

ALLOWED_ROOTS = {  # the spec, restated independently of the module
    INTERACTION: ("interaction", "customer"),
    AGENT: ("agent", "interaction", "customer"),
    SKIP: ("interaction", "customer", "queue"),
}
NAMES = ("language", "tier", "vip", "score", "tags", "skills")
OPS = ("==", "!=", "<", "<=", ">", ">=")
STRING_ALPHABET = "ab'\"\\\n\t"  # shared by literals and data, so that they sometimes match

TOKEN_SOUP = st.builds(
    lambda parts, sep: sep.join(parts),
    st.lists(st.sampled_from(
        ["a", "b.c", "agent.x", "queue.y", "customer.z", "(", ")", "[", "]", ",", "==", "!=", "<", ">=",
         "=", "=~", "AND", "or", "NOT", "in", "HAS", "true", "null", "1", "-2", "4.5", "3x", '"s"', "'t'",
         '"', "\\", ".", " ", "@", "-", "\n"]), max_size=30),
    st.sampled_from(["", " "]),
)


@settings(deadline=None, max_examples=300)
@given(text=st.text(max_size=60) | TOKEN_SOUP, context=st.sampled_from(list(ExpressionContext)))
def test_compile_returns_an_expression_or_raises_invalid_expression(text: str, context: ExpressionContext) -> None:
    try:
        expr = compile_expression(text, context)
    except InvalidExpression as err:
        assert 0 <= err.details["position"] <= len(text)
        assert err.details["expression"] == text
    else:
        assert isinstance(expr, Expression)
        assert type(expr.evaluate({})) is bool


def quote(value: str, mark: str) -> str:
    body = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace(mark, "\\" + mark)
    return mark + body + mark


# Tree nodes: ("path", segments) | ("lit", value, text) | ("list", [lit...]) are operands;
# ("cmp", op, left, right) | ("in", operand, list, negated) | ("has", left, right) | ("truth", operand)
# are conditions; ("not", x) | ("and", x, y) | ("or", x, y) | ("group", x) combine them.
SCALAR_LITS = st.one_of(
    st.builds(lambda s, q: ("lit", s, quote(s, q)), st.text(STRING_ALPHABET, max_size=2), st.sampled_from("\"'")),
    st.integers(-3, 3).map(lambda i: ("lit", i, str(i))),
    st.sampled_from(["1.5", "-2.25", "3.0", "0.0"]).map(lambda t: ("lit", float(t), t)),
    st.sampled_from([("lit", True, "true"), ("lit", False, "false"), ("lit", None, "null")]),
)
LIST_LITS = st.lists(SCALAR_LITS, max_size=3).map(lambda items: ("list", items))


def path_nodes(context: ExpressionContext) -> st.SearchStrategy[tuple[Any, ...]]:
    bare = st.lists(st.sampled_from(NAMES), min_size=1, max_size=2).map(tuple)
    rooted = st.builds(
        lambda root, rest: (root, *rest),
        st.sampled_from(sorted(ALLOWED_ROOTS[context])),
        st.lists(st.sampled_from(NAMES), max_size=2),
    )
    return st.one_of(bare, rooted).map(lambda segments: ("path", segments))


def trees(context: ExpressionContext) -> st.SearchStrategy[tuple[Any, ...]]:
    operand = st.one_of(path_nodes(context), SCALAR_LITS, LIST_LITS)
    leaf = st.one_of(
        st.tuples(st.just("cmp"), st.sampled_from(OPS), operand, operand),
        st.tuples(st.just("in"), operand, LIST_LITS, st.booleans()),
        st.tuples(st.just("has"), operand, operand),
        st.tuples(st.just("truth"), operand),
    )
    return st.recursive(
        leaf,
        lambda kids: st.one_of(
            st.tuples(st.just("not"), kids), st.tuples(st.just("group"), kids),
            st.tuples(st.just("and"), kids, kids), st.tuples(st.just("or"), kids, kids),
        ),
        max_leaves=8,
    )


CASES = st.sampled_from([str.upper, str.lower, str.capitalize])
PRECEDENCE = {"or": 1, "and": 2, "not": 3}


def render_operand(node: tuple[Any, ...], case: Any) -> str:
    if node[0] == "path":
        return ".".join(node[1])
    if node[0] == "list":
        return "[" + ", ".join(render_operand(item, case) for item in node[1]) + "]"
    return case(node[2]) if node[1] is None or isinstance(node[1], bool) else node[2]


def render(node: tuple[Any, ...], case: Any) -> str:
    """Source text with only the parentheses precedence needs (plus explicit groups)."""
    kind = node[0]

    def child(sub: tuple[Any, ...], least: int) -> str:
        text = render(sub, case)
        return f"({text})" if PRECEDENCE.get(sub[0], 4) < least else text

    if kind in ("or", "and"):
        return f"{child(node[1], PRECEDENCE[kind])} {case(kind)} {child(node[2], PRECEDENCE[kind])}"
    if kind == "not":
        return f"{case('not')} {child(node[1], 3)}"
    if kind == "group":
        return f"({render(node[1], case)})"
    if kind == "cmp":
        return f"{render_operand(node[2], case)} {node[1]} {render_operand(node[3], case)}"
    if kind == "in":
        keyword = case("not in") if node[3] else case("in")
        return f"{render_operand(node[1], case)} {keyword} {render_operand(node[2], case)}"
    if kind == "has":
        return f"{render_operand(node[1], case)} {case('has')} {render_operand(node[2], case)}"
    return render_operand(node[1], case)


def nesting(node: tuple[Any, ...]) -> int:
    """An upper bound of the parser's nesting depth (NOT and parentheses) for render(node)."""
    if node[0] in ("not", "group", "and", "or"):
        return 2 + max(nesting(sub) for sub in node[1:])
    return 0


def tree_paths(node: Any) -> set[str]:
    if isinstance(node, tuple) and node and node[0] == "path":
        return {".".join(node[1])}
    if isinstance(node, (tuple, list)):
        return set().union(*(tree_paths(sub) for sub in node)) if node else set()
    return set()


def ref_lookup(env: dict[str, Any], segments: tuple[str, ...], context: ExpressionContext) -> Any:
    if segments[0] in ALLOWED_ROOTS[context]:
        value, rest = env.get(segments[0]), segments[1:]
    else:
        value, rest = env.get("interaction"), segments
    for name in rest:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def ref_value(node: tuple[Any, ...], env: dict[str, Any], context: ExpressionContext) -> Any:
    if node[0] == "path":
        return ref_lookup(env, node[1], context)
    if node[0] == "list":
        return [item[1] for item in node[1]]
    return node[1]


def ref_eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def ref_ordered(op: str, a: Any, b: Any) -> bool:
    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if not ((number(a) and number(b)) or (isinstance(a, str) and isinstance(b, str))):
        return False
    return {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op](a, b)


def ref_has(collection: Any, value: Any) -> bool:
    if isinstance(collection, str):
        return isinstance(value, str) and value in collection
    if isinstance(collection, (list, dict)):
        return any(ref_eq(item, value) for item in collection)
    return False


def ref_eval(node: tuple[Any, ...], env: dict[str, Any], context: ExpressionContext) -> bool:
    """A deliberately naive evaluator of the spec, over the generator's own tree."""
    kind = node[0]
    if kind == "or":
        return ref_eval(node[1], env, context) or ref_eval(node[2], env, context)
    if kind == "and":
        return ref_eval(node[1], env, context) and ref_eval(node[2], env, context)
    if kind == "not":
        return not ref_eval(node[1], env, context)
    if kind == "group":
        return ref_eval(node[1], env, context)
    if kind == "truth":
        return bool(ref_value(node[1], env, context))
    if kind == "in":
        value = ref_value(node[1], env, context)
        found = any(ref_eq(value, item[1]) for item in node[2][1])
        return found != node[3]
    left, right = ref_value(node[-2], env, context), ref_value(node[-1], env, context)
    if kind == "has":
        return ref_has(left, right)
    if node[1] == "==":
        return ref_eq(left, right)
    if node[1] == "!=":
        return not ref_eq(left, right)
    return ref_ordered(node[1], left, right)


SMALL_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.5, -2.25, 3.0, 0.0, float("nan")]),
    st.text(STRING_ALPHABET, max_size=2),
)
SMALL_VALUES = st.recursive(
    SMALL_SCALARS,
    lambda kids: st.lists(kids, max_size=2) | st.dictionaries(st.sampled_from(NAMES), kids, max_size=2),
    max_leaves=3,
)
# dense roots, so that generated paths usually resolve to something
SMALL_ROOT = st.fixed_dictionaries({name: SMALL_VALUES for name in NAMES})
SMALL_ENVS = st.fixed_dictionaries({root: SMALL_ROOT for root in ("interaction", "customer", "agent", "queue")})
CASED_TREES = st.one_of(  # strategies built once per context: flatmap would rebuild them per example
    [st.tuples(st.just(context), trees(context), CASES) for context in ExpressionContext]
)


@settings(deadline=None, max_examples=150)
@given(case=CASED_TREES, env=SMALL_ENVS)
def test_generated_expressions_match_reference_evaluator(case: Any, env: dict[str, Any]) -> None:
    context, tree, keyword_case = case
    assume(nesting(tree) <= MAX_DEPTH)
    text = render(tree, keyword_case)
    expr = compile_expression(text, context)
    assert expr.paths == frozenset(tree_paths(tree))
    result = expr.evaluate(env)
    assert type(result) is bool
    assert result is ref_eval(tree, env, context), text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=4)
    | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=5), kids, max_size=4),
    max_leaves=10,
)
JSON_ENVS = st.dictionaries(st.sampled_from(["interaction", "customer", "agent", "queue"]) | st.text(max_size=5), JSON)


@settings(deadline=None, max_examples=150)
@given(case=CASED_TREES, env=JSON_ENVS)
def test_evaluation_on_arbitrary_json_returns_a_bool(case: Any, env: dict[str, Any]) -> None:
    context, tree, keyword_case = case
    assume(nesting(tree) <= MAX_DEPTH)
    expr = compile_expression(render(tree, keyword_case), context)
    assert type(expr.evaluate(env)) is bool
    assert type(expr(env)) is bool
