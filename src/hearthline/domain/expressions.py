"""A small, safe boolean expression language for routing workflows.

Workflows use it for route filters (``language == "es" AND tier IN ["gold", "platinum"]``),
target agent expressions (``agent.skills.billing >= 3``) and skip-if conditions
(``queue.waiting > 20``). Source text is tokenised and parsed by hand into a tree of Python
closures; nothing is ever handed to eval/exec/compile, and evaluation reads data only.

Grammar (keywords are case-insensitive; NOT binds tighter than AND, AND tighter than OR)::

    expression := or
    or         := and ("OR" and)*
    and        := not ("AND" not)*
    not        := "NOT" not | "(" expression ")" | condition
    condition  := operand [ ("==" | "!=" | "<" | "<=" | ">" | ">=") operand
                          | ["NOT"] "IN" list
                          | "HAS" operand ]          -- a bare operand is truth-tested
    operand    := path | literal | list
    list       := "[" [literal ("," literal)*] "]"
    literal    := string | number | "true" | "false" | "null"
    path       := name ("." name)*                   -- name is [A-Za-z_][A-Za-z0-9_]*

Strings take double or single quotes with the escapes \\" \\' \\\\ \\n \\t; numbers are
``3``, ``-2`` or ``4.5``. Sources are limited to MAX_LENGTH characters and MAX_DEPTH levels of
parentheses/NOT. Any violation raises InvalidExpression at compile time, with the 0-based
``position`` of the problem and the ``expression`` text in its details.

Evaluation never raises and always returns a bool: a missing path is None (null), ``==``/``!=``
compare normally (a bool only equals a bool), IN/HAS use that same equality, ordering
(``< <= > >=``) holds only between two numbers (int/float/Decimal/Fraction, not bool) or two
strings, and any comparison whose operands misbehave (raising __eq__, __bool__, ...) is False.
"""
from __future__ import annotations

import enum
import functools
import operator
import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from .errors import DomainError

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "Expression", "ExpressionContext", "InvalidExpression",
           "check_expression", "compile_expression"]

MAX_LENGTH = 2000
MAX_DEPTH = 50
DEFAULT_ROOT = "interaction"
RESERVED_ROOTS = frozenset({"agent", "queue"})

Env = Mapping[str, Any]
Getter = Callable[[Env], Any]
Predicate = Callable[[Env], bool]


class ExpressionContext(enum.StrEnum):
    """Where an expression is used; decides which roots its paths may name."""

    INTERACTION = "interaction"  # workflow filters
    AGENT = "agent"  # target agent expressions, evaluated per candidate agent
    SKIP = "skip"  # skip-if conditions over the queue's live numbers


_ROOTS = {  # the roots a path's first segment may select, per context
    ExpressionContext.INTERACTION: frozenset({"interaction", "customer"}),
    ExpressionContext.AGENT: frozenset({"agent", "interaction", "customer"}),
    ExpressionContext.SKIP: frozenset({"interaction", "customer", "queue"}),
}


class InvalidExpression(DomainError):
    """The source text is not a valid expression for its context.

    ``details`` holds ``position`` (0-based offset of the problem) and ``expression``."""

    code = "invalid-expression"


def _error(text: str, message: str, position: int) -> InvalidExpression:
    return InvalidExpression(f"{message} at position {position}", position=position, expression=text)


# --------------------------------------------------------------------------- tokens

class _Token(NamedTuple):
    kind: str  # "str" "num" "path" "kw" "op" "(" ")" "[" "]" "," "eof"
    value: Any  # literal value, keyword (upper case), operator, or path segments
    pos: int
    text: str  # as written


_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "HAS", "TRUE", "FALSE", "NULL"})
_CONSTANTS = {"TRUE": True, "FALSE": False, "NULL": None}
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t"}
_ESCAPE_RE = re.compile(r"\\([\s\S])")
_TOKEN_RE = re.compile(
    r"""(?P<space>\s+)
    | (?P<num>-?[0-9]+(?:\.[0-9]+)?)(?P<num_tail>[A-Za-z0-9_.]*)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?P<dot>\.?)
    | (?P<str>"(?:[^"\\]|\\[\s\S])*"|'(?:[^'\\]|\\[\s\S])*')
    | (?P<quote>["'])
    | (?P<op>(?:[=!<>~&|^%*+/]|-(?![0-9]))+)
    | (?P<punct>[()\[\],])""",
    re.VERBOSE,
)


