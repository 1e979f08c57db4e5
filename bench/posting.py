"""A lean HTTP/1.1 client for benchmarks that post many small JSON bodies on a schedule.

httpx's connection pool, once its answers slow down, spends more CPU choosing a connection for each
queued request than the request itself costs; on a 2-core machine shared with the server that
measured the client, not the server. Here each keep-alive connection is a task taking the next
request from one queue, and a response is read by its Content-Length alone.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class PostFailed(RuntimeError):
    pass


@dataclass
class _Post:
    path: str
    headers: dict[str, str]
    body: bytes
    answer: asyncio.Future[tuple[int, bytes]]


class Poster:
    """POSTs JSON over `connections` kept-alive connections; a dropped connection is reopened and the
    request sent once more (the benchmarks send a client id, so a repeat is stored once)."""

    def __init__(self, base_url: str, connections: int = 32) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._queue: asyncio.Queue[_Post] = asyncio.Queue()
        self._workers = [asyncio.create_task(self._work()) for _ in range(connections)]

    async def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Status and body of the answer."""
        answer: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Post(path, headers or {}, json.dumps(body).encode(), answer))
        return await answer

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _work(self) -> None:
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                post = await self._queue.get()
                for attempt in range(2):
                    try:
                        if streams is None:
                            streams = await asyncio.open_connection(self._host, self._port)
                        post.answer.set_result(await self._exchange(*streams, post))
                        break
                    except (OSError, asyncio.IncompleteReadError, PostFailed) as exc:
                        streams = self._drop(streams)
                        if attempt == 1:
                            post.answer.set_exception(PostFailed(f"POST {post.path}: {exc!r}"))
        finally:
            self._drop(streams)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, post: _Post
    ) -> tuple[int, bytes]:
        head = [f"POST {post.path} HTTP/1.1", f"Host: {self._host}:{self._port}", "Content-Type: application/json"]
        head += [f"{name}: {value}" for name, value in post.headers.items()]
        head.append(f"Content-Length: {len(post.body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + post.body)
        await writer.drain()
        status_line = await reader.readuntil(b"\r\n")
        length = None
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise PostFailed(f"an answer without Content-Length: {status_line!r}")
        return int(status_line.split()[1]), await reader.readexactly(length)

    @staticmethod
    def _drop(streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        if streams is not None:
            with contextlib.suppress(Exception):
                streams[1].close()
