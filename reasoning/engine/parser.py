"""A recursive-descent parser from tokens to the syntax tree.

Grammar (`[]` optional, `*` repeated):

    program    := (rule | query | production)*
    rule       := atom [":-" body] "."
    query      := "?-" body "."
    production := ["@" "salience" "(" ["-"] integer ")"] ident ":" body "==>" actions "."
    actions    := action ("," action)*
    action     := ("assert" | "retract" | "emit" | "call") atom
    body       := literal ("," literal)*
    literal    := ("!" | "not") atom | atom | aggregate | expr cmp expr
    aggregate  := Variable "=" ("count" | "sum" | "min" | "max") [expr] ":" "{" body "}"
    atom       := ident ["(" [term ("," term)*] ")"]
    term       := Variable | "_" | string | ["-"] number
    expr       := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "%") unary)*
    unary      := "-" unary | term | "(" expr ")"

A production is told from a rule by the lone ":" after its name (a rule has "(", "." or
":-" there). Action arguments are terms, never expressions: arithmetic belongs in the body
(`..., C = B * 2 ==> emit x(C)`), so the matching network only substitutes bindings.
"""

import itertools
import re
from typing import cast

from .errors import DatalogSyntaxError, position
from .lexer import Token, tokenize
from .syntax import (
    ACTION_KINDS,
    AGGREGATE_FUNCTIONS,
    WILDCARD_PREFIX,
    Action,
    Aggregate,
    Atom,
    BinaryOp,
    Comparison,
    Constant,
    Expr,
    GroundFact,
    Literal,
    Negation,
    Production,
    Query,
    Rule,
    Term,
    Value,
    Variable,
)

COMPARISON_OPS = ("=", "!=", "<", "<=", ">", ">=")
_ACTION_TARGETS = {
    "assert": "a relation name",
    "retract": "a relation name",
    "emit": "an event name",
    "call": "a tool name",
}

Parsed = tuple[list[Rule], list[GroundFact], list[Query], list[Production]]


