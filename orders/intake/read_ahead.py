"""Reading a file ahead of the writer: ``read_ahead(items)`` yields what ``items()`` yields, in the same
order, made by a reader that runs ahead while the caller writes the previous batch to the database; an
exception the reader raises is raised here at the same point (after everything it yielded before).
Closing the generator stops the reader. Pure parsing only: the reader never touches the database.

The reader is a forked process of its own (the file's decoding, canonicalising and checks use the second
core; a thread shares the interpreter with the writer), handing chunks of READ_AHEAD_CHUNK items through a
pipe of READ_AHEAD_PIPE_BYTES (pickled): memory stays flat, it runs at most that far ahead. Where a process
cannot be forked safely (no ``os.fork``, other threads running in this process, or IMPORT_READ_PROCESS off)
it is a thread, with a queue of READ_AHEAD_CHUNKS chunks. The process ends when the generator is closed,
and by itself when this process dies (its pipe breaks).
"""

import fcntl
import os
import pickle
import queue
import signal
import struct
import threading

from django.conf import settings
from django.db import connections
from django.utils import timezone, translation

READ_AHEAD_CHUNK = 200
READ_AHEAD_CHUNKS = 10
READ_AHEAD_PIPE_BYTES = 1 << 20  # Linux's default most for an unprivileged process
_END = object()
_FRAME = struct.Struct("!Q")
# The forked reader's inherited database connections: kept referenced, never closed (closing would end
# the parent's sessions); the child ends with os._exit, which runs no finaliser.
_inherited: list = []


class ReaderStopped(RuntimeError):
    """The reading process ended without saying why (killed, out of memory)."""


class _ReaderFailed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def read_ahead(items, *, process: bool | None = None):
    """See the module. ``process``: a forked reader (True), a thread (False), or as ``use_process`` says."""
    if process is None:
        process = use_process()
    return _in_process(items) if process else _in_thread(items)


def use_process() -> bool:
    """A reading process when the setting allows it and forking is safe here (no other thread could hold
    a lock the child would inherit taken)."""
    return getattr(settings, "IMPORT_READ_PROCESS", True) and hasattr(os, "fork") and threading.active_count() == 1


# ---- a thread ---------------------------------------------------------------------------------


def _in_thread(items):
    out: queue.Queue = queue.Queue(maxsize=READ_AHEAD_CHUNKS)
    stop = threading.Event()
    zone, language = timezone.get_current_timezone(), translation.get_language()

    def put(value) -> bool:
        while not stop.is_set():
            try:
                out.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        timezone.activate(zone)  # naive dates are read as this thread's caller would read them
        if language:
            translation.activate(language)
        chunk: list = []
        try:
            for item in items():
                chunk.append(item)
                if len(chunk) >= READ_AHEAD_CHUNK:
                    if not put(chunk):
                        return
                    chunk = []
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            if put(chunk):
                put(_ReaderFailed(exc))
            return
        if put(chunk):
            put(_END)

    thread = threading.Thread(target=produce, name="intake-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            got = out.get()
            if got is _END:
                return
            if isinstance(got, _ReaderFailed):
                raise got.exc
            yield from got
    finally:
        stop.set()
        while thread.is_alive():
            try:
                out.get_nowait()  # a producer waiting to put sees the stop
            except queue.Empty:
                thread.join(timeout=0.1)


# ---- a process --------------------------------------------------------------------------------


def _in_process(items):
    read_fd, write_fd = os.pipe()
    try:
        fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, READ_AHEAD_PIPE_BYTES)
    except (AttributeError, OSError):
        pass  # a smaller pipe: the reader runs less far ahead
    pid = os.fork()
    if pid == 0:  # the reader: never returns into the caller's code
        code = 1
        try:
            os.close(read_fd)
            _child_setup()
            with os.fdopen(write_fd, "wb") as pipe:
                _produce(items, pipe)
            code = 0
        except BaseException:  # noqa: BLE001, S110 - the parent sees the pipe end and says so
            pass
        finally:
            os._exit(code)
    os.close(write_fd)
    pipe = os.fdopen(read_fd, "rb")
    try:
        while True:
            kind, value = _receive(pipe)
            if kind == "chunk":
                yield from value
            elif kind == "end":
                return
            else:
                raise value
    finally:
        pipe.close()  # a reader still writing gets a broken pipe
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def _child_setup() -> None:
    # SIGTERM and SIGINT as a plain process has them (a worker's handlers belong to the worker).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # the parent gone: the reader ends at its next write
    # The parent's database connections are its own: a query here (there should be none) opens a new one.
    for conn in connections.all(initialized_only=True):
        _inherited.append(conn.connection)
        conn.connection = None


def _send(pipe, kind: str, value) -> None:
    try:
        data = pickle.dumps((kind, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        if kind != "failed":
            raise
        # An exception that does not pickle: its words do.
        data = pickle.dumps(("failed", RuntimeError(f"{type(value).__name__}: {value}")), protocol=5)
    pipe.write(_FRAME.pack(len(data)))
    pipe.write(data)
    pipe.flush()


def _produce(items, pipe) -> None:
    chunk: list = []
    try:
        for item in items():
            chunk.append(item)
            if len(chunk) >= READ_AHEAD_CHUNK:
                _send(pipe, "chunk", chunk)
                chunk = []
    except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
        _send(pipe, "chunk", chunk)
        _send(pipe, "failed", exc)
        return
    _send(pipe, "chunk", chunk)
    _send(pipe, "end", None)


def _receive(pipe) -> tuple[str, object]:
    head = pipe.read(_FRAME.size)
    if len(head) < _FRAME.size:
        raise ReaderStopped("the file's reading process stopped before the end of the file")
    (size,) = _FRAME.unpack(head)
    data = pipe.read(size)
    if len(data) < size:
        raise ReaderStopped("the file's reading process stopped before the end of the file")
    return pickle.loads(data)  # noqa: S301 - our own child's frames
