"""An OpenAI-compatible AI system of the tests' own, for the gateway to forward to.

It answers chat completions (streamed as server-sent events, or not), embeddings and model
lists, and records every request it receives, so that a test can prove that a refused prompt
never reached it (`GET /__received`: the bodies received, in order).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "Hej från modellen"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: pytest shows what matters
        pass

    def _json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/__received":
            with self.server.lock:
                self._json(200, list(self.server.received))
        else:
            self._json(404, {"error": {"message": "not here", "type": "invalid_request_error"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        body = json.loads(raw)
        with self.server.lock:
            self.server.received.append(
                {"path": self.path, "authorization": self.headers.get("Authorization"), "body": body}
            )
        if self.path.endswith("/embeddings"):
            self._json(200, {"object": "list", "model": body["model"],
                             "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                             "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        elif body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            words = ["Hej", " från", " modellen"]
            for i, word in enumerate(words):
                delta = {"content": word} if i else {"role": "assistant", "content": word}
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
                         "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                self._chunk(f"data: {json.dumps(chunk)}\n\n")
            self._chunk("data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._json(200, {"id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": ANSWER}}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}})

    def _chunk(self, text):
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def start():
    """Starts the fake on a free loopback port; returns the server (`.server_port`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.received = []
    server.lock = threading.Lock()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