class Parser:
    def __init__(self, text: str, *, facts: bool = True):
        self.text = text
        self.tokens = tokenize(text, facts=facts)
        self.index = 0
        # One counter per parse keeps wildcard names unique within every clause.
        self.wildcards = itertools.count()

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def at(self, *texts: str) -> bool:
        return self.token.kind == "punct" and self.token.text in texts

    def advance(self) -> Token:
        token = self.token
        self.index += 1
        return token

    def expect(self, *texts: str) -> Token:
        if not self.at(*texts):
            raise self.error(" or ".join(repr(text) for text in texts))
        return self.advance()

    def error(self, expected: str) -> DatalogSyntaxError:
        token = self.token
        where = position(token.line, token.column)
        return DatalogSyntaxError(
            f"expected {expected} at {where}, found {token.describe()}",
            line=token.line,
            column=token.column,
        )

    def clause_text(self, first: Token) -> str:
        """The clause as written, its line breaks and indentation folded into single spaces."""
        raw = self.text[first.start:self.tokens[self.index - 1].end]
        return re.sub(r"\s*\n\s*", " ", raw)

    def parse_program(self) -> Parsed:
        rules: list[Rule] = []
        facts: list[GroundFact] = []
        queries: list[Query] = []
        productions: list[Production] = []
        while self.token.kind != "end":
            if self.token.kind == "fact":
                token = self.advance()
                relation, row = cast(tuple[str, tuple[Value, ...]], token.value)
                facts.append(GroundFact(relation, row, token.line, token.column))
            elif self.at("?-"):
                queries.append(self.parse_query())
            elif self.at("@") or self.is_production_ahead():
                productions.append(self.parse_production())
            else:
                rules.append(self.parse_rule())
        return rules, facts, queries, productions

    def is_production_ahead(self) -> bool:
        after = self.peek()
        return self.token.kind == "ident" and after.kind == "punct" and after.text == ":"

    def parse_production(self) -> Production:
        first = self.token
        salience = self.parse_salience() if self.at("@") else 0
        if not self.is_production_ahead():
            raise self.error("a production name followed by ':'")
        name = self.advance()
        self.advance()
        body = self.parse_body()
        if not self.at("==>"):
            raise self.error("'==>' or ','")
        self.advance()
        actions = [self.parse_action()]
        while self.at(","):
            self.advance()
            actions.append(self.parse_action())
        if not self.at("."):
            raise self.error("'.' or ','")
        self.advance()
        return Production(
            name.text, salience, body, tuple(actions), name.line, name.column,
            self.clause_text(first),
        )

    def parse_salience(self) -> int:
        self.advance()
        if self.token.text != "salience" or self.token.kind != "ident":
            raise self.error("'salience' after '@'")
        self.advance()
        self.expect("(")
        sign = -1 if self.at("-") else 1
        if sign < 0:
            self.advance()
        value = self.token.value
        if self.token.kind != "number" or not isinstance(value, int):
            raise self.error("an integer salience")
        self.advance()
        self.expect(")")
        return sign * value

    def parse_action(self) -> Action:
        kind = self.token
        if kind.kind != "ident" or kind.text not in ACTION_KINDS:
            raise self.error("an action (assert, retract, emit or call)")
        self.advance()
        if self.token.kind != "ident":
            raise self.error(f"{_ACTION_TARGETS[kind.text]} after '{kind.text}'")
        atom = self.parse_atom()
        return Action(kind.text, atom.relation, atom.args, atom.line, atom.column)

    def parse_rule(self) -> Rule:
        first = self.token
        if first.kind != "ident":
            raise self.error("a relation name or '?-'")
        head = self.parse_atom()
        body: tuple[Literal, ...] = ()
        if self.at(":-"):
            self.advance()
            body = self.parse_body()
            self.expect(".", ",")
        else:
            self.expect(".", ":-")
        return Rule(head, body, self.clause_text(first), first.line, first.column)

    def parse_query(self, *, standalone: bool = False) -> Query:
        first = self.token
        if self.at("?-"):
            self.advance()
        body = self.parse_body()
        if not standalone:
            self.expect(".", ",")
        elif self.at("."):
            self.advance()
        if standalone and self.token.kind != "end":
            raise self.error("',' or '.'" if self.tokens[self.index - 1].text != "." else
                             "end of query")
        return Query(body, self.clause_text(first), first.line, first.column)

    def parse_body(self) -> tuple[Literal, ...]:
        literals = [self.parse_literal()]
        while self.at(","):
            self.advance()
            literals.append(self.parse_literal())
        return tuple(literals)

    def parse_literal(self) -> Literal:
        token = self.token
        if self.at("!") or (token.text == "not" and token.kind == "ident" and
                            self.peek().kind == "ident"):
            self.advance()
            if self.token.kind != "ident":
                raise self.error("a relation name after negation")
            return Negation(self.parse_atom(), token.line, token.column)
        if token.kind == "ident":
            return self.parse_atom()
        if token.kind == "variable" and self.peek().text == "=" and self.is_aggregate_ahead():
            return self.parse_aggregate()
        left = self.parse_expr()
        if not self.at(*COMPARISON_OPS):
            raise self.error("a comparison operator (= != < <= > >=)")
        op = self.advance().text
        return Comparison(op, left, self.parse_expr(), token.line, token.column)

    def is_aggregate_ahead(self) -> bool:
        function = self.peek(2)
        return (
            function.kind == "ident"
            and function.text in AGGREGATE_FUNCTIONS
            and self.peek(3).text != "("
        )

    def parse_aggregate(self) -> Aggregate:
        token = self.token
        result = self.parse_variable()
        self.advance()
        function = self.advance().text
        # count counts solutions; sum, min and max need the value to fold.
        if function != "count" and self.at(":"):
            raise self.error(f"an expression after '{function}'")
        target = None if function == "count" else self.parse_expr()
        self.expect(":")
        self.expect("{")
        body = self.parse_body()
        self.expect("}", ",")
        return Aggregate(result, function, target, body, token.line, token.column)

    def parse_atom(self) -> Atom:
        name = self.advance()
        args: list[Term] = []
        if self.at("("):
            self.advance()
            if not self.at(")"):
                args.append(self.parse_term())
                while self.at(","):
                    self.advance()
                    args.append(self.parse_term())
            self.expect(")", ",")
        return Atom(name.text, tuple(args), name.line, name.column)

    def parse_variable(self) -> Variable:
        token = self.advance()
        return Variable(token.text, token.line, token.column)

    def parse_term(self) -> Term:
        token = self.token
        if token.kind == "variable":
            return self.parse_variable()
        if token.kind == "wildcard":
            self.advance()
            return Variable(f"{WILDCARD_PREFIX}{next(self.wildcards)}", token.line, token.column)
        if token.kind in ("string", "number"):
            self.advance()
            return Constant(token.value, token.line, token.column)  # type: ignore[arg-type]
        if self.at("-") and self.peek().kind == "number":
            self.advance()
            return Constant(-self.advance().value, token.line, token.column)  # type: ignore
        raise self.error("a variable, '_', a string or a number")

    def parse_expr(self) -> Expr:
        expr = self.parse_product()
        while self.at("+", "-"):
            op = self.advance().text
            expr = BinaryOp(op, expr, self.parse_product())
        return expr

    def parse_product(self) -> Expr:
        expr = self.parse_unary()
        while self.at("*", "/", "%"):
            op = self.advance().text
            expr = BinaryOp(op, expr, self.parse_unary())
        return expr

    def parse_unary(self) -> Expr:
        if self.at("("):
            self.advance()
            expr = self.parse_expr()
            self.expect(")")
            return expr
        if self.at("-") and self.peek().kind != "number":
            token = self.advance()
            return BinaryOp("-", Constant(0, token.line, token.column), self.parse_unary())
        return self.parse_term()


def parse_program(text: str) -> Parsed:
    """The rules, facts, queries and productions of a program text.

    Most facts come back as GroundFact; one the fast path does not take (a float, an escape)
    comes back as a rule without a body, for the caller to sort out after its checks.
    """
    return Parser(text).parse_program()


def parse_query(text: str) -> Query:
    """One query; the leading `?-` and the trailing `.` are both optional."""
    return Parser(text, facts=False).parse_query(standalone=True)
