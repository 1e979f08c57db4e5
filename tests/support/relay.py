"""A TCP relay between a browser and the service that a test can cut, as a dropped network would:
open connections are closed and new ones refused until it is restored."""

import contextlib
import socket
import threading


class Relay:
    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._guard = threading.Lock()
        self._cut = False
        threading.Thread(target=self._accept_forever, daemon=True).start()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        with self._guard:
            self._cut = True
            dropped, self._open = self._open, set()
        for connection in dropped:
            _close(connection)

    def restore(self) -> None:
        with self._guard:
            self._cut = False

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _accept_forever(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._guard:
                if self._cut:
                    _close(client)
                    continue
                upstream = socket.create_connection(("127.0.0.1", self._target_port))
                self._open |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._guard:
                self._open -= {source, target}
            _close(source)
            _close(target)


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
