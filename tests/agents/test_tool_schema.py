"""Tools declare their arguments as JSON Schema, derived from `execute` or given explicitly."""

import enum
import logging
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import pytest
from jsonschema import Draft202012Validator

from agents.providers.base import ToolSpec
from agents.runtime.tools import Tool, tools_discover


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class WeatherTool(Tool):
    name = "get_weather"
    description = "获取指定城市的天气信息"

    def execute(self, city: str, unit: Unit = Unit.CELSIUS, days: int | None = None) -> str:
        """Weather for a city.

        Args:
            city: 城市名称,例如 "北京"
            unit (Unit): 温度单位
                摄氏或华氏
            days: how many days ahead

        Returns:
            A short report.
        """
        return f"{city} {unit.value} {days}"


def test_it_derives_a_schema_from_type_hints_and_a_google_docstring() -> None:
    schema = WeatherTool.schema()

    assert schema == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": '城市名称,例如 "北京"'},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius",
                     "description": "温度单位 摄氏或华氏"},
            "days": {"type": "integer", "description": "how many days ahead"},
        },
        "required": ["city"],
        "additionalProperties": False,
    }
    Draft202012Validator.check_schema(schema)


def test_it_builds_the_spec_the_model_sees() -> None:
    spec = WeatherTool().spec()

    assert spec == ToolSpec(name="get_weather", description="获取指定城市的天气信息",
                            parameters=WeatherTool.schema())


def test_it_reads_rest_docstring_params() -> None:
    class Search(Tool):
        name = "search"
        description = "Search documents."

        def execute(self, query: str, limit: int = 5, exact: bool = False) -> list[str]:
            """Search.

            :param query: words to look for,
                several allowed
            :param int limit: most results
            :param exact: whole phrase only
            :returns: titles
            """
            return []

    properties = Search.schema()["properties"]

    assert properties["query"] == {"type": "string",
                                   "description": "words to look for, several allowed"}
    assert properties["limit"] == {"type": "integer", "default": 5, "description": "most results"}
    assert properties["exact"]["description"] == "whole phrase only"
    assert Search.schema()["required"] == ["query"]


