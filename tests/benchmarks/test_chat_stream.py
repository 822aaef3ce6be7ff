"""Chat streaming: the platform's WebSocket against a direct read of the same scripted server.

One run measures both paths against one `ScriptedLLM`, alternating them run by run:
- direct (the peer): the openai AsyncOpenAI client the platform uses, created once, reading
  the stream straight from the server;
- platform: daphne + ChatConsumer + the run service, read by an aiohttp WebSocket client.
A token is one content delta: the server sends "t0001 ", "t0002 ", ... one per SSE chunk, and
the platform must deliver them one `token` frame each. Prints a table, writes it to
test-results/bench-chat.md, then asserts the targets of the issue.
"""

import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import openai
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from agents.models import Agent
from tests.agents.factories import AgentFactory, ConversationFactory, ProviderConnectionFactory
from tests.agents.llm_server import Reply, ScriptedLLM
from tests.oagweb.test_consumers import _session_cookie
from tests.stack import ROOT, daphne_server

REPORT = ROOT / "test-results" / "bench-chat.md"
MODEL = "glm-4"
PROMPT = "Count for me"
TOKENS = 2000  # the stream length
TTFT_TOKENS = 10  # TTFT runs use a short reply: the first token is what they time
TTFT_RUNS = 30  # the issue asks for 20 or more
THROUGHPUT_RUNS = 5
WARMUP_RUNS = 2  # first connections, imports and caches on both paths, not counted
# The paced run: 1 ms between chunks, about 1,000 tokens/s, still 5-50x what real LLMs
# stream; asyncio's sleep overshoots a little, so the server really sends 800-850/s.
PACE = 0.001
SESSIONS = 100
SESSION_TOKENS = 200
# Each of the 100 sessions streams at 100 tokens/s (a fast real model): 10,000 tokens/s in all.
SESSION_PACE = 0.01
RECEIVE_TIMEOUT = 60.0  # seconds for any one frame: a stalled stream fails, never hangs
MIN_THROUGHPUT_RATIO = 0.95  # platform tokens/s over direct tokens/s, paced run
MAX_ADDED_TTFT = 0.010  # seconds of time to first token the platform may add, p50


@dataclass(frozen=True)
class Reading:
    """One streamed reply as a client saw it; times in seconds from the request."""

    ttft: float
    duration: float  # until the last token
    tokens: list[str]

    @property
    def rate(self) -> float:
        return len(self.tokens) / self.duration


@dataclass
class Bench:
    llm: ScriptedLLM
    client: openai.AsyncOpenAI  # the peer: one client, as a caller of the server would keep
    http: aiohttp.ClientSession  # carries the session cookie of the conversations' owner
    base_url: str
    agent: Agent


def _numbered(count: int, tag: str = "") -> list[str]:
    return [f"{tag}t{index:04d} " for index in range(1, count + 1)]


def _reply(tokens: list[str], pace: float = 0.0) -> Reply:
    return Reply(text="".join(tokens), chunk_chars=len(tokens[0]), chunk_delay=pace)


@pytest.fixture(scope="module", autouse=True)
def _quiet_request_log() -> Iterator[None]:
    """The openai client logs each request at INFO: hundreds of lines around the table."""
    logger = logging.getLogger("httpx2")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


@pytest.fixture(scope="module")
def daphne_url(django_db_setup) -> Iterator[str]:
    """daphne as production runs it (DEBUG off), one OpenMP thread, on the test database."""
    env = {"OMP_NUM_THREADS": "1", "DEBUG": "false", "SECRET_KEY": settings.SECRET_KEY}
    with daphne_server(**env) as url:
        yield url


@pytest.fixture
async def bench(owner, llm, daphne_url) -> AsyncIterator[Bench]:
    agent = await sync_to_async(AgentFactory)(
        team=owner.team,
        provider=await sync_to_async(ProviderConnectionFactory)(team=owner.team,
                                                                base_url=llm.base_url))
    name, value = await sync_to_async(_session_cookie)(owner)
    client = openai.AsyncOpenAI(base_url=llm.base_url, api_key="none", max_retries=0)
    async with client, aiohttp.ClientSession(headers={name.decode(): value.decode()}) as http:
        yield Bench(llm=llm, client=client, http=http, base_url=daphne_url, agent=agent)
    await sync_to_async(connections.close_all)()


