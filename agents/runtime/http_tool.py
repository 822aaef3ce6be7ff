"""HTTP tools declared per instance, guarded against server-side request forgery (pure core).

An admin declares an `HttpTool`: a name, a JSON Schema for its arguments, a method and a URL
template. The model fills in the arguments, the tool fills the template, sends the request and
hands back the status and the body. The model chooses those arguments, possibly on the word of
a web page it has just read, so every hop (the first request and each redirect) is resolved
and checked before anything connects, and the address that was checked is the one dialled:
the tool cannot be pointed at the loopback interface, the private network or a cloud metadata
endpoint unless a team admin has allow-listed that host.
"""

import asyncio
import ipaddress
import json
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from agents.runtime.tools import Tool, ToolError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Enough for the http -> https -> canonical host -> login chains real APIs use; a sixth hop
# is far more likely a loop than a resource.
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Refused by name before any lookup: inside a cloud VM these answer with instance credentials,
# and naming them keeps the refusal independent of what the local resolver happens to say.
METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal",
})
# RFC 6598 shared space: carrier NAT, but also cloud-internal services (Alibaba's metadata
# endpoint is 100.100.100.200) and VPN overlays. Python counts it neither private nor global.
CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")
# RFC 6052 NAT64: a gateway translates these to the IPv4 address in their last 32 bits.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
ALLOW_LIST_HINT = "ask a team admin to allow-list the host"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class RequestRefused(ToolError):
    """The guard refused a URL before connecting: its scheme, credentials or address."""


@dataclass(frozen=True)
class _Hop:
    """One request of a call: the first, or one a redirect asked for."""

    method: str
    url: httpx.URL
    headers: dict[str, str]
    body: bytes | None


class HttpTool(Tool):
    """A tool that sends one HTTP request, declared per instance rather than per class."""

    def __init__(
        self, *, name: str, description: str, parameters: dict[str, Any], method: str,
        url_template: str, headers: dict[str, str] | None = None, timeout: float = 30.0,
        max_response_bytes: int = 100_000, allowed_hosts: frozenset[str] = frozenset(),
    ) -> None:
        _check_declaration(name=name, description=description, parameters=parameters)
        self.method = method.upper()
        _check_request(method=self.method, url_template=url_template, parameters=parameters,
                       timeout=timeout, max_response_bytes=max_response_bytes)
        # Tool declares these on the class; an instance attribute shadows them, and spec()
        # and the runtime read them through the instance.
        self.name = name
        self.description = description
        self.parameters = parameters
        self.url_template = url_template
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.allowed_hosts = frozenset(allowed_hosts)
        self._allowed_names, self._allowed_addresses = _allow_list(allowed_hosts)

    def schema(self) -> dict[str, Any]:  # an instance method here: the schema is per instance
        return self.parameters

    def drop_nulls(self, arguments: dict[str, Any]) -> dict[str, Any]:
        # An explicit schema has no Optional[T] hints, so like Tool's it drops nothing.
        return dict(arguments)

    def bind(self, arguments: dict[str, Any]) -> dict[str, Any]:
        # Nor Enum hints: the validated JSON arguments are the keyword arguments.
        return dict(arguments)

    async def execute(self, **arguments: Any) -> str:
        hop = self._first_hop(arguments)
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(hop)
        except TimeoutError:
            raise ToolError(f"{hop.method} {_shown(hop.url)} timed out after "
                            f"{self.timeout:g} s") from None

    def _first_hop(self, arguments: dict[str, Any]) -> _Hop:
        text, rest = _filled(self.url_template, arguments)
        body: bytes | None = None
        try:
            url = httpx.URL(text)
            if self.method in BODY_METHODS:
                body = json.dumps(rest, ensure_ascii=False).encode()
            else:
                url = url.copy_merge_params(_query_params(rest))
        except httpx.InvalidURL as exc:
            raise ToolError(f"the filled URL is not valid: {exc}") from None
        return _Hop(method=self.method, url=url, headers=self.headers, body=body)

    async def _follow(self, hop: _Hop) -> str:
        for _ in range(MAX_REDIRECTS + 1):
            outcome = await self._send(hop)
            if isinstance(outcome, str):
                return outcome
            hop = outcome
        raise ToolError(f"more than {MAX_REDIRECTS} redirects; the last one was to "
                        f"{_shown(hop.url)}")

    async def _send(self, hop: _Hop) -> str | _Hop:
        """The response as text, or the next hop if it is a redirect."""
        addresses = await self._checked_addresses(hop.url)
        # A client per hop: its connection pool never carries a connection made for one host
        # over to a request for another.
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as client:
            response = await _dial(client, hop, addresses)
            try:
                if response.status_code in REDIRECT_STATUSES and "location" in response.headers:
                    return _redirected(hop, response)
                return await _text(response, limit=self.max_response_bytes)
            except httpx.HTTPError as exc:
                raise ToolError(f"{hop.method} {_shown(hop.url)} failed while reading the "
                                f"response: {type(exc).__name__}: {exc}") from None
            finally:
                await response.aclose()

    async def _checked_addresses(self, url: httpx.URL) -> list[IPAddress]:
        """The addresses `url` may be dialled at, resolved once; RequestRefused if none may."""
        if url.scheme not in ("http", "https"):
            raise RequestRefused(f"refused: {_shown(url)} is not an http or https URL")
        if url.userinfo:
            raise RequestRefused("refused: URLs with credentials (user:password@host) are not "
                                 "allowed; configure them as headers instead")
        host = url.raw_host.decode("ascii").rstrip(".").lower()
        literal = _ip_literal(host)
        port = url.port or (443 if url.scheme == "https" else 80)
        if host in self._allowed_names or literal in self._allowed_addresses:
            return [literal] if literal is not None else await _resolved(host, port)
        if host in METADATA_HOSTS:
            raise RequestRefused(f"refused: {host} is a cloud metadata service; {ALLOW_LIST_HINT}")
        addresses = [literal] if literal is not None else await _resolved(host, port)
        for address in addresses:
            problem = _address_problem(address)
            if problem is None:
                continue
            if literal is not None:
                raise RequestRefused(f"refused: {host} is {problem}; {ALLOW_LIST_HINT}")
            raise RequestRefused(f"refused: {host} resolves to {address}, {problem}; "
                                 f"{ALLOW_LIST_HINT}")
        return addresses


