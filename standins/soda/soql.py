"""A small SoQL (SODA 2.1) compiler producing parameterized SQLite SQL.

Supported: ``$select`` (columns, ``*``, ``:*``, aliases, count/sum/avg/min/max, a few
scalar functions), ``$where``/``$having`` (comparisons, AND/OR/NOT, IS [NOT] NULL,
[NOT] IN, [NOT] LIKE, BETWEEN, parentheses, arithmetic), ``$order`` (ASC/DESC,
NULL FIRST/LAST), ``$group`` and ``$q``. Literals next to a column are converted to
the column's type, as SoQL does (``amount > '10'`` compares numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from standins.soda import types as t

AGGREGATES = frozenset({"count", "sum", "avg", "min", "max"})
SYSTEM_FIELDS = (":id", ":created_at", ":updated_at")

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<quoted>`[^`]+`)
  | (?P<ident>:\*|[:@]?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|\|\||[=<>+\-*/%(),])
    """,
    re.VERBOSE,
)


class SoqlError(ValueError):
    """A query that does not compile; maps to HTTP 400 ``query.compiler.malformed``."""


@dataclass(frozen=True)
class Column:
    """A queryable column: SQL expression, storage kind and SODA type name."""

    sql: str
    kind: str
    type_name: str


@dataclass
class Expr:
    """A compiled expression."""

    sql: str
    params: list[Any] = field(default_factory=list)
    kind: str | None = None  # storage kind; None = untyped literal or boolean result
    type_name: str = "text"
    literal: Any = None
    is_literal: bool = False
    aggregate: bool = False
    name: str | None = None  # default output name


@dataclass
class SelectItem:
    """One output column of a query."""

    name: str
    expr: Expr


@dataclass
class Token:
    """A lexical token."""

    kind: str
    text: str