def test_it_maps_every_supported_type() -> None:
    class Everything(Tool):
        name = "everything"
        description = "All the types."

        def execute(
            self, text: str, count: int, ratio: float, flag: bool,
            mode: Literal["fast", "slow"], level: Literal[1, 2, 3],
            tags: list[str], grid: list[list[float]], units: list[Unit],
            maybe: Optional[str], other: float | None = 1.5,
            note: Annotated[str, "备注"] = "",
        ) -> None:
            return None

    properties = Everything.schema()["properties"]

    assert properties["text"] == {"type": "string"}
    assert properties["count"] == {"type": "integer"}
    assert properties["ratio"] == {"type": "number"}
    assert properties["flag"] == {"type": "boolean"}
    assert properties["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert properties["level"] == {"type": "integer", "enum": [1, 2, 3]}
    assert properties["tags"] == {"type": "array", "items": {"type": "string"}}
    assert properties["grid"] == {"type": "array",
                                  "items": {"type": "array", "items": {"type": "number"}}}
    assert properties["units"]["items"] == {"type": "string", "enum": ["celsius", "fahrenheit"]}
    assert properties["maybe"] == {"type": "string"}
    assert properties["other"] == {"type": "number", "default": 1.5}
    assert properties["note"] == {"type": "string", "description": "备注", "default": ""}
    assert Everything.schema()["required"] == [
        "text", "count", "ratio", "flag", "mode", "level", "tags", "grid", "units",
    ]


def test_it_leaves_required_out_when_every_parameter_is_optional() -> None:
    class Clock(Tool):
        name = "clock"
        description = "Time."

        def execute(self, zone: str | None = None) -> str:
            return ""

    assert Clock.schema() == {"type": "object", "properties": {"zone": {"type": "string"}},
                              "additionalProperties": False}


def test_it_converts_enum_values_into_members_and_fills_optional_parameters() -> None:
    class Convert(Tool):
        name = "convert"
        description = "Convert."

        def execute(self, unit: Unit, units: list[Unit], label: str | None) -> str:
            return ""

    kwargs = Convert().bind({"unit": "fahrenheit", "units": ["celsius"]})

    assert kwargs == {"unit": Unit.FAHRENHEIT, "units": [Unit.CELSIUS], "label": None}


def test_it_drops_nulls_only_for_optional_parameters() -> None:
    arguments = {"city": None, "days": None, "unit": "celsius"}

    assert WeatherTool().drop_nulls(arguments) == {"city": None, "unit": "celsius"}


def test_it_keeps_an_explicit_schema_as_given() -> None:
    parameters = {"type": "object", "properties": {"q": {"type": "string", "minLength": 1}},
                  "required": ["q"]}

    class Explicit(Tool):
        name = "explicit"
        description = "Explicit."
        parameters = {"type": "object", "properties": {"q": {"type": "string", "minLength": 1}},
                      "required": ["q"]}

        def execute(self, **kwargs: Any) -> str:
            return kwargs["q"]

    assert Explicit.schema() == parameters
    assert Explicit().bind({"q": "x"}) == {"q": "x"}


def test_it_takes_the_description_from_the_docstring_when_none_is_given() -> None:
    class Documented(Tool):
        """Look up a word
        in the dictionary.

        More detail that the model does not need.
        """

        name = "define"

        def execute(self, word: str) -> str:
            return word

    assert Documented().spec().description == "Look up a word in the dictionary."


def test_it_gives_a_renamed_subclass_a_schema_of_its_own() -> None:
    class Hourly(WeatherTool):
        name = "hourly_weather"

    assert Hourly().spec().name == "hourly_weather"
    assert Hourly.schema() == WeatherTool.schema()


def test_it_knows_async_tools() -> None:
    class Slow(Tool):
        name = "slow"
        description = "Slow."

        async def execute(self) -> str:
            return ""

    assert Slow().is_async()
    assert not WeatherTool().is_async()


@pytest.mark.parametrize(("annotation", "shown"), [
    ("dict", "dict"), ("tuple[int, int]", "tuple"), ("int | str", "union"),
    ("list", "list"), ("bytes", "bytes"), ("Literal[None]", "enum values"),
])
def test_it_rejects_an_unsupported_annotation_naming_tool_and_parameter(
    annotation: str, shown: str,
) -> None:
    source = textwrap.dedent(f"""
        class Bad(Tool):
            name = "bad_tool"
            description = "Bad."

            def execute(self, good: str, payload: {annotation}) -> str:
                return ""
    """)

    with pytest.raises(TypeError) as raised:
        exec(source, {"Tool": Tool, "Literal": Literal})

    message = str(raised.value)
    assert "'bad_tool'" in message
    assert "'payload'" in message
    assert shown in message


def test_it_rejects_a_parameter_without_type_hint() -> None:
    with pytest.raises(TypeError, match=r"tool 'untyped', parameter 'city': missing type hint"):
        class Untyped(Tool):
            name = "untyped"
            description = "Untyped."

            def execute(self, city) -> str:  # type: ignore[no-untyped-def]
                return city


def test_it_rejects_catch_all_parameters_without_explicit_schema() -> None:
    with pytest.raises(TypeError, match=r"'loose'.*'kwargs'.*named parameters only"):
        class Loose(Tool):
            name = "loose"
            description = "Loose."

            def execute(self, **kwargs: str) -> str:
                return ""


@pytest.mark.parametrize("name", ["has space", "", "x" * 65, "点"])
def test_it_rejects_names_the_providers_refuse(name: str) -> None:
    with pytest.raises(TypeError, match="`name` must be"):
        type("Named", (Tool,), {"name": name, "execute": lambda self: ""})


def test_it_rejects_a_tool_without_execute() -> None:
    with pytest.raises(TypeError, match="does not define execute"):
        class Idle(Tool):
            name = "idle"


def test_it_rejects_an_explicit_schema_that_is_not_json_schema() -> None:
    with pytest.raises(TypeError, match="not valid JSON Schema"):
        class Broken(Tool):
            name = "broken"
            parameters = {"type": "object", "properties": {"q": {"type": "strng"}}}

            def execute(self, **kwargs: Any) -> str:
                return ""


def test_it_checks_an_abstract_base_when_first_used() -> None:
    class Base(Tool):
        def execute(self, value: str) -> str:
            return value

    with pytest.raises(TypeError, match="`name` must be"):
        Base().spec()


def write_plugin(root: Path, *, entry_points: str, module: str) -> None:
    """An installed distribution, as pip would leave it: a module and a dist-info folder."""
    (root / "oag_plugin_tools.py").write_text(textwrap.dedent(module))
    dist_info = root / "oag_plugin_tools-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: oag-plugin-tools\n"
                                        "Version: 1.0\n")
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def plugin_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "oag_plugin_tools", raising=False)
    return tmp_path


def test_it_discovers_tools_from_entry_points_and_reports_broken_ones(
    plugin_root: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    write_plugin(plugin_root, module="""
        from agents.runtime.tools import Tool

        class Echo(Tool):
            name = "echo"
            description = "Echo."

            def execute(self, text: str) -> str:
                return text

        class Shout(Tool):
            name = "shout"
            description = "Shout."

            def execute(self, text: str) -> str:
                return text.upper()

        shout = Shout()
        not_a_tool = 42
    """, entry_points="""
        [oagweb.tools]
        echo = oag_plugin_tools:Echo
        shout = oag_plugin_tools:shout
        missing = oag_plugin_tools:Nope
        gone = no_such_module:Tool
        number = oag_plugin_tools:not_a_tool
        echo_again = oag_plugin_tools:Echo
    """)

    with caplog.at_level(logging.WARNING, logger="agents.runtime.tools"):
        tools = tools_discover()

    assert sorted(tool.name for tool in tools) == ["echo", "shout"]
    failed = {record.args[0] for record in caplog.records}  # type: ignore[index]
    assert failed == {"missing", "gone", "number", "echo_again"}


def test_it_hands_discovery_errors_to_the_caller(plugin_root: Path) -> None:
    write_plugin(plugin_root, module="raise RuntimeError('plugin exploded')\n", entry_points="""
        [oagweb.tools]
        boom = oag_plugin_tools:Anything
    """)
    errors: list[tuple[str, Exception]] = []

    tools = tools_discover(on_error=lambda name, exc: errors.append((name, exc)))

    assert tools == []
    assert [(name, str(exc)) for name, exc in errors] == [("boom", "plugin exploded")]