def _check_declaration(*, name: str, description: str, parameters: dict[str, Any]) -> None:
    if not description.strip():
        raise ValueError(f"HTTP tool {name!r}: the description must not be empty; the model "
                         "picks tools by it")
    # Tool checks a declaration when its class is created; a throwaway subclass carrying this
    # one gets exactly the same checks (name pattern, JSON Schema) without a copy of them.
    try:
        type("HttpToolDeclaration", (HttpTool,),
             {"name": name, "description": description, "parameters": parameters})
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def _check_request(
    *, method: str, url_template: str, parameters: dict[str, Any], timeout: float,
    max_response_bytes: int,
) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(sorted(METHODS))}, got {method!r}")
    # The scheme is the admin's to choose: a template that lets the model pick it is refused.
    if not url_template.lower().startswith(("http://", "https://")):
        raise ValueError(f"url_template must start with http:// or https://, "
                         f"got {url_template!r}")
    properties = parameters.get("properties", {})
    unknown = [name for name in _PLACEHOLDER.findall(url_template) if name not in properties]
    if unknown:
        raise ValueError(f"url_template uses {', '.join(unknown)}, which the parameters do "
                         "not declare")
    if timeout <= 0 or max_response_bytes <= 0:
        raise ValueError("timeout and max_response_bytes must be positive")


def _allow_list(hosts: frozenset[str]) -> tuple[frozenset[str], frozenset[IPAddress]]:
    """Host names and IP literals of the allow-list, spelled as the checks compare them."""
    names: set[str] = set()
    addresses: set[IPAddress] = set()
    for entry in hosts:
        host = entry.strip().strip("[]").rstrip(".").lower()
        literal = _ip_literal(host)
        if literal is None:
            names.add(host)
        else:
            addresses.add(literal)
    return frozenset(names), frozenset(addresses)