def tokenize(text: str) -> list[Token]:
    """Split SoQL text into tokens.

    Raises:
        SoqlError: On an unexpected character.
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match:
            raise SoqlError(f"Unexpected character at position {pos}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(kind)))
    return tokens


class Parser:
    """Recursive-descent parser that compiles as it parses."""

    def __init__(self, text: str, columns: dict[str, Column]) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.columns = columns

    # -- token helpers -------------------------------------------------------
    def peek(self, offset: int = 0) -> Token | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "ident" and token.text.lower() in words

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.text in ops

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise SoqlError("Unexpected end of query")
        self.pos += 1
        return token

    def expect_op(self, op: str) -> None:
        token = self.next()
        if token.kind != "op" or token.text != op:
            raise SoqlError(f"Expected '{op}'")

    def expect_keyword(self, word: str) -> None:
        if not self.at_keyword(word):
            raise SoqlError(f"Expected {word.upper()}")
        self.pos += 1

    def done(self) -> bool:
        return self.pos >= len(self.tokens)

    # -- grammar -------------------------------------------------------------
    def expression(self) -> Expr:
        return self.or_expr()

    def or_expr(self) -> Expr:
        left = self.and_expr()
        while self.at_keyword("or"):
            self.pos += 1
            right = self.and_expr()
            left = _combine(left, "OR", right)
        return left

    def and_expr(self) -> Expr:
        left = self.not_expr()
        while self.at_keyword("and"):
            self.pos += 1
            right = self.not_expr()
            left = _combine(left, "AND", right)
        return left

    def not_expr(self) -> Expr:
        if self.at_keyword("not"):
            self.pos += 1
            inner = self.not_expr()
            return Expr(f"(NOT {inner.sql})", inner.params, "bool", aggregate=inner.aggregate)
        return self.predicate()

    def predicate(self) -> Expr:
        left = self.additive()
        if self.at_op("=", "!=", "<>", "<", "<=", ">", ">="):
            op = self.next().text
            right = self.additive()
            return compare(left, "!=" if op == "<>" else op, right)
        if self.at_keyword("is"):
            self.pos += 1
            negate = self.at_keyword("not")
            if negate:
                self.pos += 1
            self.expect_keyword("null")
            word = "IS NOT NULL" if negate else "IS NULL"
            return Expr(f"({left.sql} {word})", left.params, "bool", aggregate=left.aggregate)
        negate = False
        if self.at_keyword("not") and (
            self.peek(1) and self.peek(1).text.lower() in ("in", "like", "between")
        ):
            self.pos += 1
            negate = True
        if self.at_keyword("in"):
            self.pos += 1
            return self.in_list(left, negate)
        if self.at_keyword("like"):
            self.pos += 1
            right = self.additive()
            left, right = unify(left, right)
            word = "NOT LIKE" if negate else "LIKE"
            # SoQL LIKE is case-sensitive; SQLite's is not unless told otherwise.
            return Expr(f"({left.sql} {word} {right.sql} ESCAPE '\\')", left.params + right.params, "bool")
        if self.at_keyword("between"):
            self.pos += 1
            low = self.additive()
            self.expect_keyword("and")
            high = self.additive()
            _, low = unify(left, low)
            _, high = unify(left, high)
            word = "NOT BETWEEN" if negate else "BETWEEN"
            return Expr(
                f"({left.sql} {word} {low.sql} AND {high.sql})",
                left.params + low.params + high.params,
                "bool",
            )
        if negate:
            raise SoqlError("Expected IN, LIKE or BETWEEN after NOT")
        return left

    def in_list(self, left: Expr, negate: bool) -> Expr:
        self.expect_op("(")
        items = [self.additive()]
        while self.at_op(","):
            self.pos += 1
            items.append(self.additive())
        self.expect_op(")")
        params = list(left.params)
        sqls = []
        for item in items:
            _, item = unify(left, item)
            sqls.append(item.sql)
            params.extend(item.params)
        word = "NOT IN" if negate else "IN"
        return Expr(f"({left.sql} {word} ({', '.join(sqls)}))", params, "bool", aggregate=left.aggregate)

    def additive(self) -> Expr:
        left = self.multiplicative()
        while self.at_op("+", "-", "||"):
            op = self.next().text
            right = self.multiplicative()
            kind = "text" if op == "||" else "number"
            if op != "||":
                left, right = _numeric(left), _numeric(right)
            left = Expr(
                f"({left.sql} {op} {right.sql})",
                left.params + right.params,
                kind,
                type_name="text" if kind == "text" else "number",
                aggregate=left.aggregate or right.aggregate,
            )
        return left

    def multiplicative(self) -> Expr:
        left = self.unary()
        while self.at_op("*", "/", "%"):
            op = self.next().text
            right = _numeric(self.unary())
            left = _numeric(left)
            sql = (
                f"(CAST({left.sql} AS REAL) / {right.sql})" if op == "/" else f"({left.sql} {op} {right.sql})"
            )
            left = Expr(
                sql,
                left.params + right.params,
                "number",
                "number",
                aggregate=left.aggregate or right.aggregate,
            )
        return left

    def unary(self) -> Expr:
        if self.at_op("-"):
            self.pos += 1
            inner = _numeric(self.unary())
            return Expr(f"(-{inner.sql})", inner.params, "number", "number", aggregate=inner.aggregate)
        return self.primary()

    def primary(self) -> Expr:
        token = self.next()
        if token.kind == "string":
            value = token.text[1:-1].replace("''", "'")
            return Expr("?", [value], None, literal=value, is_literal=True)
        if token.kind == "number":
            value = t.coerce_number(token.text)
            return Expr("?", [value], "number", "number", literal=value, is_literal=True)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect_op(")")
            return inner
        if token.kind == "quoted":
            return self.column(token.text[1:-1])
        if token.kind == "ident":
            word = token.text.lower()
            if word in ("true", "false"):
                return Expr(
                    "?", [int(word == "true")], "bool", "checkbox", literal=word == "true", is_literal=True
                )
            if word == "null":
                return Expr("NULL", [], None, is_literal=True)
            if self.at_op("("):
                return self.function(word)
            return self.column(token.text)
        raise SoqlError(f"Unexpected token '{token.text}'")

    def column(self, name: str) -> Expr:
        column = self.columns.get(name) or self.columns.get(name.lower())
        if column is None:
            raise SoqlError(f"No such column: {name}")
        return Expr(column.sql, [], column.kind, column.type_name, name=name.lower())

    def function(self, name: str) -> Expr:
        self.expect_op("(")
        args: list[Expr] = []
        star = False
        if self.at_op("*"):
            self.pos += 1
            star = True
        elif not self.at_op(")"):
            if self.at_keyword("distinct"):
                raise SoqlError("DISTINCT in functions is not supported by the stand-in")
            args.append(self.expression())
            while self.at_op(","):
                self.pos += 1
                args.append(self.expression())
        self.expect_op(")")
        return build_function(name, args, star)


def _combine(left: Expr, op: str, right: Expr) -> Expr:
    return Expr(
        f"({left.sql} {op} {right.sql})",
        left.params + right.params,
        "bool",
        aggregate=left.aggregate or right.aggregate,
    )


def _numeric(expr: Expr) -> Expr:
    if expr.is_literal and expr.kind is None and expr.literal is not None:
        return _retype(expr, "number", "number")
    if expr.kind not in ("number", None, "sid"):
        raise SoqlError("Arithmetic needs numbers")
    return expr


def _retype(literal: Expr, kind: str, type_name: str) -> Expr:
    """Convert an untyped string literal to ``kind`` (SoQL implicit conversion)."""
    try:
        if kind == "sid":
            value: Any = t.decode_sid(literal.literal)
        elif kind == "fixed":
            value = t.parse_fixed_timestamp(literal.literal)
        else:
            value = t.coerce(kind, literal.literal)
    except t.CoercionError as exc:
        raise SoqlError(f"Literal cannot be converted to {type_name}: {exc}") from exc
    return Expr("?", [value], kind, type_name, literal=value, is_literal=True)


def unify(left: Expr, right: Expr) -> tuple[Expr, Expr]:
    """Convert a string literal on one side to the type of the other side."""
    if right.is_literal and right.kind is None and right.literal is not None and left.kind:
        right = _retype(right, left.kind, left.type_name)
    elif left.is_literal and left.kind is None and left.literal is not None and right.kind:
        left = _retype(left, right.kind, right.type_name)
    elif left.kind == "sid" and right.is_literal:
        right = _retype(right, "sid", "row_identifier")
    return left, right


def compare(left: Expr, op: str, right: Expr) -> Expr:
    """Compile a binary comparison with SoQL implicit literal conversion."""
    left, right = unify(left, right)
    return Expr(
        f"({left.sql} {op} {right.sql})",
        left.params + right.params,
        "bool",
        aggregate=left.aggregate or right.aggregate,
    )


def build_function(name: str, args: list[Expr], star: bool) -> Expr:
    """Compile a SoQL function call.

    Raises:
        SoqlError: For unknown functions or wrong arities.
    """
    params = [p for arg in args for p in arg.params]
    arg_name = args[0].name if len(args) == 1 and args[0].name else None
    default_name = name if star or not arg_name else f"{name}_{arg_name}"
    if name in AGGREGATES:
        if name == "count":
            sql = "COUNT(*)" if star or not args else f"COUNT({args[0].sql})"
            return Expr(sql, params, "number", "number", aggregate=True, name=default_name)
        if len(args) != 1:
            raise SoqlError(f"{name}() takes one argument")
        if name in ("sum", "avg"):
            _numeric(args[0])
            return Expr(
                f"{name.upper()}({args[0].sql})",
                params,
                "number",
                "number",
                aggregate=True,
                name=default_name,
            )
        return Expr(
            f"{name.upper()}({args[0].sql})",
            params,
            args[0].kind,
            args[0].type_name,
            aggregate=True,
            name=default_name,
        )
    scalar = _SCALARS.get(name)
    if scalar is None:
        raise SoqlError(f"Function {name}() is not supported by the stand-in")
    arity, kind, template = scalar
    if len(args) != arity:
        raise SoqlError(f"{name}() takes {arity} argument(s)")
    if name in ("starts_with", "contains"):
        args[1] = unify(args[0], args[1])[1]
        params = args[0].params + args[1].params
    sql = template.format(*[a.sql for a in args])
    return Expr(
        sql,
        params,
        kind,
        {"number": "number", "date": "calendar_date", "bool": "checkbox"}.get(kind, "text"),
        aggregate=any(a.aggregate for a in args),
        name=default_name,
    )


_SCALARS: dict[str, tuple[int, str, str]] = {
    "upper": (1, "text", "UPPER({0})"),
    "lower": (1, "text", "LOWER({0})"),
    "starts_with": (2, "bool", "(substr({0}, 1, length({1})) = {1})"),
    "contains": (2, "bool", "(instr({0}, {1}) > 0)"),
    "length": (1, "number", "LENGTH({0})"),
    "date_trunc_y": (1, "date", "(substr({0}, 1, 4) || '-01-01T00:00:00.000')"),
    "date_trunc_ym": (1, "date", "(substr({0}, 1, 7) || '-01T00:00:00.000')"),
    "date_trunc_ymd": (1, "date", "(substr({0}, 1, 10) || 'T00:00:00.000')"),
    "date_extract_y": (1, "number", "CAST(substr({0}, 1, 4) AS INTEGER)"),
    "date_extract_m": (1, "number", "CAST(substr({0}, 6, 2) AS INTEGER)"),
    "date_extract_d": (1, "number", "CAST(substr({0}, 9, 2) AS INTEGER)"),
}


def parse_where(text: str, columns: dict[str, Column]) -> Expr:
    """Compile a ``$where`` / ``$having`` clause."""
    parser = Parser(text, columns)
    expr = parser.expression()
    if not parser.done():
        raise SoqlError(f"Unexpected token '{parser.peek().text}'")  # type: ignore[union-attr]
    return expr


def parse_select(text: str, columns: dict[str, Column], user_fields: list[str]) -> list[SelectItem]:
    """Compile a ``$select`` list.

    Args:
        text: The ``$select`` value.
        columns: Queryable columns (user and system fields).
        user_fields: User field names in position order, for ``*``.

    Returns:
        The output columns in order.
    """
    parser = Parser(text, columns)
    items: list[SelectItem] = []
    counter = 0
    while True:
        if parser.at_op("*"):
            parser.pos += 1
            items.extend(SelectItem(f, parser.column(f)) for f in user_fields)
        elif parser.peek() is not None and parser.peek().text == ":*":  # type: ignore[union-attr]
            parser.pos += 1
            items.extend(SelectItem(f, parser.column(f)) for f in SYSTEM_FIELDS)
        else:
            expr = parser.expression()
            if parser.at_keyword("as"):
                parser.pos += 1
                alias = parser.next()
                if alias.kind not in ("ident", "quoted"):
                    raise SoqlError("Expected an alias after AS")
                name = alias.text.strip("`")
            else:
                name = expr.name or f"_c{counter}"
            counter += 1
            items.append(SelectItem(name, expr))
        if parser.done():
            return items
        parser.expect_op(",")


def parse_order(text: str, columns: dict[str, Column], aliases: dict[str, Expr]) -> list[str]:
    """Compile ``$order`` into SQL ORDER BY terms (NULLs last for ASC, as SODA)."""
    parser = Parser(text, {**columns, **{k: _alias_column(v) for k, v in aliases.items()}})
    terms: list[str] = []
    params: list[Any] = []
    while True:
        expr = parser.expression()
        params.extend(expr.params)
        direction = "ASC"
        if parser.at_keyword("asc", "desc"):
            direction = parser.next().text.upper()
        nulls = "NULLS LAST" if direction == "ASC" else "NULLS FIRST"
        if parser.at_keyword("null", "nulls"):
            parser.pos += 1
            position = parser.next().text.lower()
            nulls = "NULLS FIRST" if position == "first" else "NULLS LAST"
        terms.append(f"{expr.sql} {direction} {nulls}")
        if parser.done():
            break
        parser.expect_op(",")
    if params:
        raise SoqlError("Literals are not allowed in $order")
    return terms


def _alias_column(expr: Expr) -> Column:
    return Column(expr.sql, expr.kind or "text", expr.type_name)


def parse_group(text: str, columns: dict[str, Column]) -> list[Expr]:
    """Compile ``$group`` into expressions."""
    parser = Parser(text, columns)
    exprs = [parser.expression()]
    while not parser.done():
        parser.expect_op(",")
        exprs.append(parser.expression())
    return exprs
