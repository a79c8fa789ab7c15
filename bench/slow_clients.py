"""Holds idle and slowloris connections open against an HTTP server and watches it close them.

    python3 bench/slow_clients.py --address 127.0.0.1:8080 --idle 2000 --slow 200 \
        [--watch 40] [--ready FILE] [--signal PID]

- idle: connects and sends nothing;
- slow: sends a request's header bytes one per second, a header that never ends.

Once the connections are open (every connect finished, or the rest stall in the server's full
listen queue) it touches --ready FILE, so a caller can time requests meanwhile, and with --signal
PID sends SIGTERM to PID and times until that process has exited. It reports on stderr how many of
its connections the server has closed (a read returned EOF or a reset) as they go, until all are
closed (and PID exited) or --watch seconds have passed. The last line on stdout is the result as
`key=value` pairs for the calling script; times are in seconds since that ready moment. Client
and server must share the machine: the result also counts the server's side of the connections,
from /proc/net/tcp. Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Connects in flight at once. Pacing does not spare a fresh server's listen queue (its first
# burst of accepts is slow whatever the pace), so this only bounds the client's own work.
CONNECTS_AT_ONCE = 256
CONNECT_TIMEOUT_S = 10.0
# A request line and the start of a header; the header's value then grows by one byte a second.
SLOW_PREFIX = b"GET /todos HTTP/1.1\r\nHost: lab\r\nX-Slow: "
# The batch counts as open once every connect finished, or none has for this long: past the
# server's connection cap and its listen queue (128 for a Rust listener) a SYN is dropped and
# retried 1, 3, 7 s later, and the connections already open must not time out meanwhile.
STALL_S = 0.5
PROGRESS_EVERY_S = 1.0
# How often the watch looks at the counts and the signalled process: the resolution of the times
# reported, and cheap enough not to take CPU from the server.
POLL_S = 0.02


@dataclass
class Connection:
    """One client connection and what happened to it (times from the event loop's clock)."""

    slow: bool
    opened_at: float
    closed_at: float | None = None
    # The first line the server sent before closing (e.g. a 408 status line), if any.
    answer: str | None = None


@dataclass
class Batch:
    """The connections opened, with running counts (the watch reads them every POLL_S)."""

    connections: list[Connection] = field(default_factory=list)
    tasks: list[asyncio.Task] = field(default_factory=list)
    connect_errors: dict[str, int] = field(default_factory=dict)
    # Connects not finished yet (neither open nor failed).
    connecting: int = 0
    opened: dict[bool, int] = field(default_factory=lambda: {False: 0, True: 0})
    closed: dict[bool, int] = field(default_factory=lambda: {False: 0, True: 0})

    @property
    def total_opened(self) -> int:
        return self.opened[False] + self.opened[True]

    @property
    def total_closed(self) -> int:
        return self.closed[False] + self.closed[True]

    @property
    def total_failed(self) -> int:
        return sum(self.connect_errors.values())

    def progress(self, elapsed: float) -> str:
        connecting = f", {self.connecting} still connecting" if self.connecting else ""
        return (
            f"[clients] +{elapsed:5.1f}s  closed {self.total_closed}/{self.total_opened}"
            f" (idle {self.closed[False]}/{self.opened[False]},"
            f" slow {self.closed[True]}/{self.opened[True]}){connecting}"
        )


async def hold(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: Connection, batch: Batch
) -> None:
    """Keeps the connection (dripping header bytes if slow) until the server closes it."""
    loop = asyncio.get_running_loop()
    drip = iter(SLOW_PREFIX)
    next_write = loop.time()
    try:
        while True:
            timeout = None
            if conn.slow:
                if loop.time() >= next_write:
                    writer.write(bytes([next(drip, ord("a"))]))
                    next_write += 1.0
                timeout = max(0.0, next_write - loop.time())
            try:
                data = await asyncio.wait_for(reader.read(4096), timeout)
            except TimeoutError:
                continue
            if not data:
                break
            if conn.answer is None:
                conn.answer = data.split(b"\r\n", 1)[0].decode("latin-1")
    except OSError:  # reset, broken pipe
        pass
    finally:
        conn.closed_at = loop.time()
        batch.closed[conn.slow] += 1
        writer.transport.abort()


async def open_one(host: str, port: int, slow: bool, batch: Batch, gate: asyncio.Semaphore):
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), CONNECT_TIMEOUT_S
            )
        except (TimeoutError, OSError) as err:
            name = type(err).__name__
            batch.connect_errors[name] = batch.connect_errors.get(name, 0) + 1
            return
        finally:
            batch.connecting -= 1
    conn = Connection(slow=slow, opened_at=asyncio.get_running_loop().time())
    batch.connections.append(conn)
    batch.opened[slow] += 1
    batch.tasks.append(asyncio.create_task(hold(reader, writer, conn, batch)))


async def open_batch(host: str, port: int, idle: int, slow: int) -> tuple[Batch, asyncio.Future]:
    """Starts the connects; returns once all finished or they stall (see STALL_S), with the
    future of those left."""
    loop = asyncio.get_running_loop()
    batch = Batch(connecting=idle + slow)
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
    kinds = [False] * idle + [True] * slow
    connects = asyncio.gather(*(open_one(host, port, s, batch, gate) for s in kinds))
    last, last_change = batch.connecting, loop.time()
    while not connects.done() and loop.time() - last_change < STALL_S:
        await asyncio.wait([connects], timeout=POLL_S)
        if batch.connecting != last:
            last, last_change = batch.connecting, loop.time()
    return batch, connects