def _filled(template: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The template with its placeholders filled in, and the arguments it did not use."""
    used: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if arguments.get(name) is None:
            raise ToolError(f"the URL needs the argument {name!r}, which was not given")
        used.add(name)
        return _quoted(name, arguments[name])

    url = _PLACEHOLDER.sub(fill, template)
    return url, {name: value for name, value in arguments.items() if name not in used}


def _quoted(name: str, value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        raise ToolError(f"argument {name!r} goes into the URL, so it must be a string or a "
                        f"number, not {type(value).__name__}")
    # "/" is quoted too, but a whole "." or ".." segment would still climb out of the path
    # the admin wrote once the URL is normalized.
    if text in (".", ".."):
        raise ToolError(f"argument {name!r} cannot be {text!r}")
    return quote(text, safe="")


def _query_params(arguments: dict[str, Any]) -> dict[str, Any]:
    for name, value in arguments.items():
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, dict | list) for item in items):
            raise ToolError(f"argument {name!r} is nested, so it cannot be a query parameter")
    # A model sends null for what it means to leave out; "?key=" would say something else.
    return {name: value for name, value in arguments.items() if value is not None}


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _resolved(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, each once."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolError(f"could not resolve {host}: {exc.strerror}") from None
    addresses = dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos)
    if not addresses:
        raise ToolError(f"could not resolve {host}: no addresses")
    return list(addresses)


def _address_problem(address: IPAddress) -> str | None:
    """Why the tool must not connect to `address` ("a loopback address"...), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            # Judged by the IPv4 address it reaches: Python calls every mapped address
            # reserved, public or not.
            problem = _address_problem(inner)
            return None if problem is None else f"an IPv6 form of {inner}, {problem}"
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address, where cloud metadata services live"),
        (address.is_multicast, "a multicast address"),
        (address in CARRIER_GRADE_NAT, "a carrier-grade NAT address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((problem for refused, problem in checks if refused), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or NAT64 address leads to."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


async def _dial(
    client: httpx.AsyncClient, hop: _Hop, addresses: list[IPAddress],
) -> httpx.Response:
    """Send `hop` to the first checked address that accepts a connection.

    The URL names the checked address itself, so nothing resolves the host a second time (a
    DNS rebinding answer in between changes nothing). Host header and TLS SNI still carry the
    host name; httpcore verifies the certificate against that SNI name, so https stays pinned
    and verified too.
    """
    headers = httpx.Headers({"Content-Type": "application/json"} if hop.body is not None else {})
    headers.update(hop.headers)  # a configured Content-Type wins, whatever its case
    headers["Host"] = hop.url.netloc.decode("ascii")
    failure: httpx.HTTPError | None = None
    for address in addresses:
        request = client.build_request(
            hop.method, hop.url.copy_with(host=str(address)), content=hop.body, headers=headers,
            extensions={"sni_hostname": hop.url.raw_host.decode("ascii")},
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            failure = exc
        except httpx.HTTPError as exc:
            raise ToolError(f"{hop.method} {_shown(hop.url)} failed: "
                            f"{type(exc).__name__}: {exc}") from None
    raise ToolError(f"could not connect to {hop.url.host} "
                    f"({', '.join(map(str, addresses))}): {failure}")


def _redirected(hop: _Hop, response: httpx.Response) -> _Hop:
    try:
        url = hop.url.join(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise ToolError(f"{_shown(hop.url)} redirected to an invalid URL: {exc}") from None
    method, body, headers = hop.method, hop.body, hop.headers
    # What browsers and httpx do: 303 always, and 301/302 after a POST, turn into a GET.
    if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
        method, body = "GET", None
    # Configured headers often hold the API's credentials: they never follow to another origin.
    if (url.scheme, url.host, url.port) != (hop.url.scheme, hop.url.host, hop.url.port):
        headers = {}
    return _Hop(method=method, url=url, headers=headers, body=body)


async def _text(response: httpx.Response, *, limit: int) -> str:
    """The status line the model reads and the body, read no further than `limit` bytes."""
    body = bytearray()
    truncated = False
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            del body[limit:]
            truncated = True
            break
    text = f"HTTP {response.status_code}\n{body.decode('utf-8', errors='replace')}"
    if truncated:
        text += f"\n[truncated: the response is longer than {limit} bytes]"
    return text


def _shown(url: httpx.URL) -> str:
    """`url` for an error message: the query can hold a key from the template, and the model
    (and its provider) read every message."""
    return str(url.copy_with(query=None, fragment=None))