async def _direct_read(bench: Bench) -> Reading:
    tokens: list[str] = []
    started = time.perf_counter()
    first = last = started
    stream = await bench.client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": PROMPT}], stream=True)
    async with stream:
        async for chunk in stream:
            for choice in chunk.choices:
                if choice.delta.content:
                    last = time.perf_counter()
                    first = first if tokens else last
                    tokens.append(choice.delta.content)
    return Reading(ttft=first - started, duration=last - started, tokens=tokens)


async def _platform_read(socket: aiohttp.ClientWebSocketResponse) -> Reading:
    tokens: list[str] = []
    started = time.perf_counter()
    first = last = started
    await socket.send_json({"type": "send", "text": PROMPT})
    while True:
        message = await socket.receive(timeout=RECEIVE_TIMEOUT)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"the platform closed the socket mid-run: {message}")
        event = json.loads(message.data)
        if event["type"] == "token":
            last = time.perf_counter()
            first = first if tokens else last
            tokens.append(event["text"])
        elif event["type"] == "final":
            return Reading(ttft=first - started, duration=last - started, tokens=tokens)
        elif event["type"] in ("error", "stopped"):
            raise AssertionError(f"the platform run failed: {event}")


@asynccontextmanager
async def _chat_socket(bench: Bench) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A socket on a new conversation: every platform run starts from the same history."""
    conversation = await sync_to_async(ConversationFactory)(agent=bench.agent)
    url = f"ws{bench.base_url[4:]}/ws/conversations/{conversation.pk}/"
    async with bench.http.ws_connect(url, origin=bench.base_url) as socket:
        yield socket


async def _platform_once(bench: Bench) -> Reading:
    async with _chat_socket(bench) as socket:
        return await _platform_read(socket)


async def _paired(bench: Bench, tokens: list[str], *, runs: int,
                  pace: float = 0.0) -> tuple[list[Reading], list[Reading]]:
    """`runs` readings of each path, alternated so that drift hits both alike."""
    direct, through = [], []
    for run in range(WARMUP_RUNS + runs):
        bench.llm.script(_reply(tokens, pace))
        direct_reading = await _direct_read(bench)
        bench.llm.script(_reply(tokens, pace))
        platform_reading = await _platform_once(bench)
        for reading, path in ((direct_reading, "direct"), (platform_reading, "platform")):
            assert reading.tokens == tokens, f"{path} delivered a different stream"
        if run >= WARMUP_RUNS:
            direct.append(direct_reading)
            through.append(platform_reading)
    return direct, through


@dataclass(frozen=True)
class SessionsResult:
    wall: float
    tokens: int
    faults: dict[str, int]
    ttfts: list[float]


async def _sessions(bench: Bench) -> SessionsResult:
    """SESSIONS sockets at once, each on its own conversation with its own numbered reply."""
    expected = [_numbered(SESSION_TOKENS, tag=f"s{index:03d}") for index in range(SESSIONS)]
    async with AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(_chat_socket(bench))
                   for _ in range(SESSIONS)]
        bench.llm.script(*(_reply(tokens, SESSION_PACE) for tokens in expected))
        started = time.perf_counter()
        readings = await asyncio.gather(*(_platform_read(socket) for socket in sockets))
        wall = time.perf_counter() - started
    return SessionsResult(wall=wall, tokens=sum(len(reading.tokens) for reading in readings),
                          faults=_faults(expected, readings),
                          ttfts=[reading.ttft for reading in readings])


def _faults(expected: list[list[str]], readings: list[Reading]) -> dict[str, int]:
    """Tokens lost, duplicated, out of order, or from another session; replies not served
    to exactly one session."""
    by_tag = {tokens[0][:4]: tokens for tokens in expected}
    faults = dict.fromkeys(("lost", "duplicated", "reordered", "foreign", "misrouted"), 0)
    served = [reading.tokens[0][:4] if reading.tokens else "" for reading in readings]
    faults["misrouted"] = len(expected) - len(set(served) & set(by_tag))
    for tag, reading in zip(served, readings, strict=True):
        want, got = by_tag.get(tag, []), reading.tokens
        faults["lost"] += len(set(want) - set(got))
        faults["duplicated"] += len(got) - len(set(got))
        faults["foreign"] += len(set(got) - set(want))
        kept = list(dict.fromkeys(token for token in got if token in want))
        faults["reordered"] += kept != [token for token in want if token in kept]
    return faults


def _median_rate(readings: list[Reading]) -> float:
    return statistics.median(reading.rate for reading in readings)


def _p50(values: list[float]) -> float:
    return statistics.median(values)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


@dataclass(frozen=True)
class Results:
    ttft: tuple[list[Reading], list[Reading]]
    unpaced: tuple[list[Reading], list[Reading]]
    paced: tuple[list[Reading], list[Reading]]
    sessions: SessionsResult
    load: tuple[float, float]  # 1-minute load average before and after: other work on the box

    def added_ttft(self) -> float:
        direct, through = self.ttft
        return _p50([r.ttft for r in through]) - _p50([r.ttft for r in direct])

    def ratio(self, paced: bool) -> float:
        direct, through = self.paced if paced else self.unpaced
        return _median_rate(through) / _median_rate(direct)

    def checks(self) -> dict[str, bool]:
        return {
            "added TTFT p50": self.added_ttft() <= MAX_ADDED_TTFT,
            "tokens/s ratio, paced": self.ratio(paced=True) >= MIN_THROUGHPUT_RATIO,
            f"{SESSIONS} sessions intact": not any(self.sessions.faults.values()),
        }


def _ttft_rows(results: Results) -> list[list[str]]:
    direct, through = ([r.ttft for r in readings] for readings in results.ttft)
    added = results.added_ttft()
    return [
        [f"TTFT p50 ({TTFT_RUNS} runs, {TTFT_TOKENS}-token reply, unpaced)", _ms(_p50(direct)),
         _ms(_p50(through)), f"+{_ms(added)}", f"<= +{_ms(MAX_ADDED_TTFT)}",
         _verdict(added <= MAX_ADDED_TTFT)],
        [f"TTFT p95 ({TTFT_RUNS} runs)", _ms(_p95(direct)), _ms(_p95(through)),
         f"+{_ms(_p95(through) - _p95(direct))}", "-", "info"],
    ]


def _rate_rows(results: Results) -> list[list[str]]:
    rows = []
    for paced, label in ((True, f"paced {PACE * 1000:g} ms/chunk"), (False, "unpaced")):
        direct, through = results.paced if paced else results.unpaced
        ratio = results.ratio(paced)
        rows.append([
            f"tokens/s, {TOKENS:,} tokens, {label} (median of {THROUGHPUT_RUNS})",
            f"{_median_rate(direct):,.0f}", f"{_median_rate(through):,.0f}", f"x{ratio:.3f}",
            f">= x{MIN_THROUGHPUT_RATIO}" if paced else "reported, not judged",
            _verdict(ratio >= MIN_THROUGHPUT_RATIO) if paced else "info",
        ])
    return rows


def _session_rows(results: Results) -> list[list[str]]:
    sessions = results.sessions
    faults = ", ".join(f"{name} {count}" for name, count in sessions.faults.items())
    ideal = SESSION_TOKENS * SESSION_PACE
    return [
        [f"{SESSIONS} sessions at once, {SESSION_TOKENS} tokens each at "
         f"{1 / SESSION_PACE:g} tokens/s (ideal wall {ideal:.1f} s)", "-",
         f"wall {sessions.wall:.2f} s, {sessions.tokens / sessions.wall:,.0f} tokens/s",
         faults, "all 0", _verdict(not any(sessions.faults.values()))],
        [f"TTFT during the {SESSIONS} sessions, p50 / p95", "-",
         f"{_ms(_p50(sessions.ttfts))} / {_ms(_p95(sessions.ttfts))}", "-", "-", "info"],
    ]


NOTES = f"""\
- The tokens/s target is judged on the paced run. Real models stream 20-200 tokens/s, so the
  question is whether the platform keeps up with a stream without slowing it, and a stream of
  800-850 tokens/s asks it with a wide margin. The unpaced run (the server writes as fast as it
  can) measures the platform's own cost per token: reading and parsing the chunk, the run
  loop, one WebSocket frame written per token. It is reported, not a target.
