"""Tools the model may call: declaration, JSON Schema derivation, discovery (pure core).

A tool is a subclass of `Tool` with a `name`, a `description` and an `execute` method, sync
or async. Unless the class gives `parameters` explicitly, its JSON Schema is derived from the
type hints of `execute` and the parameter descriptions of its docstring, once, when the class
is defined — so an unsupported annotation fails at import time, not in the middle of a chat.
"""

import enum
import inspect
import logging
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, ClassVar

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from agents.providers.base import ToolSpec

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "oagweb.tools"
# OpenAI and GLM both reject function names outside this pattern with a 400.
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SCALARS: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


class ToolError(Exception):
    """Raise it from execute() to tell the model, in your own words, what went wrong: it
    reads `Error: <message>` and may try again. Any other exception reaches it with its type."""


@dataclass(frozen=True)
class _Arguments:
    """What a tool's class knows about its arguments, worked out once at class definition."""

    schema: dict[str, Any]
    enums: dict[str, type[enum.Enum]] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()  # Optional[T] parameters: a null may be dropped
    none_if_absent: frozenset[str] = frozenset()  # Optional[T] without default: pass None


class Tool:
    """Base class of every tool; subclasses set `name`, `description` and define `execute`."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    parameters: ClassVar[dict[str, Any] | None] = None
    _arguments: ClassVar[_Arguments | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Checked per class, inherited execute() included, so a subclass that only renames a
        # tool gets a schema of its own. A class without a name is an abstract base: it is
        # checked when first used instead.
        cls._arguments = None
        if hasattr(cls, "name"):
            _prepare(cls)

    def execute(self, **kwargs: Any) -> Any:
        raise TypeError(f"tool {type(self).__name__} does not define execute()")

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The JSON Schema of the arguments object."""
        return _arguments_of(cls).schema

    def spec(self) -> ToolSpec:
        parameters = self.schema()  # first: it explains a missing name better than Python
        return ToolSpec(name=self.name, description=self.description, parameters=parameters)

    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.execute)

    def drop_nulls(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Models often send null for an Optional[T] parameter they mean to leave out."""
        optional = _arguments_of(type(self)).optional
        return {key: value for key, value in arguments.items()
                if value is not None or key not in optional}

    def bind(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validated JSON arguments -> keyword arguments, Enum values turned into members."""
        shape = _arguments_of(type(self))
        kwargs = {name: None for name in shape.none_if_absent} | arguments
        for param, enum_type in shape.enums.items():
            value = kwargs.get(param)
            if isinstance(value, list):
                kwargs[param] = [enum_type(item) for item in value]
            elif value is not None:
                kwargs[param] = enum_type(value)
        return kwargs


def _arguments_of(cls: type[Tool]) -> _Arguments:
    if cls.__dict__.get("_arguments") is None:
        _prepare(cls)
    assert cls._arguments is not None
    return cls._arguments


def _prepare(cls: type[Tool]) -> None:
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise TypeError(
            f"tool {cls.__qualname__}: `name` must be 1-64 characters of letters, digits, "
            f"_ or -, got {name!r}"
        )
    if cls.execute is Tool.execute:
        raise TypeError(f"tool {name!r} ({cls.__qualname__}) does not define execute()")
    if not cls.description:
        cls.description = _docstring_summary(cls.__doc__ or cls.execute.__doc__ or "")
    if cls.parameters is not None:
        cls._arguments = _Arguments(schema=_checked_schema(cls, cls.parameters))
    else:
        cls._arguments = _derived_arguments(cls)


def _checked_schema(cls: type[Tool], schema: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise TypeError(f"tool {cls.name!r}: `parameters` must be a JSON Schema of type object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise TypeError(f"tool {cls.name!r}: `parameters` is not valid JSON Schema: "
                        f"{exc.message}") from exc
    return schema


def _derived_arguments(cls: type[Tool]) -> _Arguments:
    execute = cls.execute
    try:
        hints = typing.get_type_hints(execute, include_extras=True)
    except NameError as exc:
        raise TypeError(f"tool {cls.name!r}: cannot resolve a type hint of execute(): "
                        f"{exc}") from exc
    docs = _docstring_params(execute.__doc__ or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    enums: dict[str, type[enum.Enum]] = {}
    optional: set[str] = set()
    for param in list(inspect.signature(execute).parameters.values())[1:]:
        schema, is_optional, enum_type = _param_schema(cls, param, hints)
        if param.name in docs and "description" not in schema:
            schema["description"] = docs[param.name]
        properties[param.name] = schema
        if enum_type is not None:
            enums[param.name] = enum_type
        if is_optional:
            optional.add(param.name)
        elif param.default is inspect.Parameter.empty:
            required.append(param.name)
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    signature = inspect.signature(execute).parameters
    none_if_absent = {name for name in optional
                      if signature[name].default is inspect.Parameter.empty}
    return _Arguments(schema=schema, enums=enums, optional=frozenset(optional),
                      none_if_absent=frozenset(none_if_absent))


def _param_schema(
    cls: type[Tool], param: inspect.Parameter, hints: dict[str, Any],
) -> tuple[dict[str, Any], bool, type[enum.Enum] | None]:
    """(schema, may be None, Enum type to convert to) of one parameter of execute()."""
    where = f"tool {cls.name!r}, parameter {param.name!r}"
    if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
        raise TypeError(f"{where}: execute() takes named parameters only")
    if param.name not in hints:
        raise TypeError(f"{where}: missing type hint")
    annotation, description = _unwrap_annotated(hints[param.name])
    annotation, optional = _unwrap_optional(annotation, where=where)
    schema = _type_schema(annotation, where=where)
    if description:
        schema["description"] = description
    if param.default is not inspect.Parameter.empty and param.default is not None:
        default = param.default
        schema["default"] = default.value if isinstance(default, enum.Enum) else default
    return schema, optional, _enum_of(annotation)


def _unwrap_annotated(annotation: Any) -> tuple[Any, str]:
    """Annotated[T, "description"] -> (T, description)."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        return base, next((extra for extra in extras if isinstance(extra, str)), "")
    return annotation, ""


def _unwrap_optional(annotation: Any, *, where: str) -> tuple[Any, bool]:
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation, False
    members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if len(members) != 1:
        raise TypeError(f"{where}: unsupported union {annotation!r} "
                        "(only Optional[T] / T | None is supported)")
    return members[0], True


def _type_schema(annotation: Any, *, where: str) -> dict[str, Any]:
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return _enum_schema([member.value for member in annotation], where=where)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return _enum_schema(list(typing.get_args(annotation)), where=where)
    if origin is list and len(typing.get_args(annotation)) == 1:
        return {"type": "array", "items": _type_schema(typing.get_args(annotation)[0],
                                                       where=where)}
    raise TypeError(f"{where}: unsupported type hint {annotation!r}; use str, int, float, bool, "
                    "Literal[...], an Enum, list[T] or Optional[T]")


def _enum_schema(values: list[Any], *, where: str) -> dict[str, Any]:
    # bool before int: True is an int to Python but a boolean to JSON Schema.
    kinds = {_SCALARS.get(bool if isinstance(v, bool) else type(v)) for v in values}
    if None in kinds or not values:
        raise TypeError(f"{where}: enum values must be str, int, float or bool, got {values!r}")
    schema: dict[str, Any] = {"enum": values}
    if len(kinds) == 1:
        schema["type"] = kinds.pop()
    return schema


def _enum_of(annotation: Any) -> type[enum.Enum] | None:
    if typing.get_origin(annotation) is list:
        annotation = typing.get_args(annotation)[0]
    if inspect.isclass(annotation) and issubclass(annotation, enum.Enum):
        return annotation
    return None


def _docstring_summary(doc: str) -> str:
    paragraph = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(paragraph.split())


_REST_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_GOOGLE_PARAM = re.compile(r"^(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_GOOGLE_SECTIONS = {"args:", "arguments:", "parameters:", "params:"}


def _docstring_params(doc: str) -> dict[str, str]:
    """Parameter descriptions from a Google-style `Args:` section or reST `:param x:` lines."""
    lines = inspect.cleandoc(doc).splitlines()
    found = _rest_params(lines)
    found.update(_google_params(lines))
    return found


def _rest_params(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    current = ""
    for line in lines:
        match = _REST_PARAM.match(line.strip())
        if match:
            current = match.group(1)
            found[current] = match.group(2).strip()
        elif line.strip().startswith(":") or not line.strip():
            current = ""
        elif current:
            found[current] = f"{found[current]} {line.strip()}".strip()
    return found


def _google_params(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    in_section, indent, current = False, 0, ""
    for line in lines:
        stripped = line.strip()
        depth = len(line) - len(line.lstrip())
        if stripped.lower() in _GOOGLE_SECTIONS:
            in_section, indent, current = True, -1, ""
            continue
        if not in_section or not stripped:
            continue
        if indent == -1:
            indent = depth
        if depth < indent or depth == 0:
            in_section = False
        elif depth == indent and (match := _GOOGLE_PARAM.match(stripped)):
            current = match.group(1)
            found[current] = match.group(2).strip()
        elif current:
            found[current] = f"{found[current]} {stripped}".strip()
    return found


def tools_discover(
    *, on_error: Callable[[str, Exception], None] | None = None,
) -> list[Tool]:
    """Tools published by installed packages under the `oagweb.tools` entry-point group.

    An entry point names a Tool subclass (instantiated without arguments) or a Tool instance.
    One that fails to load is passed to `on_error` (default: logged) and skipped, so a single
    broken package never takes the whole tool list down.
    """
    report = on_error or _log_discovery_error
    found: dict[str, Tool] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            tool = _load_tool(entry_point)
        except Exception as exc:  # a plugin's import can fail in any way at all
            report(entry_point.name, exc)
            continue
        if tool.name in found:
            report(entry_point.name, ValueError(f"a tool named {tool.name!r} is already loaded"))
            continue
        found[tool.name] = tool
    return list(found.values())


def _load_tool(entry_point: metadata.EntryPoint) -> Tool:
    loaded = entry_point.load()
    if inspect.isclass(loaded) and issubclass(loaded, Tool):
        loaded = loaded()
    if not isinstance(loaded, Tool):
        raise TypeError(f"{entry_point.value} is neither a Tool subclass nor a Tool instance")
    loaded.schema()
    return loaded


def _log_discovery_error(name: str, exc: Exception) -> None:
    logger.warning("tool entry point %r (group %s) failed to load: %s: %s",
                   name, ENTRY_POINT_GROUP, type(exc).__name__, exc)