def listen_queue_counters() -> dict[str, int]:
    """The kernel's (system-wide) count of handshakes dropped because a listen queue was full,
    and of SYNs answered with a cookie because of it. An idle client whose cookie handshake was
    dropped believes it is connected, yet the server never accepted it and never will close it."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            counters = dict(zip(names.split()[1:], map(int, values.split()[1:])))
            return {key: counters.get(key, 0) for key in ("ListenOverflows", "SyncookiesSent")}
    return {"ListenOverflows": 0, "SyncookiesSent": 0}


def server_side_established(port: int) -> int:
    """Established TCP sockets on the server's side of `port`: connections the server has
    accepted or holds in its accept queue. A client connection without one was never accepted."""
    established = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _remote, state = line.split()[1:4]
        established += int(local.rsplit(":", 1)[1], 16) == port and state == "01"
    return established


def process_exited(pid: int) -> bool:
    """True once PID is gone or a zombie (exited, not yet reaped by its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


async def watch(batch: Batch, bound: float, pid: int | None) -> float | None:
    """Prints progress until every connection is closed (and PID exited) or `bound` seconds have
    passed; returns when PID exited, in seconds from the start of the watch."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    exited_after = None
    shown, shown_at = None, start
    while True:
        elapsed = loop.time() - start
        if pid and exited_after is None and process_exited(pid):
            exited_after = elapsed
            print(f"[clients] +{elapsed:5.1f}s  pid {pid} exited", file=sys.stderr)
        closed = batch.total_closed
        done = (
            batch.connecting == 0
            and closed == batch.total_opened
            and (not pid or exited_after is not None)
        )
        over = done or elapsed >= bound
        if over or (closed != shown and loop.time() - shown_at >= PROGRESS_EVERY_S):
            print(batch.progress(elapsed), file=sys.stderr)
            shown, shown_at = closed, loop.time()
        if over:
            return exited_after
        await asyncio.sleep(POLL_S)


async def run(args: argparse.Namespace) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    host, port = args.address.rsplit(":", 1)
    counters_before = listen_queue_counters()
    started = loop.time()
    batch, connects = await open_batch(host, int(port), args.idle, args.slow)
    ready = loop.time()
    connecting_at_ready = batch.connecting
    print(
        f"[clients] {batch.opened[False]} idle + {batch.opened[True]} slow connections open"
        f" in {ready - started:.1f} s, {batch.connecting} still connecting,"
        f" {batch.total_failed} failed; already closed: {batch.total_closed}",
        file=sys.stderr,
    )
    if args.ready:
        Path(args.ready).touch()
    if args.signal:
        os.kill(args.signal, signal.SIGTERM)
        print(f"[clients] sent SIGTERM to {args.signal}", file=sys.stderr)

    exited_after = await watch(batch, args.watch, args.signal)

    counters = listen_queue_counters()
    opens = [c.opened_at - ready for c in batch.connections]
    closes = [c.closed_at - ready for c in batch.connections if c.closed_at is not None]
    lifetimes = [c.closed_at - c.opened_at for c in batch.connections if c.closed_at is not None]
    answers = sorted({c.answer for c in batch.connections if c.answer})
    errors = ",".join(f"{n}x{name}" for name, n in batch.connect_errors.items()) or "-"
    result = {
        "opened": batch.total_opened,
        "connect_failed": batch.total_failed,
        "connect_errors": errors,
        "open_s": f"{ready - started:.2f}",
        "connecting_at_open": connecting_at_ready,
        "last_open_s": seconds(opens, max),
        "closed": len(closes),
        "still_open": batch.total_opened - len(closes),
        "still_connecting": batch.connecting,
        "server_side_open": server_side_established(int(port)),
        "first_close_s": seconds(closes, min),
        "last_close_s": seconds(closes, max),
        "lifetime_median_s": seconds(lifetimes, statistics.median),
        "lifetime_max_s": seconds(lifetimes, max),
        "listen_overflows": counters["ListenOverflows"] - counters_before["ListenOverflows"],
        "syncookies_sent": counters["SyncookiesSent"] - counters_before["SyncookiesSent"],
        "answered": sum(1 for c in batch.connections if c.answer),
        # e.g. HTTP/1.1_408_Request_Timeout: one word, so the line stays key=value pairs.
        "answer": answers[0].replace(" ", "_") if answers else "-",
    }
    if args.signal:
        result["exit_s"] = seconds([exited_after] if exited_after is not None else [], min)
    connects.cancel()
    for task in batch.tasks:
        task.cancel()
    await asyncio.gather(connects, *batch.tasks, return_exceptions=True)
    return result


def seconds(values: list[float], pick) -> str:
    # Adding 0.0 turns a rounded -0.0 into 0.0.
    return f"{round(pick(values), 2) + 0.0:.2f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--address", required=True, help="host:port of the server")
    parser.add_argument("--idle", type=int, default=2000, help="connections that send nothing")
    parser.add_argument("--slow", type=int, default=200, help="connections dripping headers")
    parser.add_argument("--watch", type=float, default=40.0, help="longest watch, in seconds")
    parser.add_argument("--ready", help="file to touch once every connection is open")
    parser.add_argument("--signal", type=int, help="pid to send SIGTERM once all are open")
    result = asyncio.run(run(parser.parse_args()))
    print(" ".join(f"{key}={value}" for key, value in result.items()))


if __name__ == "__main__":
    main()