- TTFT: direct, from the request to the first content delta; platform, from the `send` frame
  to the first `token` frame (write access checked, user message saved in the test database,
  history loaded, model called). Both read the same unpaced {TTFT_TOKENS}-token reply.
- The {SESSIONS} sessions ask {SESSIONS / SESSION_PACE:,.0f} tokens/s in all, more than two
  vCPUs serve with the benchmark's own clients and scripted server on them too: the target is
  that every session gets exactly its own tokens, once each, in order; wall time and tokens/s
  are what the machine delivered.
- The scripted server and both clients run in the benchmark's process; daphne in its own,
  as production runs it (DEBUG off, OMP_NUM_THREADS=1). Warm-up runs ({WARMUP_RUNS} per path)
  are not counted; the two paths alternate run by run.
"""


def _table(results: Results) -> str:
    header = ["measure", "direct (peer)", "platform", "platform vs direct", "target", "result"]
    rows = _ttft_rows(results) + _rate_rows(results) + _session_rows(results)
    lines = ["| " + " | ".join(row) + " |" for row in [header, ["---"] * len(header), *rows]]
    before, after = results.load
    return "\n".join([
        "# Chat streaming: platform WebSocket vs direct read",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} vCPU, load average "
        f"{before:.2f} before / {after:.2f} after, Python {platform.python_version()}, "
        f"openai {openai.__version__}, aiohttp {aiohttp.__version__}, "
        f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}",
        "",
        *lines,
        "",
        NOTES,
    ])


def _report(results: Results, capsys: pytest.CaptureFixture) -> None:
    table = _table(results)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(table)
    with capsys.disabled():
        sys.stdout.write(f"\n\n{table}\n")


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
async def test_it_streams_through_the_platform_as_fast_as_direct(bench, capsys):
    load_before = os.getloadavg()[0]
    ttft = await _paired(bench, _numbered(TTFT_TOKENS), runs=TTFT_RUNS)
    unpaced = await _paired(bench, _numbered(TOKENS), runs=THROUGHPUT_RUNS)
    paced = await _paired(bench, _numbered(TOKENS), runs=THROUGHPUT_RUNS, pace=PACE)
    results = Results(ttft=ttft, unpaced=unpaced, paced=paced, sessions=await _sessions(bench),
                      load=(load_before, os.getloadavg()[0]))
    _report(results, capsys)
    missed = [name for name, passed in results.checks().items() if not passed]
    assert not missed, f"targets missed: {missed} (see {REPORT})"


def test_it_counts_every_kind_of_stream_fault():
    expected = [_numbered(3, tag="s000"), _numbered(3, tag="s001"), _numbered(3, tag="s002")]
    a, b, c = expected

    def reading(tokens: list[str]) -> Reading:
        return Reading(ttft=0.0, duration=1.0, tokens=tokens)

    assert not any(_faults(expected, [reading(c), reading(a), reading(b)]).values())
    faults = _faults(expected, [reading([a[0], a[2]]), reading([b[0], b[2], b[1], b[1]]),
                                reading([c[0], a[1]])])
    assert faults == {"lost": 3, "duplicated": 1, "reordered": 1, "foreign": 1,
                      "misrouted": 0}
    assert _faults(expected, [reading(a), reading(a), reading([])])["misrouted"] == 2