def _unescape(text: str, pos: int, raw: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped = _ESCAPES.get(match.group(1))
        if escaped is None:
            message = f"unknown escape '\\{match.group(1)}' in string"
            raise _error(text, message, pos + 1 + match.start())
        return escaped

    return _ESCAPE_RE.sub(replace, raw[1:-1])


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        match = _TOKEN_RE.match(text, i)
        if match is None:
            raise _error(text, f"unexpected character {text[i]!r}", i)
        start, i, raw = i, match.end(), match.group()
        if match["space"]:
            continue
        if match["num"] is not None:
            if match["num_tail"]:
                raise _error(text, f"invalid number '{raw}'", start)
            tokens.append(_Token("num", float(raw) if "." in raw else int(raw), start, raw))
        elif match["name"] is not None:
            if match["dot"]:
                raise _error(text, "expected a name after '.'", i)
            segments = tuple(raw.split("."))
            if segments[0].upper() not in _KEYWORDS:
                tokens.append(_Token("path", segments, start, raw))
            elif len(segments) == 1:
                tokens.append(_Token("kw", raw.upper(), start, raw))
            else:
                raise _error(text, f"a path cannot start with the keyword '{segments[0]}'", start)
        elif match["str"] is not None:
            tokens.append(_Token("str", _unescape(text, start, raw), start, raw))
        elif match["quote"]:
            raise _error(text, "unterminated string", start)
        elif match["op"]:
            if raw not in _COMPARISONS:
                raise _error(text, f"unknown operator '{raw}'", start)
            tokens.append(_Token("op", raw, start, raw))
        else:
            tokens.append(_Token(raw, raw, start, raw))
    tokens.append(_Token("eof", None, n, ""))
    return tokens


def _describe(token: _Token) -> str:
    if token.kind == "eof":
        return "end of expression"
    text = token.text if len(token.text) <= 24 else token.text[:21] + "..."
    return f"'{text}'"


# --------------------------------------------------------------------------- semantics

_STR, _NUM = "str", "num"
_NUMBER_TYPES = (int, float, Decimal, Fraction)


def _kind(value: Any) -> str | None:
    """_NUM, _STR or None (not orderable); bools are not numbers."""
    if type(value) is bool:
        return None
    if isinstance(value, str):
        return _STR
    if isinstance(value, _NUMBER_TYPES):
        return _NUM
    return None


def _eq(a: Any, b: Any) -> bool:
    if type(a) is bool or type(b) is bool:
        return a is b
    return bool(a == b)


def _ordered(compare: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    def test(a: Any, b: Any) -> bool:
        kind = _kind(a)
        return kind is not None and kind == _kind(b) and bool(compare(a, b))

    return test


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _eq,
    "!=": lambda a, b: not _eq(a, b),
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
}


def _has(collection: Any, value: Any) -> bool:
    """A list/tuple/set holds value, a mapping has it as a key, a string contains it."""
    if isinstance(collection, str):
        return isinstance(value, str) and value in collection
    if isinstance(collection, (list, tuple, AbstractSet, Mapping)):
        if type(value) is str:  # fast path: a str never equals a bool
            return value in collection
        return any(_eq(item, value) for item in collection)
    return False


# --------------------------------------------------------------------------- closures

def _path_getter(segments: tuple[str, ...]) -> Getter:
    def get(env: Env) -> Any:
        obj: Any = env
        for seg in segments:
            if type(obj) is dict:
                obj = obj.get(seg)
            elif obj is None:
                return None
            elif isinstance(obj, Mapping):
                obj = obj.get(seg)
            elif seg[0] == "_":
                return None
            else:
                obj = getattr(obj, seg, None)
        return obj

    return get


def _constant(value: Any) -> Getter:
    return lambda env: value


def _leaf(test: Callable[..., bool], *getters: Getter) -> Predicate:
    """A condition: ``test`` applied to the operands' values; False if anything raises."""
    if len(getters) == 1:
        (get,) = getters

        def unary(env: Env) -> bool:
            try:
                return test(get(env))
            except Exception:
                return False

        return unary
    lget, rget = getters

    def binary(env: Env) -> bool:
        try:
            return test(lget(env), rget(env))
        except Exception:
            return False

    return binary


def _member_test(items: list[Any], negate: bool) -> Callable[[Any], bool]:
    bools = tuple(item for item in items if type(item) is bool)
    others = frozenset(item for item in items if type(item) is not bool)

    def test(value: Any) -> bool:
        if value is True or value is False:
            hit = value in bools
        else:
            try:
                hit = value in others
            except TypeError:  # unhashable: compare one by one
                hit = any(_eq(value, item) for item in others)
        return hit is not negate

    return test


def _chain(parts: list[Predicate], stop: bool) -> Predicate:
    """AND (stop=False) or OR (stop=True) of ``parts``, short-circuiting on ``stop``."""
    if len(parts) == 1:
        return parts[0]
    preds = tuple(parts)

    def chain(env: Env) -> bool:
        for pred in preds:
            if pred(env) is stop:
                return stop
        return not stop

    return chain


# --------------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, text: str, context: ExpressionContext) -> None:
        self.text = text
        self.roots = _ROOTS[context]
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.paths: set[str] = set()

    def _peek(self) -> _Token:
        return self.tokens[self.i]

    def _is_kw(self, word: str) -> bool:
        token = self.tokens[self.i]
        return token.kind == "kw" and token.value == word

    def _expected(self, what: str) -> InvalidExpression:
        found = self._peek()
        after = f" after {_describe(self.tokens[self.i - 1])}" if self.i else ""
        return _error(self.text, f"expected {what}{after}", found.pos)

    def _enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _error(self.text, f"expression nested too deeply (max {MAX_DEPTH} levels)", token.pos)

    def parse(self) -> Predicate:
        predicate = self._parse_or()
        token = self._peek()
        if token.kind != "eof":
            raise _error(self.text, f"unexpected {_describe(token)}", token.pos)
        return predicate

    def _parse_or(self) -> Predicate:
        parts = [self._parse_and()]
        while self._is_kw("OR"):
            self.i += 1
            parts.append(self._parse_and())
        return _chain(parts, stop=True)

    def _parse_and(self) -> Predicate:
        parts = [self._parse_not()]
        while self._is_kw("AND"):
            self.i += 1
            parts.append(self._parse_not())
        return _chain(parts, stop=False)

    def _parse_not(self) -> Predicate:
        token = self._peek()
        if token.kind == "kw" and token.value == "NOT":
            self.i += 1
            self._enter(token)
            inner = self._parse_not()
            self.depth -= 1
            return lambda env: not inner(env)
        if token.kind == "(":
            self.i += 1
            self._enter(token)
            inner = self._parse_or()
            close = self._peek()
            if close.kind != ")":
                raise _error(self.text, f"expected ')' but found {_describe(close)}", close.pos)
            self.i += 1
            self.depth -= 1
            return inner
        return self._parse_condition()

    def _parse_condition(self) -> Predicate:
        left = self._parse_operand()
        token = self._peek()
        if token.kind == "op":
            self.i += 1
            return _leaf(_TESTS[token.value], left, self._parse_operand())
        if self._is_kw("HAS"):
            self.i += 1
            return _leaf(_has, left, self._parse_operand())
        negate = self._is_kw("NOT")
        if negate:
            self.i += 1
            if not self._is_kw("IN"):
                raise self._expected("'IN'")
        if self._is_kw("IN"):
            self.i += 1
            return _leaf(_member_test(self._parse_list(), negate), left)
        return _leaf(bool, left)

    def _parse_operand(self) -> Getter:
        token = self._peek()
        if token.kind == "path":
            self.i += 1
            return self._path(token)
        if token.kind == "[":
            return _constant(self._parse_list())
        if self._is_literal(token):
            self.i += 1
            return _constant(self._literal(token))
        raise self._expected("a value")

    def _parse_list(self) -> list[Any]:
        if self._peek().kind != "[":
            raise self._expected("a list")
        self.i += 1
        items: list[Any] = []
        if self._peek().kind == "]":
            self.i += 1
            return items
        while True:
            token = self._peek()
            if not self._is_literal(token):
                raise self._expected("a literal value")
            self.i += 1
            items.append(self._literal(token))
            separator = self._peek()
            self.i += 1
            if separator.kind == "]":
                return items
            if separator.kind != ",":
                message = f"expected ',' or ']' but found {_describe(separator)}"
                raise _error(self.text, message, separator.pos)

    @staticmethod
    def _is_literal(token: _Token) -> bool:
        return token.kind in ("str", "num") or (token.kind == "kw" and token.value in _CONSTANTS)

    @staticmethod
    def _literal(token: _Token) -> Any:
        return _CONSTANTS[token.value] if token.kind == "kw" else token.value

    def _path(self, token: _Token) -> Getter:
        segments: tuple[str, ...] = token.value
        first = segments[0]
        if first in RESERVED_ROOTS and first not in self.roots:
            raise _error(self.text, f"{first} attributes are not available here", token.pos)
        if first not in self.roots:
            segments = (DEFAULT_ROOT, *segments)
        self.paths.add(token.text)
        return _path_getter(segments)


# --------------------------------------------------------------------------- API

@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled expression. Built from ``source`` and ``context`` (raises InvalidExpression);
    two expressions with equal source and context are equal and hash alike.

    ``paths`` holds the dotted paths referenced, as written. ``evaluate(env)`` (or calling the
    expression) looks paths up in ``env``, a mapping of roots: a first segment naming a root
    allowed in the context selects that root, any other path is read under ``"interaction"``;
    later segments use ``mapping.get(name)`` or ``getattr(obj, name, None)`` (never names
    starting with "_"). It returns a bool and never raises, whatever ``env`` contains."""

    source: str
    context: ExpressionContext = ExpressionContext.INTERACTION
    paths: frozenset[str] = field(init=False, compare=False, repr=False)
    _predicate: Predicate = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        context = ExpressionContext(self.context)
        paths, predicate = _parse(self.source, context)
        object.__setattr__(self, "context", context)
        object.__setattr__(self, "paths", paths)
        object.__setattr__(self, "_predicate", predicate)

    def evaluate(self, env: Env) -> bool:
        try:
            return self._predicate(env)
        except Exception:  # leaves already guard themselves; belt and braces
            return False

    __call__ = evaluate

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.context))


def _parse(text: Any, context: ExpressionContext) -> tuple[frozenset[str], Predicate]:
    if not isinstance(text, str):
        raise InvalidExpression(
            f"an expression must be a string, not {type(text).__name__}", position=0, expression=repr(text)
        )
    if len(text) > MAX_LENGTH:
        raise _error(text, f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        raise InvalidExpression("empty expression", position=0, expression=text)
    parser = _Parser(text, context)
    predicate = parser.parse()
    return frozenset(parser.paths), predicate


@functools.lru_cache(maxsize=1024)
def _compile_cached(text: str, context: ExpressionContext) -> Expression:
    return Expression(text, context)


def compile_expression(text: str, context: ExpressionContext | str = ExpressionContext.INTERACTION) -> Expression:
    """Compile ``text`` for ``context``. Raises InvalidExpression (details: position,
    expression) for a syntax error, an over-long or too deeply nested source, or a path naming
    a root the context does not allow (``agent.`` outside AGENT, ``queue.`` outside SKIP).
    Compiled expressions are immutable and cached by (text, context)."""
    context = ExpressionContext(context)
    if not isinstance(text, str):
        return Expression(text, context)  # raises InvalidExpression
    return _compile_cached(text, context)


def check_expression(text: str, context: ExpressionContext | str = ExpressionContext.INTERACTION) -> None:
    """Return None if ``text`` compiles in ``context``; raise InvalidExpression otherwise."""
    compile_expression(text, context)
