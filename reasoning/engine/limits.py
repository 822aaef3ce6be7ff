"""The limits a caller can put on work: a time budget and a row cap.

The engine's joins are generated comprehensions that run without calling back, so a budget
cannot be checked cooperatively inside them. `time_budget` instead arms a timer that, when
the budget is spent, raises BudgetExceededError asynchronously in the thread doing the work
(CPython checks for such an exception between bytecodes, comprehension loops included).
"""

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class BudgetExceededError(Exception):
    """The work ran longer than its time budget and was stopped."""

    def __init__(self, seconds: float):
        super().__init__(f"stopped after its time budget of {seconds:g} s")
        self.seconds = seconds


class RowLimitError(Exception):
    """An answer has more rows than the caller's cap."""

    def __init__(self, limit: int):
        super().__init__(f"the answer has more than {limit:,} rows")
        self.limit = limit


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else ctypes.c_void_p(0)
    )


class _Expired(BaseException):
    """Raised asynchronously; a BaseException so that `except Exception` in the work lets it
    through to `time_budget`, which turns it into BudgetExceededError."""


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Stops the enclosed work in this thread with BudgetExceededError after `seconds`."""
    if seconds is None:
        yield
        return
    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def expire() -> None:
        with lock:
            if state["active"]:
                state["fired"] = True
                _raise_in(thread_id, _Expired)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except _Expired:
        raise BudgetExceededError(seconds) from None
    finally:
        timer.cancel()
        _disarm(lock, state, thread_id)


def _disarm(lock: threading.Lock, state: dict[str, bool], thread_id: int) -> None:
    while True:
        try:
            with lock:
                state["active"] = False
                if state["fired"]:
                    # Fired as the work finished: withdraw it if it is still pending.
                    _raise_in(thread_id, None)
            return
        except _Expired:
            continue  # it arrived while leaving; the work itself had finished
