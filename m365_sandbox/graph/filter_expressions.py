"""A small OData ``$filter`` evaluator for directory objects (users).

The directory supports a limited grammar: ``eq``/``ne`` (and range operators on
some properties), ``startswith(prop,'x')``, ``prop in ('a','b')``, ``and``,
``or``, ``not`` and parentheses. String comparisons are case-insensitive, like
Azure AD's. Anything else answers 400 ``Request_UnsupportedQuery`` so a client
that relies on an unsupported filter fails here as it would against Graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..tenant.service_errors import GraphError

Predicate = Callable[[dict], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<punct>[(),])|(?P<word>[A-Za-z_$@][\w./@$]*))"
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}


def unsupported(message: str = "Unsupported Query.") -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def _invalid(text: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Invalid filter clause: {text}")


def _tokens(text: str) -> list[tuple[str, object]]:
    result, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise _invalid(text)
        pos = match.end()
        if match.group("str") is not None:
            result.append(("lit", match.group("str")[1:-1].replace("''", "'")))
        elif match.group("num") is not None:
            number = match.group("num")
            result.append(("lit", float(number) if "." in number else int(number)))
        elif match.group("punct") is not None:
            result.append((match.group("punct"), None))
        else:
            word = match.group("word")
            lowered = word.lower()
            if lowered in ("true", "false"):
                result.append(("lit", lowered == "true"))
            elif lowered == "null":
                result.append(("lit", None))
            else:
                result.append(("word", word))
    return result


def _norm(value):
    return value.lower() if isinstance(value, str) else value


def _get(obj: dict, prop: str):
    lowered = prop.lower()
    for key, value in obj.items():
        if key.lower() == lowered:
            return value
    return None


class _Parser:
    def __init__(self, text: str, allowed: frozenset[str]):
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.allowed = {a.lower() for a in allowed}

    def peek(self, offset: int = 0):
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None)

    def take(self, kind: str | None = None, word: str | None = None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind):
            raise _invalid(self.text)
        if word and (not isinstance(token[1], str) or token[1].lower() != word):
            raise _invalid(self.text)
        self.pos += 1
        return token

    def is_word(self, word: str) -> bool:
        kind, value = self.peek()
        return kind == "word" and isinstance(value, str) and value.lower() == word

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.pos != len(self.tokens):
            raise _invalid(self.text)
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.is_word("or"):
            self.pos += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda o, ps=tuple(parts): any(p(o) for p in ps))

    def and_expr(self) -> Predicate:
        parts = [self.atom()]
        while self.is_word("and"):
            self.pos += 1
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda o, ps=tuple(parts): all(p(o) for p in ps))

    def prop(self) -> str:
        _, name = self.take("word")
        if "/" in name:
            raise unsupported()
        if name.lower() not in self.allowed:
            raise unsupported(
                f"Unsupported or invalid query filter clause specified for property '{name}' of "
                "resource 'User'."
            )
        return name

    def literal(self):
        return self.take("lit")[1]

    def atom(self) -> Predicate:
        kind, _value = self.peek()
        if kind == "(":
            self.pos += 1
            inner = self.or_expr()
            self.take(")")
            return inner
        if self.is_word("not"):
            self.pos += 1
            inner = self.atom()
            return lambda o: not inner(o)
        if kind == "word" and self.peek(1)[0] == "(":
            return self.function()
        prop = self.prop()
        if self.is_word("in"):
            self.pos += 1
            self.take("(")
            values = [self.literal()]
            while self.peek()[0] == ",":
                self.pos += 1
                values.append(self.literal())
            self.take(")")
            wanted = {_norm(v) for v in values}
            return lambda o: _norm(_get(o, prop)) in wanted
        _, op = self.take("word")
        op = op.lower()
        if op not in _COMPARE:
            raise _invalid(self.text)
        literal = _norm(self.literal())
        return _comparison(prop, op, literal)

    def function(self) -> Predicate:
        _, name = self.take("word")
        lowered = name.lower()
        if lowered != "startswith":
            raise unsupported()
        self.take("(")
        prop = self.prop()
        self.take(",")
        prefix = self.literal()
        self.take(")")
        if not isinstance(prefix, str):
            raise _invalid(self.text)
        prefix = prefix.lower()
        return lambda o: isinstance(_get(o, prop), str) and _get(o, prop).lower().startswith(prefix)


def _comparison(prop: str, op: str, literal) -> Predicate:
    def compare(obj: dict) -> bool:
        value = _norm(_get(obj, prop))
        if isinstance(value, list):
            # "businessPhones eq …" is not how collections are filtered.
            raise unsupported()
        if op == "eq":
            return value == literal
        if op == "ne":
            return value != literal
        if value is None or literal is None:
            return False
        try:
            return {
                "gt": value > literal,
                "ge": value >= literal,
                "lt": value < literal,
                "le": value <= literal,
            }[op]
        except TypeError:
            return False

    return compare


def compile_filter(text: str, allowed: frozenset[str]) -> Predicate:
    """Compile ``$filter`` text into a predicate over Graph-shaped dicts."""
    return _Parser(text, allowed).parse()
