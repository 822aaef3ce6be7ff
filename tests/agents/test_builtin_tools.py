"""The built-in tools: a calculator that only does arithmetic, and the current time."""

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from agents.runtime.builtin import (
    MAX_EXPRESSION_CHARS,
    CalculatorTool,
    CurrentTimeTool,
    calculate,
    format_number,
)


def calc(expression: str) -> str:
    return CalculatorTool().execute(expression=expression)


@pytest.mark.parametrize(("expression", "expected"), [
    ("1 + 2 * 3", "7"),
    ("(1 + 2) * 3", "9"),
    ("7 / 2", "3.5"),
    ("7 // 2", "3"),
    ("-7 // 2", "-4"),
    ("7 % 3", "1"),
    ("2 ** 10", "1024"),
    ("2 ** -1", "0.5"),
    ("-(3 - 5)", "2"),
    ("+4", "4"),
    ("0.1 + 0.2", "0.3"),
    ("1_000 * 3", "3000"),
    ("1.5e3", "1500"),
    ("sqrt(16) + abs(-2)", "6"),
    ("round(3.14159, 2)", "3.14"),
    ("round(2.6)", "3"),
    ("min(3, 1, 2) + max(4)", "5"),
    ("floor(2.7) + ceil(2.1)", "5"),
    ("log(8, 2)", "3"),
    ("log10(1000)", "3"),
    ("cos(0) + sin(0) + tan(0) + exp(0)", "2"),
    ("2 * pi", "6.28318530717959"),
    ("e", "2.71828182845905"),
    ("2 ** 100", "1267650600228229401496703205376"),
    ("  3 *\t4 ", "12"),
    ("1+" * 249 + "1", "250"),
])
def test_it_calculates(expression: str, expected: str) -> None:
    assert calc(expression) == expected


@pytest.mark.parametrize(("expression", "message"), [
    ("__import__('os').system('id')", "unknown function \"__import__('os').system\""),
    ("__import__('os')", "unknown function '__import__'"),
    ("().__class__.__bases__[0].__subclasses__()", "unknown function"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("(1).__class__", "is not allowed"),
    ("x", "unknown name 'x'"),
    ("os", "unknown name 'os'"),
    ("'a' * 3", "'a' is not a number"),
    ("True + 1", "True is not a number"),
    ("2j", "2j is not a number"),
    ("[1, 2]", "is not allowed"),
    ("lambda: 1", "is not allowed"),
    ("1 if 1 else 2", "is not allowed"),
    ("1 < 2", "is not allowed"),
    ("x := 1", "not a valid arithmetic expression"),
    ("1 +", "not a valid arithmetic expression"),
    ("import os", "not a valid arithmetic expression"),
    ("1; 2", "not a valid arithmetic expression"),
    ("1\x002", "not a valid arithmetic expression"),
    ("sqrt(x=4)", "without keywords"),
    ("min()", "one or more numbers"),
    ("1 / 0", "division by zero"),
    ("5 % 0", "division by zero"),
    ("0 ** -1", "division by zero"),
    ("sqrt(-1)", "sqrt(): math domain error"),
    ("log(0)", "log(): math domain error"),
    ("(-8) ** 0.5", "no real value"),
    ("round(1.5, 0.5)", "digits must be a whole number"),
    ("1e999", "not a finite number"),
    ("1e308 * 10", "not a finite number"),
    ("exp(1000)", "too large"),
])
def test_it_refuses_anything_but_arithmetic_with_a_clear_message(
    expression: str, message: str,
) -> None:
    with pytest.raises(ValueError) as raised:
        calc(expression)

    assert message in str(raised.value)


@pytest.mark.parametrize(("expression", "message"), [
    ("9**9**9", "exponent 387420489 is larger than"),
    ("2 ** 1000000", "is larger than"),
    ("10 ** 10000", "too large"),
    ("(10 ** 1000) ** 1000", "too large"),
    ("10 ** 3000 * 10 ** 3000", "too large"),
    ("2.0 ** 5000", "too large"),
    ("sqrt(10 ** 3000)", "too large"),
    ("-" * 400 + "1", "nested more than"),
    ("1" * (MAX_EXPRESSION_CHARS + 1), "longer than"),
])
def test_it_stops_expressions_that_would_exhaust_the_worker(
    expression: str, message: str,
) -> None:
    started = time.perf_counter()

    with pytest.raises(ValueError) as raised:
        calculate(expression)

    assert message in str(raised.value)
    assert time.perf_counter() - started < 0.5


def test_it_formats_floats_without_binary_noise() -> None:
    assert format_number(1 / 3) == "0.333333333333333"
    assert format_number(10.0) == "10"
    assert format_number(-0.5) == "-0.5"


def test_it_tells_the_time_in_utc_by_default() -> None:
    answer = CurrentTimeTool().execute()

    stamp, rest = answer.split(" ", 1)
    moment = datetime.fromisoformat(stamp)
    assert moment.utcoffset() == timedelta(0)
    assert abs(moment - datetime.now(timezone.utc)) < timedelta(seconds=5)
    assert rest.endswith(", UTC)")


def test_it_tells_the_time_in_an_iana_zone() -> None:
    answer = CurrentTimeTool().execute(timezone="Asia/Shanghai")

    assert re.fullmatch(r"\S+\+08:00 \(\w+day, Asia/Shanghai\)", answer)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/passwd",
                                  "Asia", "zone.tab"])
def test_it_refuses_an_unknown_time_zone(zone: str) -> None:
    with pytest.raises(ValueError, match=f"unknown time zone {re.escape(repr(zone))}"):
        CurrentTimeTool().execute(timezone=zone)


def test_it_declares_the_builtin_tools_to_the_model() -> None:
    assert CalculatorTool().spec().parameters == {
        "type": "object",
        "properties": {"expression": {
            "type": "string",
            "description": 'The expression, for example "(3 + 4) * 2 ** 10 / sqrt(16)".',
        }},
        "required": ["expression"],
        "additionalProperties": False,
    }
    assert CurrentTimeTool().spec().parameters["properties"]["timezone"]["type"] == "string"
    assert "required" not in CurrentTimeTool().spec().parameters
