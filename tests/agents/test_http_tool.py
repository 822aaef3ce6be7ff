"""HTTP tools and their SSRF guard, over real sockets against small servers on loopback."""

import datetime
import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agents.providers import provider_for
from agents.providers.base import Message, ToolSpec
from agents.runtime.http_tool import MAX_REDIRECTS, HttpTool, RequestRefused
from agents.runtime.loop import run
from agents.runtime.tools import ToolError
from tests.agents.llm_server import Reply, ScriptedLLM

pytestmark = pytest.mark.anyio

ITEM = {"type": "object", "properties": {"item_id": {"type": "string"}, "q": {"type": "string"},
                                         "limit": {"type": "integer"}},
        "required": ["item_id"], "additionalProperties": False}
NOTHING: dict[str, Any] = {"type": "object", "properties": {}}
LOOPBACK = frozenset({"127.0.0.1"})
# Far more than the socket buffers hold, so the server only finishes if the client reads it all.
ENDLESS_BYTES = 64 * 1024 * 1024


class Site(ThreadingHTTPServer):
    """What the handler needs: redirects to answer, and a record of every path requested."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.seen: list[str] = []
        self.redirects: dict[str, tuple[int, str]] = {}
        self.cut_off = threading.Event()


class Handler(BaseHTTPRequestHandler):
    server: Site

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        self.server.seen.append(self.path)
        path = self.path.partition("?")[0]
        if path in self.server.redirects:
            status, location = self.server.redirects[path]
            self._send(status, b"", location=location)
        elif path == "/missing":
            self._send(404, b'{"detail": "no such item"}')
        elif path == "/endless":
            self._send_endless()
        else:
            self._send(200, json.dumps(self._echo(body)).encode())

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _echo(self, body: str) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        return {"method": self.command, "path": path, "query": parse_qs(query),
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": json.loads(body) if body else None}

    def _send(self, status: int, body: bytes, *, location: str = "") -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(ENDLESS_BYTES))
        self.end_headers()
        try:
            for _ in range(ENDLESS_BYTES // 65536):
                self.wfile.write("é".encode() * 32768)
        except OSError:
            self.server.cut_off.set()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    # A short poll interval: shutdown() waits for one, and every test stops a server.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def http_tool(url_template: str, **options: Any) -> HttpTool:
    settings: dict[str, Any] = {"name": "get_item", "description": "Fetch an item.",
                                "parameters": ITEM, "method": "GET"} | options
    return HttpTool(url_template=url_template, **settings)


def echoed(output: str) -> dict[str, Any]:
    status, _, body = output.partition("\n")
    assert status == "HTTP 200"
    return json.loads(body)


async def test_it_refuses_loopback_without_an_allow_list(site: Site) -> None:
    tool = http_tool(f"{site.base}/items/{{item_id}}")

    with pytest.raises(RequestRefused, match=r"^refused: 127\.0\.0\.1 is a loopback address; "
                                             r"ask a team admin to allow-list the host$"):
        await tool.execute(item_id="1")

    assert site.seen == []


async def test_it_sends_get_arguments_as_query_parameters(site: Site) -> None:
    tool = http_tool(f"{site.base}/items/{{item_id}}?format=json", allowed_hosts=LOOPBACK,
                     headers={"X-Api-Key": "secret"})

    answer = echoed(await tool.execute(item_id="7", q="red shoes", limit=5))

    assert (answer["method"], answer["path"]) == ("GET", "/items/7")
    assert answer["query"] == {"format": ["json"], "q": ["red shoes"], "limit": ["5"]}
    assert answer["headers"]["x-api-key"] == "secret"
    assert answer["headers"]["host"] == f"127.0.0.1:{site.port}"


async def test_it_sends_delete_arguments_as_query_parameters(site: Site) -> None:
    tool = http_tool(f"{site.base}/items/{{item_id}}", method="delete", allowed_hosts=LOOPBACK)

    answer = echoed(await tool.execute(item_id="7", q="now"))

    assert (answer["method"], answer["query"], answer["body"]) == ("DELETE", {"q": ["now"]}, None)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_it_sends_other_arguments_as_a_json_body(site: Site, method: str) -> None:
    tool = http_tool(f"{site.base}/items/{{item_id}}", method=method, allowed_hosts=LOOPBACK)

    answer = echoed(await tool.execute(item_id="7", q="红色", limit=2))

    assert (answer["method"], answer["path"], answer["query"]) == (method, "/items/7", {})
    assert answer["body"] == {"q": "红色", "limit": 2}
    assert answer["headers"]["content-type"] == "application/json"


async def test_it_quotes_placeholder_values(site: Site) -> None:
    tool = http_tool(f"{site.base}/items/{{item_id}}/reviews", allowed_hosts=LOOPBACK)

    answer = echoed(await tool.execute(item_id="a b/../c?d=1#e&北"))

    assert answer["path"] == "/items/a%20b%2F..%2Fc%3Fd%3D1%23e%26%E5%8C%97/reviews"
    assert answer["query"] == {}


@pytest.mark.parametrize("value", [".", ".."])
async def test_it_refuses_a_placeholder_that_climbs_the_path(site: Site, value: str) -> None:
    tool = http_tool(f"{site.base}/items/{{item_id}}", allowed_hosts=LOOPBACK)

    with pytest.raises(ToolError, match="'item_id' cannot be"):
        await tool.execute(item_id=value)

    assert site.seen == []


async def test_it_says_which_placeholder_argument_is_missing(site: Site) -> None:
    tool = http_tool(f"{site.base}/items/{{item_id}}", allowed_hosts=LOOPBACK)

    with pytest.raises(ToolError, match="the URL needs the argument 'item_id'"):
        await tool.execute(q="x")


async def test_it_follows_a_redirect_on_the_same_origin(site: Site) -> None:
    site.redirects["/old"] = (301, "/items/7")
    tool = http_tool(f"{site.base}/old", parameters=NOTHING, allowed_hosts=LOOPBACK)

    answer = echoed(await tool.execute())

    assert answer["path"] == "/items/7"
    assert site.seen == ["/old", "/items/7"]


@pytest.mark.parametrize(("status", "method", "body"), [
    (303, "GET", None), (302, "GET", None), (307, "POST", {"q": "x"}), (308, "POST", {"q": "x"}),
])
async def test_it_keeps_or_drops_the_body_as_the_redirect_status_says(
    site: Site, status: int, method: str, body: dict[str, str] | None,
) -> None:
    site.redirects["/items/7"] = (status, "/done")
    tool = http_tool(f"{site.base}/items/{{item_id}}", method="POST", allowed_hosts=LOOPBACK)

    answer = echoed(await tool.execute(item_id="7", q="x"))

    assert (answer["method"], answer["path"], answer["body"]) == (method, "/done", body)


async def test_it_keeps_configured_headers_away_from_another_origin(site: Site) -> None:
    site.redirects["/old"] = (302, f"http://localhost:{site.port}/elsewhere")
    tool = http_tool(f"{site.base}/old", parameters=NOTHING, headers={"X-Api-Key": "secret"},
                     allowed_hosts=frozenset({"127.0.0.1", "localhost"}))

    answer = echoed(await tool.execute())

    assert "x-api-key" not in answer["headers"]


async def test_it_dials_the_address_it_checked_under_the_name_it_was_given(
    site: Site, caplog: pytest.LogCaptureFixture,
) -> None:
    tool = http_tool(f"http://localhost:{site.port}/items/{{item_id}}",
                     allowed_hosts=frozenset({"localhost"}))

    with caplog.at_level(logging.INFO, logger="httpx"):
        answer = echoed(await tool.execute(item_id="7"))

    # httpx was handed the address, so it had no name left to look up again (DNS rebinding).
    assert [record.args[1] for record in caplog.records] == [
        httpx.URL(f"http://127.0.0.1:{site.port}/items/7")]
    assert answer["headers"]["host"] == f"localhost:{site.port}"


@pytest.mark.parametrize("target", [
    "http://localhost:{port}/secret", "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/", "http://[::ffff:169.254.169.254]/", "file:///etc/passwd",
    "ftp://example.com/x", "http://admin:hunter2@127.0.0.1:{port}/secret",
])
async def test_it_refuses_a_forbidden_redirect_without_connecting(
    site: Site, target: str,
) -> None:
    site.redirects["/hop"] = (302, target.format(port=site.port))
    tool = http_tool(f"{site.base}/hop", parameters=NOTHING, allowed_hosts=LOOPBACK)

    with pytest.raises(RequestRefused, match="^refused: "):
        await tool.execute()

    assert site.seen == ["/hop"]


async def test_it_gives_up_after_five_redirects(site: Site) -> None:
    site.redirects["/loop"] = (302, "/loop?token=s3cret")
    tool = http_tool(f"{site.base}/loop", parameters=NOTHING, allowed_hosts=LOOPBACK)

    with pytest.raises(ToolError, match=f"more than {MAX_REDIRECTS} redirects") as failed:
        await tool.execute()

    assert site.seen == ["/loop"] + ["/loop?token=s3cret"] * MAX_REDIRECTS
    assert "s3cret" not in str(failed.value)  # the model reads it; a query can hold a key


async def test_it_gives_up_on_a_server_that_never_answers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never replies
        port = silent.getsockname()[1]
        tool = http_tool(f"http://127.0.0.1:{port}/", parameters=NOTHING, timeout=0.3,
                         allowed_hosts=LOOPBACK)

        with pytest.raises(ToolError, match=r"timed out after 0\.3 s|ReadTimeout"):
            await tool.execute()


@pytest.mark.parametrize(("host", "reason"), [
    ("localhost", "localhost resolves to 127.0.0.1, a loopback address"),
    ("0.0.0.0", "0.0.0.0 is an unspecified address"),
    ("[::1]", "::1 is a loopback address"),
    ("169.254.169.254", "169.254.169.254 is a link-local address"),
    ("10.1.2.3", "10.1.2.3 is a private address"),
    ("192.168.0.1", "192.168.0.1 is a private address"),
    ("100.64.0.1", "100.64.0.1 is a carrier-grade NAT address"),
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1 is an IPv6 form of 127.0.0.1, a loopback address"),
    ("[fd00:ec2::254]", "fd00:ec2::254 is a private address"),
    ("[fe80::1]", "fe80::1 is a link-local address"),
    ("224.0.0.1", "224.0.0.1 is a multicast address"),
    ("2130706433", "2130706433 resolves to 127.0.0.1, a loopback address"),
    ("metadata.google.internal", "metadata.google.internal is a cloud metadata service"),
])
async def test_it_refuses_internal_addresses(host: str, reason: str) -> None:
    tool = http_tool(f"http://{host}/latest", parameters=NOTHING)

    with pytest.raises(RequestRefused) as refused:
        await tool.execute()

    assert str(refused.value).startswith(f"refused: {reason}")
    assert str(refused.value).endswith("; ask a team admin to allow-list the host")


async def test_it_matches_an_allow_listed_name_exactly(site: Site) -> None:
    localhost = frozenset({"localhost"})
    by_address = http_tool(f"{site.base}/items/{{item_id}}", allowed_hosts=localhost)
    by_name = http_tool(f"http://LOCALHOST.:{site.port}/items/{{item_id}}", allowed_hosts=localhost)

    with pytest.raises(RequestRefused, match="127.0.0.1 is a loopback address"):
        await by_address.execute(item_id="1")
    assert echoed(await by_name.execute(item_id="2"))["path"] == "/items/2"


async def test_it_matches_an_allow_listed_address_however_it_is_spelled(site: Site) -> None:
    mapped = f"http://[::ffff:7f00:1]:{site.port}/items/{{item_id}}"
    allowed = http_tool(mapped, allowed_hosts=frozenset({" [::FFFF:127.0.0.1] "}))

    with pytest.raises(RequestRefused, match="an IPv6 form of 127.0.0.1"):
        await http_tool(mapped, allowed_hosts=LOOPBACK).execute(item_id="1")
    assert echoed(await allowed.execute(item_id="2"))["path"] == "/items/2"


async def test_it_cuts_a_long_response_off_at_the_limit(site: Site) -> None:
    tool = http_tool(f"{site.base}/endless", parameters=NOTHING, allowed_hosts=LOOPBACK,
                     max_response_bytes=1001)

    output = await tool.execute()

    status, _, rest = output.partition("\n")
    body, _, note = rest.rpartition("\n")
    assert status == "HTTP 200"
    assert body == "é" * 500 + "\N{REPLACEMENT CHARACTER}"  # 1001 bytes end mid-character
    assert note == "[truncated: the response is longer than 1001 bytes]"
    assert site.cut_off.wait(10), "the tool read the whole body instead of hanging up"


async def test_it_returns_an_error_status_as_text(site: Site) -> None:
    tool = http_tool(f"{site.base}/missing", parameters=NOTHING, allowed_hosts=LOOPBACK)

    assert await tool.execute() == 'HTTP 404\n{"detail": "no such item"}'


async def test_it_refuses_credentials_in_the_url(site: Site) -> None:
    tool = http_tool(f"http://{{item_id}}@127.0.0.1:{site.port}/", allowed_hosts=LOOPBACK)

    with pytest.raises(RequestRefused, match=r"credentials \(user:password@host\)"):
        await tool.execute(item_id="admin")

    assert site.seen == []


async def test_it_names_the_host_it_could_not_reach() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    tool = http_tool(f"http://127.0.0.1:{port}/", parameters=NOTHING, allowed_hosts=LOOPBACK)

    with pytest.raises(ToolError, match=r"could not connect to 127\.0\.0\.1 \(127\.0\.0\.1\)"):
        await tool.execute()


@pytest.mark.parametrize(("options", "message"), [
    ({"url_template": "file:///etc/passwd"}, "must start with http:// or https://"),
    ({"url_template": "ftp://example.com/{item_id}"}, "must start with http:// or https://"),
    ({"url_template": "{item_id}"}, "must start with http:// or https://"),
    ({"url_template": "https://example.com/{id}"}, "uses id, which the parameters do not"),
    ({"method": "TRACE"}, "method must be one of"),
    ({"name": "has space"}, "`name` must be"),
    ({"description": " "}, "description must not be empty"),
    ({"parameters": {"type": "object", "properties": {"q": {"type": "strng"}}}},
     "not valid JSON Schema"),
    ({"max_response_bytes": 0}, "must be positive"),
])
def test_it_rejects_a_bad_declaration(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        http_tool(**{"url_template": "https://example.com/{item_id}"} | options)


def test_it_shows_the_runtime_its_own_name_and_schema() -> None:
    item = http_tool("https://example.com/items/{item_id}")
    search = http_tool("https://example.com/search", name="search", description="Search.",
                       parameters=NOTHING)

    assert item.spec() == ToolSpec(name="get_item", description="Fetch an item.",
                                   parameters=ITEM)
    assert (item.schema(), search.schema()) == (ITEM, NOTHING)
    assert search.spec() == ToolSpec(name="search", description="Search.", parameters=NOTHING)
    assert item.is_async()
    assert item.bind(item.drop_nulls({"item_id": "1", "q": None})) == {"item_id": "1", "q": None}


async def test_it_runs_in_the_loop_and_the_model_reads_the_body(
    site: Site, llm_server: ScriptedLLM,
) -> None:
    tool = http_tool(f"{site.base}/items/{{item_id}}", allowed_hosts=LOOPBACK)
    llm_server.script(Reply(tool_calls=[("get_item", {"item_id": "42", "limit": 3})]),
                      Reply(text="done"))
    provider = provider_for("glm-4", base_url=llm_server.base_url, api_key="test-key")

    result = await run(provider=provider, model="glm-4", tools=[tool],
                       messages=[Message(role="user", content="What is item 42?")])

    assert result.answer == "done"
    first, second = llm_server.requests
    assert first["tools"] == [{"type": "function", "function": {
        "name": "get_item", "description": "Fetch an item.", "parameters": ITEM}}]
    [tool_message] = [message for message in second["messages"] if message["role"] == "tool"]
    answer = echoed(tool_message["content"])
    assert (answer["path"], answer["query"]) == ("/items/42", {"limit": ["3"]})


def self_signed_certificate(directory: Path, *, host: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class TlsHandshakes:
    """A TLS listener on 127.0.0.1 that records the SNI name of each handshake."""

    names: list[str | None] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def tls_listener(tmp_path: Path) -> Iterator[tuple[int, TlsHandshakes]]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed_certificate(tmp_path, host="localhost"))
    handshakes = TlsHandshakes()
    context.sni_callback = lambda _socket, name, _context: handshakes.names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        connection, _ = listener.accept()
        try:
            context.wrap_socket(connection, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass  # the client rejects the self-signed certificate, as it should
        finally:
            connection.close()
            handshakes.done.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], handshakes
    listener.close()
    thread.join(5)


async def test_it_dials_https_at_the_checked_address_with_the_host_name_for_tls(
    tls_listener: tuple[int, TlsHandshakes],
) -> None:
    port, handshakes = tls_listener
    tool = http_tool(f"https://localhost:{port}/", parameters=NOTHING,
                     allowed_hosts=frozenset({"localhost"}))

    with pytest.raises(ToolError, match="CERTIFICATE_VERIFY_FAILED"):
        await tool.execute()

    assert handshakes.done.wait(5)
    # The URL dialled names 127.0.0.1, for which no SNI would be sent at all.
    assert handshakes.names == ["localhost"]
