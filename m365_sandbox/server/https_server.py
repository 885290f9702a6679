"""A threaded HTTPS/1.1 server that runs a WSGI app, with keep-alive and drops.

Why not werkzeug's development server: it closes every connection after one
answer (``Connection: close``), does the TLS handshake on the accepting
thread, and cannot drop a connection on purpose. Benchmarks send thousands of
requests over pooled keep-alive connections, concurrent clients must really
overlap, and fault tests need "close the socket without an answer". This
small server does exactly that, one thread per connection, and hands each
request to the (werkzeug-based) WSGI application — which works the same on
werkzeug 2.2 and 3.x because only its Request/Response wrappers are used.

A WSGI app asks for a drop by setting ``environ["sandbox.drop"] = True``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import socketserver
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote_to_bytes

logger = logging.getLogger("m365_sandbox.http")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections are closed after this
    server: TLSServer

    def log_message(self, format, *args):
        logger.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _environ(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        environ = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": self.path,
            "RAW_URI": self.path,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_ADDR": self.client_address[0] if self.client_address else "",
            "REMOTE_PORT": str(self.client_address[1]) if self.client_address else "0",
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                continue
            name = "HTTP_" + name
            environ[name] = f"{environ[name]},{value}" if name in environ else value
        return environ

    def _serve(self):
        body = self._read_body()
        environ = self._environ(body)
        status_holder: list = []

        def start_response(status, headers, exc_info=None):
            status_holder[:] = [status, headers]
            return lambda data: None

        result = self.server.app(environ, start_response)
        try:
            payload = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if environ.get("sandbox.drop"):
            self._drop()
            return
        status, headers = status_holder
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        for key, value in headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Date", self.date_time_string())
        if int(code) not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        if (self.headers.get("Connection") or "").lower() == "close":
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and int(code) not in (204, 304):
            self.wfile.write(payload)
        self.wfile.flush()

    def _drop(self):
        """Close the connection abruptly: no status line, no TLS close_notify."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            self.close_connection = True


class TLSServer(socketserver.ThreadingTCPServer):
    """One thread per connection; the TLS handshake happens on that thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app, context: ssl.SSLContext):
        self.app = app
        self.context = context
        self._connections: set = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        try:
            # Headers and body go out in separate writes: without TCP_NODELAY,
            # Nagle plus the client's delayed ACK adds ~40 ms per answer.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request.settimeout(15)
            conn = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            logger.debug("TLS handshake with %s failed: %s", client_address, exc)
            request.close()
            return
        with self._connections_lock:
            self._connections.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self._connections_lock:
                self._connections.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def shutdown_request(self, request):
        # finish_request closed the TLS socket; the raw one is detached.
        with contextlib.suppress(OSError):
            request.close()

    def handle_error(self, request, client_address):
        logger.debug("connection from %s failed", client_address, exc_info=True)

    def close_connections(self):
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
