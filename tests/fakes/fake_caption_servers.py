"""Test fake: Ollama, OpenAI-compatible and Hugging Face caption servers on 127.0.0.1 (real HTTP).

Written from docs/protocols.md §5. One stdlib `ThreadingHTTPServer` in a background thread serves all
three protocols on one port, each under its own prefix, so a test picks the URL it needs:

    with FakeCaptionServer(latency=0.2) as fake:
        fake.ollama_url   # http://127.0.0.1:PORT           (/api/chat, /api/tags, /api/show)
        fake.openai_url   # http://127.0.0.1:PORT/v1        (/chat/completions, /models)
        fake.hf_url       # http://127.0.0.1:PORT/hf-inference/models   (POST /{model id})

Fault injection for caption requests (`fail_next`): an HTTP status with a body in any of the usual
error envelopes and an optional `Retry-After`, malformed JSON, a hang (client timeout), a cut
connection. Server-wide switches: latency, a required API key, unknown models (→ model-not-found),
non-vision models (Ollama capabilities), HF "loading" 503s, 402 credits, 410 deprecated, a model
that wants `max_completion_tokens`. It records every request, the decoded uploaded images and the
largest number of caption requests in flight at once.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any

from PIL import Image

DEFAULT_CAPTION = "A photo of a cat sitting on a red sofa."


@dataclass
class Fault:
    """What the next caption request gets instead of a caption."""

    status: int = 500
    body: Any = None  # dict/list → JSON, str → as is; None → a standard body for the status
    retry_after: str | None = None
    malformed: bool = False  # 200 with a body that is not JSON
    hang: float = 0.0  # sleep this long before answering (longer than the client's timeout)
    cut: bool = False  # close the connection without an answer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None


@dataclass
class FakeCaptionServer:
    latency: float = 0.0  # seconds added to every caption request
    models: tuple[str, ...] = ("qwen2.5vl:7b", "llava:7b", "llama3.2:3b")
    vision_models: frozenset[str] = frozenset({"qwen2.5vl:7b", "llava:7b"})
    show_capabilities: bool = True  # False: an older Ollama without "capabilities"
    openai_models: tuple[str, ...] = ("gpt-4o-mini", "local-vlm")
    hf_models: tuple[str, ...] = ("Salesforce/blip-image-captioning-large",)
    hf_deprecated: frozenset[str] = frozenset({"nlpconnect/vit-gpt2-image-captioning"})
    require_key: str | None = None  # OpenAI/HF: "Authorization: Bearer KEY" required
    hf_loading: int = 0  # the next N HF requests answer 503 "currently loading"
    hf_estimated_time: float = 0.2
    hf_credits_exhausted: bool = False
    wants_max_completion_tokens: bool = False  # newer OpenAI models refuse max_tokens
    caption_text: str = DEFAULT_CAPTION
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    uploaded: list[bytes] = field(default_factory=list)  # decoded image bytes, in arrival order
    max_in_flight: int = 0
    captions_served: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> FakeCaptionServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ollama_url(self) -> str:
        return self.url

    @property
    def openai_url(self) -> str:
        return self.url + "/v1"

    @property
    def hf_url(self) -> str:
        return self.url + "/hf-inference/models"

    # -- scripting -------------------------------------------------------------------------
    def fail_next(self, count: int = 1, **fault: Any) -> None:
        with self._lock:
            for _ in range(count):
                self.faults.append(Fault(**fault))

    def caption_requests(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST" and _is_caption_path(r.path)]

    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


def _is_caption_path(path: str) -> bool:
    return path in ("/api/chat", "/v1/chat/completions") or path.startswith("/hf-inference/")


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeCaptionServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (~40 ms per request on Linux), which no real server adds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    # -- plumbing --------------------------------------------------------------------------
    def _read(self) -> Received:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parsed: Any = None
        if body and "json" in (self.headers.get("Content-Type") or ""):
            with contextlib.suppress(ValueError):
                parsed = json.loads(body)
        received = Received(
            self.command, self.path.split("?")[0], dict(self.headers.items()), body, parsed
        )
        with self.server_fake._lock:
            self.server_fake.requests.append(received)
        return received

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, bytes):
            data, kind = body, "text/plain"
        elif isinstance(body, str):
            data, kind = body.encode(), "text/plain; charset=utf-8"
        else:
            data, kind = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(data)

    def _authorised(self, received: Received) -> bool:
        key = self.server_fake.require_key
        return key is None or received.headers.get("Authorization") == f"Bearer {key}"

    def do_GET(self) -> None:
        received = self._read()
        fake = self.server_fake
        if received.path == "/api/version":
            self._send(200, {"version": "0.6.5"})
        elif received.path == "/api/tags":
            self._send(200, {"models": [_ollama_model(name) for name in fake.models]})
        elif received.path == "/v1/models":
            if not self._authorised(received):
                self._send(401, _openai_error("Incorrect API key provided.", "invalid_api_key"))
                return
            data = [
                {"id": m, "object": "model", "created": 1730000000, "owned_by": "system"}
                for m in fake.openai_models
            ]
            self._send(200, {"object": "list", "data": data})
        else:
            self._send(404, "404 page not found")

    def do_POST(self) -> None:
        received = self._read()
        path = received.path
        if path == "/api/show":
            self._ollama_show(received)
            return
        if not _is_caption_path(path):
            self._send(404, "404 page not found")
            return
        fake = self.server_fake
        fake._enter()
        try:
            if fake.latency:
                time.sleep(fake.latency)
            fault = fake._take_fault()
            if fault is not None and self._apply_fault(fault, path):
                return
            if path == "/api/chat":
                self._ollama_chat(received)
            elif path == "/v1/chat/completions":
                self._openai_chat(received)
            else:
                self._hf(received)
        finally:
            fake._leave()

    def _apply_fault(self, fault: Fault, path: str) -> bool:
        if fault.hang:
            time.sleep(fault.hang)
        if fault.cut:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return True
        if fault.malformed:
            self._send(200, '{"message": {"content": "a cat', {"Content-Type": "application/json"})
            return True
        if fault.hang and not fault.status:
            return False
        body = fault.body
        if body is None:
            text = {429: "Rate limit reached", 503: "server busy, please try again"}.get(
                fault.status, "internal server error"
            )
            body = _openai_error(text, None) if path.startswith("/v1") else {"error": text}
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        self._send(fault.status, body, headers)
        return True

    def _image(self, data: bytes) -> tuple[int, int] | None:
        # Header only: the fake stands in for a server on another machine, whose decoding
        # should not cost this machine's CPU (the benchmark runs on the same two cores).
        try:
            with Image.open(BytesIO(data)) as image:
                size = image.size
        except Exception:
            return None
        with self.server_fake._lock:
            self.server_fake.uploaded.append(data)
            self.server_fake.captions_served += 1
        return size

    # -- Ollama ----------------------------------------------------------------------------
    def _ollama_show(self, received: Received) -> None:
        fake = self.server_fake
        body = received.json or {}
        name = body.get("model") or body.get("name")
        if name not in fake.models:
            self._send(404, {"error": f"model '{name}' not found"})
            return
        answer: dict[str, Any] = {
            "modelfile": f"FROM {name}",
            "details": {"format": "gguf", "family": "qwen25vl"},
        }
        if fake.show_capabilities:
            caps = ["completion", "vision"] if name in fake.vision_models else ["completion"]
            answer["capabilities"] = caps
        self._send(200, answer)

    def _ollama_chat(self, received: Received) -> None:
        fake = self.server_fake
        body = received.json
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send(400, {"error": "invalid request body"})
            return
        model = body.get("model")
        if model not in fake.models:
            self._send(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        images = [img for m in body["messages"] for img in (m.get("images") or [])]
        if not images:
            self._send(400, {"error": "this test server expects an image"})
            return
        try:
            data = base64.b64decode(images[0], validate=True)
        except ValueError:
            self._send(400, {"error": "illegal base64 data at input byte 4"})
            return
        if self._image(data) is None:
            self._send(400, {"error": "image: unknown format"})
            return
        message = {"role": "assistant", "content": fake.caption_text}
        final = {
            "model": model,
            "created_at": "2025-06-01T12:00:00Z",
            "message": message,
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_200_000_000,
            "eval_count": 12,
        }
        if body.get("stream", True):  # Ollama streams NDJSON unless told not to
            chunk = {**final, "done": False, "message": message}
            lines = json.dumps(chunk) + "\n" + json.dumps({**final, "message": {}}) + "\n"
            self._send(200, lines.encode(), {"Content-Type": "application/x-ndjson"})
            return
        self._send(200, final)

    # -- OpenAI-compatible -----------------------------------------------------------------
    def _openai_chat(self, received: Received) -> None:
        fake = self.server_fake
        if not self._authorised(received):
            self._send(
                401,
                _openai_error(
                    "Incorrect API key provided: sk-wr***ng. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    "invalid_api_key",
                ),
            )
            return
        body = received.json
        if not isinstance(body, dict):
            self._send(400, _openai_error("We could not parse the JSON body.", None))
            return
        model = body.get("model")
        if model not in fake.openai_models:
            self._send(
                404,
                _openai_error(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "model_not_found",
                ),
            )
            return
        if fake.wants_max_completion_tokens and "max_tokens" in body:
            self._send(
                400,
                _openai_error(
                    "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                    "'max_completion_tokens' instead.",
                    "unsupported_parameter",
                ),
            )
            return
        url = ""
        for message in body.get("messages") or []:
            for part in message.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    url = part["image_url"]["url"]
        if not url.startswith("data:image/") or ";base64," not in url:
            self._send(400, _openai_error("Invalid image URL: expected a base64 data URL.", None))
            return
        if self._image(base64.b64decode(url.split(",", 1)[1])) is None:
            self._send(400, _openai_error("Invalid image data.", "invalid_image"))
            return
        self._send(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 1730000000,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": fake.caption_text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
            },
        )

    # -- Hugging Face ----------------------------------------------------------------------
    def _hf(self, received: Received) -> None:
        fake = self.server_fake
        model = received.path.removeprefix("/hf-inference/models/")
        if not self._authorised(received):
            self._send(401, {"error": "Invalid credentials in Authorization header"})
            return
        if fake.hf_credits_exhausted:
            self._send(
                402,
                {
                    "error": "You have exceeded your monthly included credits for Inference "
                    "Providers. Subscribe to PRO to get 20x more monthly included credits."
                },
            )
            return
        if model in fake.hf_deprecated:
            self._send(
                410,
                {
                    "error": "The requested model is deprecated and no longer supported by "
                    "provider hf-inference."
                },
            )
            return
        if model not in fake.hf_models:
            self._send(404, {"error": f"Model {model} does not exist"})
            return
        with fake._lock:
            loading = fake.hf_loading > 0
            fake.hf_loading -= 1 if loading else 0
        if loading:
            self._send(
                503,
                {
                    "error": f"Model {model} is currently loading",
                    "estimated_time": fake.hf_estimated_time,
                },
            )
            return
        if not (received.headers.get("Content-Type") or "").startswith("image/"):
            self._send(400, {"error": "Content type not supported"})
            return
        if self._image(received.body) is None:
            self._send(400, {"error": "cannot identify image file"})
            return
        self._send(200, [{"generated_text": fake.caption_text.rstrip(".").lower()}])


def _ollama_model(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-05-01T10:00:00.000000000Z",
        "size": 5969245856,
        "digest": "a" * 64,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": "qwen25vl",
            "families": ["qwen25vl"],
            "parameter_size": "8.3B",
            "quantization_level": "Q4_K_M",
        },
    }


def _openai_error(message: str, code: str | None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": None,
            "code": code,
        }
    }


def main() -> None:
    """`python -m tests.fakes.fake_caption_servers --latency 0.2`: serve until stdin closes.

    Prints the base URL on the first line; benchmarks run the server in its own process so that
    its work does not compete with the client for the interpreter lock.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Fake caption servers on 127.0.0.1")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    with FakeCaptionServer(latency=args.latency) as fake:
        print(fake.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
