"""The SCIM filter grammar of Identity v4.1 ``.search``: a tokenizer and a recursive-descent
parser into a small typed tree, checked against Concur's documented limits.

Source: ``api-guides/profile/identity-search.md`` ("Filtering", "Filtering Examples"), which
implements RFC 7644 §3.4.2.2 with these documented specifics:

* attribute operators ``eq ne co sw ew pr gt ge lt le``; logical ``not > and > or`` (the
  "Precedence Examples" table, ``not A or B`` included); ``()`` grouping; ``attr[...]``
  complex groups on ``emails``, ``addresses`` and single-valued complex attributes;
* only the "Allowed Attributes" table is filterable;
* UUIDs "may optionally include the quotes" ("Filter By UUID"), and the guide's example
  ``startDate le 2013-12-31`` compares a date without quotes;
* in a complex group of a multi-valued attribute: only ``eq sw ew co pr``, no ``not`` and no
  ``ne``, no ``or`` nested in parentheses, no attribute twice in one ``and`` chain
  ("Filter By Multi-Valued Attributes", "Limitations");
* attribute names and operators are case-insensitive (RFC 7644 §3.4.2.2); values compare
  case-insensitively ("case insensitive" in "Filter By Name Field"; ``caseExact: false`` in
  the User schema, ``api-reference/profile/user.json``).

Anything else raises ``FilterError`` (the route answers 400 ``invalidFilter``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

import orjson

from oaa_concur.simulator.records import CORE, ENTERPRISE, SAP


class FilterError(ValueError):
    """A filter outside the documented grammar; the message is the SCIM ``detail``."""


@dataclass(frozen=True)
class Attr:
    """A filterable attribute: canonical ``path`` (e.g. ``emails.value``), its type, and the
    multi-valued attribute it belongs to (``emails``, ``addresses``, ``entitlements``)."""

    path: str
    kind: str  # "string" | "boolean" | "date" | "complex"
    multi: str | None = None


@dataclass(frozen=True)
class Compare:
    attr: Attr
    op: str
    value: str | bool | None


@dataclass(frozen=True)
class Present:
    attr: Attr


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Group:
    """``attr[filter]``: one entry of ``attr`` satisfies ``inner`` (whose paths are full)."""

    attr: Attr
    inner: Node


Node = Compare | Present | And | Or | Not | Group


def _table() -> dict[str, Attr]:
    """The "Allowed Attributes" table, keyed by lower-cased canonical path."""
    attrs = [Attr("active", "boolean"), Attr("entitlements", "string", "entitlements")]
    attrs += [Attr(name, "string") for name in ("externalId", "id", "nickName", "userName")]
    attrs += [Attr(f"addresses.{s}", "string", "addresses") for s in _ADDRESS]
    attrs += [Attr(f"emails.{s}", "string", "emails") for s in ("value", "type")]
    attrs += [Attr("emails.verified", "boolean", "emails")]
    attrs += [Attr(f"meta.{s}", "date") for s in ("created", "lastModified")]
    attrs += [Attr(f"name.{s}", "string") for s in ("familyName", "givenName")]
    attrs += [Attr(f"{ENTERPRISE}:{s}", "string") for s in _ENTERPRISE_STRINGS]
    attrs += [Attr(f"{ENTERPRISE}:{s}", "date") for s in ("startDate", "terminationDate")]
    attrs += [Attr(f"{ENTERPRISE}:manager.{s}", "string") for s in ("employeeNumber", "value")]
    attrs += [Attr(f"{SAP}:userUuid", "string")]
    attrs += [Attr("emails", "complex", "emails"), Attr("addresses", "complex", "addresses")]
    attrs += [Attr(p, "complex") for p in ("name", "meta", f"{ENTERPRISE}:manager")]
    return {a.path.lower(): a for a in attrs}


_ADDRESS = ("country", "locality", "region", "type")
_ENTERPRISE_STRINGS = ("costCenter", "department", "division", "employeeNumber")
ATTRIBUTES = _table()
COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
_GROUP_OPS = frozenset({"eq", "sw", "ew", "co"})  # plus pr ("Filter By Multi-Valued ...")
_KIND_OPS = {
    "string": COMPARE_OPS,
    "boolean": frozenset({"eq", "ne"}),
    "date": frozenset({"eq", "ne", "gt", "ge", "lt", "le"}),
}
_KEYWORDS = frozenset({"and", "or", "not", "pr", *COMPARE_OPS})
_TOKEN = re.compile(r'\s*(?:([()\[\]])|("(?:[^"\\]|\\.)*")|([^\s()\[\]"]+))')
_UUID = re.compile(r"[0-9a-zA-Z]{8}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{12}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" "[" "]" "str" "word"
    text: str


def tokenize(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip():
                raise FilterError(f"Invalid filter [{text}]: unexpected {text[pos:][:20]!r}")
            break
        punct, string, word = match.groups()
        if punct:
            tokens.append(_Token(punct, punct))
        elif string:
            tokens.append(_Token("str", string))
        elif word:
            tokens.append(_Token("word", word))
        pos = match.end()
    return tokens


def parse(text: str) -> Node:
    """The tree of ``text``; ``FilterError`` for anything outside the documented grammar."""
    if not text.strip():
        raise FilterError("Invalid filter []: the filter is empty")
    return _Parser(text).parse()


class _Parser:
    """Recursive descent: or_expr := and_expr ("or" and_expr)*; and_expr := unary ("and"
    unary)*; unary := "not" unary | "(" or_expr ")" | attribute expression."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.group: Attr | None = None  # inside attr[...]
        self.depth = 0  # parentheses inside the current complex group

    def parse(self) -> Node:
        node = self.or_expr()
        if self.pos < len(self.tokens):
            self.fail(f"unexpected {self.tokens[self.pos].text!r}")
        return node

    def fail(self, why: str) -> NoReturn:
        raise FilterError(f"Invalid filter [{self.text}]: {why}")

    def peek(self, word: str | None = None) -> _Token | None:
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        if token is None or word is None:
            return token
        match = token.kind == "word" and token.text.lower() == word
        return token if match or token.kind == word else None

    def take(self, kind: str) -> _Token:
        token = self.peek(kind)
        if token is None:
            self.fail(f"expected {kind!r}")
        self.pos += 1
        return token

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.peek("or"):
            if self.group is not None and self.group.multi and self.depth > 0:
                self.fail("'or' may not be nested in parentheses inside a complex group")
            self.pos += 1
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.unary()]
        while self.peek("and"):
            self.pos += 1
            items.append(self.unary())
        if self.group is not None and self.group.multi:
            _no_duplicates(items)
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        if self.peek("not"):
            if self.group is not None and self.group.multi:
                self.fail("'not' is not allowed inside a complex group")
            self.pos += 1
            return Not(self.unary())
        if self.peek("("):
            self.pos += 1
            self.depth += 1
            node = self.or_expr()
            self.depth -= 1
            self.take(")")
            return node
        return self.attribute_expression()

    def attribute_expression(self) -> Node:
        token = self.peek()
        if token is None or token.kind != "word" or token.text.lower() in _KEYWORDS:
            self.fail("expected an attribute")
        self.pos += 1
        attr = self.resolve(token.text)
        if self.peek("["):
            return self.complex_group(attr)
        op = self.peek()
        if op is None or op.kind != "word":
            self.fail(f"expected an operator after {token.text!r}")
        self.pos += 1
        return self.comparison(attr, op.text.lower())

    def complex_group(self, attr: Attr) -> Node:
        if attr.kind != "complex" or self.group is not None:
            self.fail(f"{attr.path!r} cannot take a [...] group here")
        self.pos += 1
        self.group, depth, self.depth = attr, self.depth, 0
        inner = self.or_expr()
        self.group, self.depth = None, depth
        self.take("]")
        return Group(attr, inner)

    def comparison(self, attr: Attr, op: str) -> Node:
        grouped = self.group is not None and self.group.multi is not None
        if op == "pr":
            return Present(attr)
        if op not in COMPARE_OPS:
            self.fail(f"unknown operator {op!r}")
        if grouped and op not in _GROUP_OPS:
            self.fail(f"{op!r} is not allowed inside a complex group (eq sw ew co pr only)")
        if op not in _KIND_OPS.get(attr.kind, frozenset()):
            self.fail(f"{op!r} does not apply to {attr.path!r} ({attr.kind})")
        return Compare(attr, op, self.value(attr))

    def value(self, attr: Attr) -> str | bool | None:
        token = self.peek()
        if token is None or token.kind not in ("str", "word"):
            self.fail("expected a value")
        self.pos += 1
        value = _literal(token)
        if value is None:
            return None
        ok = isinstance(value, bool) == (attr.kind == "boolean")
        bare = token.kind == "word" and isinstance(value, str)
        if not ok or (bare and not _bare_ok(attr, str(value))):
            self.fail(f"{token.text} is not a value for {attr.path!r}")
        return value

    def resolve(self, name: str) -> Attr:
        """Canonical attribute of ``name`` (inside ``attr[...]``: a sub-attribute of it)."""
        key = name.lower()
        if key.startswith(CORE.lower() + ":"):
            key = key[len(CORE) + 1 :]
        if self.group is not None:
            key = f"{self.group.path.lower()}.{key}"
        attr = ATTRIBUTES.get(key)
        if attr is None:
            self.fail(f"{name!r} is not a filterable attribute")
        return attr


def _literal(token: _Token) -> str | bool | None:
    if token.kind == "str":
        try:
            value = orjson.loads(token.text)
        except orjson.JSONDecodeError:
            raise FilterError(f"Invalid filter: bad string {token.text}") from None
        return str(value)
    word = token.text.lower()
    if word in ("true", "false"):
        return word == "true"
    if word == "null":
        return None
    return token.text


def _bare_ok(attr: Attr, value: str) -> bool:
    """Unquoted values: UUIDs for string attributes, dates for date attributes."""
    if attr.kind == "date":
        return _DATE.fullmatch(value) is not None
    return attr.kind == "string" and _UUID.fullmatch(value) is not None


def _no_duplicates(items: list[Node]) -> None:
    """ "Duplicate attributes may not be conjoined with and inside of Complex Grouping"."""
    seen: set[str] = set()
    for item in items:
        for path in _paths(item):
            if path in seen:
                raise FilterError(f"{path!r} appears twice in one 'and' of a complex group")
            seen.add(path)


def _paths(node: Node) -> list[str]:
    if isinstance(node, Compare | Present):
        return [node.attr.path]
    if isinstance(node, And):
        return [p for item in node.items for p in _paths(item)]
    return []  # or/not/group: not an attribute of this 'and' chain
