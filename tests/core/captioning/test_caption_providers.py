"""Every caption provider against the fake servers (real HTTP on 127.0.0.1), and the upload prep."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from lora_studio.core.captioning.providers import PROVIDER_KINDS, build_provider
from lora_studio.core.captioning.providers.base import (
    ProviderUnreachableError,
    RetryableCaptionError,
    StopRunError,
)
from lora_studio.core.captioning.upload import prepare_upload
from lora_studio.core.errors import CaptionError, ConfigError
from tests.core.captioning.conftest import GPS_IFD, make_photo
from tests.fakes.fake_caption_servers import DEFAULT_CAPTION, FakeCaptionServer

Make = Callable[..., FakeCaptionServer]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _caption(kind: str, url: str, image: Path, **options: Any) -> str:
    provider = build_provider(kind, url=url, model=options.pop("model", None), **options)
    try:
        return await provider.caption(image, "Describe it.")
    finally:
        await provider.aclose()


def test_upload_is_downscaled_upright_and_has_no_exif(tmp_path: Path) -> None:
    photo = make_photo(tmp_path / "p.jpg", (1600, 1200))
    with Image.open(photo) as original:
        assert original.getexif().get(GPS_IFD) is not None  # the source really has GPS
    upload = prepare_upload(photo, max_side=512)
    with Image.open(BytesIO(upload.data)) as sent:
        assert sent.format == "JPEG"
        assert sent.size == (384, 512)  # orientation 6 applied: portrait now
        assert (upload.width, upload.height) == sent.size
        assert len(sent.getexif()) == 0 and "exif" not in sent.info
        assert "icc_profile" not in sent.info
    assert b"FakeCam" not in upload.data and b"Exif" not in upload.data
    small = make_photo(tmp_path / "s.jpg", (200, 100))
    assert prepare_upload(small, max_side=512).width == 100  # never upscaled (rotated)


def test_upload_of_a_broken_file_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really")
    with pytest.raises(CaptionError, match=r"broken\.jpg"):
        prepare_upload(bad)


def test_ollama_caption_sends_raw_base64_without_exif(fake_server: Make, tmp_path: Path) -> None:
    fake = fake_server()
    photo = make_photo(tmp_path / "a.jpg")
    text = run(_caption("ollama", fake.ollama_url, photo, model="llava:7b", max_side=400))
    assert text == DEFAULT_CAPTION
    chat = fake.caption_requests()[-1]
    assert chat.json["stream"] is False and chat.json["model"] == "llava:7b"
    image_b64 = chat.json["messages"][0]["images"][0]
    assert not image_b64.startswith("data:")
    sent = Image.open(BytesIO(base64.b64decode(image_b64)))
    assert max(sent.size) == 400 and len(sent.getexif()) == 0
    assert fake.uploaded[-1] == base64.b64decode(image_b64)


def test_ollama_models_available_and_vision(fake_server: Make) -> None:
    fake = fake_server()

    async def go() -> None:
        provider = build_provider("ollama", url=fake.ollama_url, model="qwen2.5vl:7b")
        assert await provider.models() == ["llama3.2:3b", "llava:7b", "qwen2.5vl:7b"]
        ok, sentence = await provider.available()
        assert ok and "qwen2.5vl:7b" in sentence
        await provider.aclose()
        text_only = build_provider("ollama", url=fake.ollama_url, model="llama3.2:3b")
        ok, sentence = await text_only.available()
        assert not ok and "cannot see images" in sentence
        with pytest.raises(StopRunError, match="cannot see images"):
            await text_only.caption(Path("x.jpg"), "p")
        await text_only.aclose()

    run(go())


def test_ollama_model_not_found_says_pull(fake_server: Make, tmp_path: Path) -> None:
    fake = fake_server(show_capabilities=False)
    photo = make_photo(tmp_path / "a.jpg")

    async def go() -> None:
        provider = build_provider("ollama", url=fake.ollama_url, model="llava:34b")
        ok, sentence = await provider.available()
        assert not ok and "ollama pull llava:34b" in sentence
        with pytest.raises(StopRunError, match="`ollama pull llava:34b`"):
            await provider.caption(photo, "p")
        await provider.aclose()

    run(go())


def test_ollama_chat_404_when_show_knows_nothing(fake_server: Make, tmp_path: Path) -> None:
    """Older Ollama without capabilities: the 404 of /api/chat itself is recognised."""
    fake = fake_server(show_capabilities=False)
    photo = make_photo(tmp_path / "a.jpg")
    fake.fail_next(status=404, body={"error": 'model "llava:7b" not found, try pulling it first'})
    with pytest.raises(StopRunError, match="ollama pull llava:7b"):
        run(_caption("ollama", fake.ollama_url, photo, model="llava:7b"))


@pytest.mark.parametrize(
    ("fault", "error", "pattern"),
    [
        ({"status": 429, "retry_after": "7"}, RetryableCaptionError, "rate-limiting"),
        ({"status": 503}, RetryableCaptionError, "server busy"),
        (
            {"status": 500, "body": {"error": "model runner has unexpectedly stopped"}},
            RetryableCaptionError,
            "unexpectedly stopped",
        ),
        ({"malformed": True}, RetryableCaptionError, "not valid JSON"),
        ({"cut": True}, ProviderUnreachableError, "Ollama at 127.0.0.1"),
        ({"hang": 2.0}, ProviderUnreachableError, "stopped answering"),
        ({"status": 400, "body": {"error": "illegal base64 data"}}, CaptionError, "illegal base64"),
    ],
)
def test_ollama_faults(
    fake_server: Make, tmp_path: Path, fault: dict[str, Any], error: type, pattern: str
) -> None:
    fake = fake_server()
    fake.fail_next(**fault)
    photo = make_photo(tmp_path / "a.jpg", (64, 48))
    with pytest.raises(error, match=pattern) as info:
        run(_caption("ollama", fake.ollama_url, photo, model="llava:7b", read_timeout=0.5))
    if fault.get("retry_after"):
        assert info.value.retry_after == 7.0  # type: ignore[attr-defined]


def test_openai_caption_data_url_and_key(
    fake_server: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_server(require_key="sk-test-key-123456")
    photo = make_photo(tmp_path / "a.jpg")
    monkeypatch.setenv("LORA_STUDIO_CAPTION_API_KEY", "sk-test-key-123456")
    text = run(_caption("openai", fake.openai_url, photo, model="gpt-4o-mini"))
    assert text == DEFAULT_CAPTION
    request = fake.caption_requests()[-1]
    assert request.headers["Authorization"] == "Bearer sk-test-key-123456"
    part = request.json["messages"][0]["content"][1]
    assert part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert request.json["max_tokens"] == 300


def test_openai_bad_key_is_a_sentence_without_the_key(
    fake_server: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_server(require_key="sk-right-key-000000")
    monkeypatch.setenv("LORA_STUDIO_CAPTION_API_KEY", "sk-wrong-key-999999")
    photo = make_photo(tmp_path / "a.jpg", (64, 48))
    with pytest.raises(StopRunError) as info:
        run(_caption("openai", fake.openai_url, photo, model="gpt-4o-mini"))
    assert "HTTP 401" in info.value.user_message and "LORA_STUDIO_CAPTION_API_KEY" in (
        info.value.user_message
    )
    assert "sk-wrong-key-999999" not in str(info.value)


def test_openai_models_and_missing_v1(fake_server: Make) -> None:
    fake = fake_server()

    async def go() -> None:
        provider = build_provider("openai", url=fake.openai_url, model="local-vlm", api_key="")
        assert await provider.models() == ["gpt-4o-mini", "local-vlm"]
        assert (await provider.available())[0]
        await provider.aclose()
        no_v1 = build_provider("openai", url=fake.url, model="local-vlm", api_key="")
        ok, sentence = await no_v1.available()
        assert not ok and "must include the version prefix" in sentence
        await no_v1.aclose()
        unknown = build_provider("openai", url=fake.openai_url, model="gpt-9", api_key="")
        ok, sentence = await unknown.available()
        assert not ok and "gpt-9" in sentence
        await unknown.aclose()

    run(go())


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            {"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests"}},
            "Rate limit reached",
        ),
        ({"error": "server overloaded (llama.cpp)"}, "server overloaded"),
        ({"message": "vLLM engine is busy", "type": "ServiceUnavailable"}, "engine is busy"),
        ({"detail": "LM Studio: no model loaded"}, "no model loaded"),
        ("<html><body>502 Bad Gateway</body></html>", None),
    ],
)
def test_openai_error_envelopes(
    fake_server: Make, tmp_path: Path, body: Any, said: str | None
) -> None:
    fake = fake_server()
    fake.fail_next(status=503, body=body)
    photo = make_photo(tmp_path / "a.jpg", (64, 48))
    with pytest.raises(RetryableCaptionError) as info:
        run(_caption("openai", fake.openai_url, photo, model="local-vlm", api_key=""))
    message = info.value.user_message
    assert "HTTP 503" in message
    if said:
        assert said in message
    else:
        assert "<html>" not in message


def test_openai_model_not_found_and_max_completion_tokens(
    fake_server: Make, tmp_path: Path
) -> None:
    fake = fake_server(wants_max_completion_tokens=True)
    photo = make_photo(tmp_path / "a.jpg", (64, 48))
    with pytest.raises(StopRunError, match="no model “gpt-9”"):
        run(_caption("openai", fake.openai_url, photo, model="gpt-9", api_key=""))
    text = run(_caption("openai", fake.openai_url, photo, model="gpt-4o-mini", api_key=""))
    assert text == DEFAULT_CAPTION
    assert "max_completion_tokens" in fake.caption_requests()[-1].json


def test_plain_http_to_another_machine_is_refused() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        build_provider("openai", url="http://192.168.1.20:1234/v1", model="m", api_key="")
    build_provider(
        "openai", url="http://192.168.1.20:1234/v1", api_key="", allow_insecure_http=True
    )


def test_huggingface_raw_bytes_and_token(
    fake_server: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_server(require_key="hf_abcdefghijklmnop")
    monkeypatch.setenv("HF_TOKEN", "hf_abcdefghijklmnop")
    photo = make_photo(tmp_path / "a.jpg")
    text = run(_caption("huggingface", fake.hf_url, photo))
    assert text == DEFAULT_CAPTION.rstrip(".").lower()
    request = fake.caption_requests()[-1]
    assert request.path == "/hf-inference/models/Salesforce/blip-image-captioning-large"
    assert request.headers["Content-Type"] == "image/jpeg"
    assert request.body[:2] == b"\xff\xd8" and b"Exif" not in request.body


def test_huggingface_loading_credits_deprecated(fake_server: Make, tmp_path: Path) -> None:
    photo = make_photo(tmp_path / "a.jpg", (64, 48))
    fake = fake_server(hf_loading=1, hf_estimated_time=12.5)
    with pytest.raises(RetryableCaptionError, match="still loading") as info:
        run(_caption("huggingface", fake.hf_url, photo, api_key="hf_x"))
    assert info.value.retry_after == 12.5
    with pytest.raises(StopRunError, match="no longer serves"):
        run(
            _caption(
                "huggingface",
                fake.hf_url,
                photo,
                api_key="hf_x",
                model="nlpconnect/vit-gpt2-image-captioning",
            )
        )
    broke = fake_server(hf_credits_exhausted=True)
    with pytest.raises(StopRunError, match="credits"):
        run(_caption("huggingface", broke.hf_url, photo, api_key="hf_x"))


def test_huggingface_available_needs_token(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        "lora_studio.core.captioning.providers.huggingface.get_secret", lambda *_: None
    )

    async def go() -> tuple[bool, str]:
        provider = build_provider("huggingface", url=None, model=None)
        try:
            return await provider.available()
        finally:
            await provider.aclose()

    ok, sentence = run(go())
    assert not ok and "HF_TOKEN" in sentence


def test_template_provider(tmp_path: Path) -> None:
    photo = tmp_path / "10_ohwx" / "red_dress-01.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"")
    photo.with_suffix(".txt").write_text("smiling")

    async def go(template: str) -> str:
        provider = build_provider(
            "template", url=None, model=None, template=template, trigger="ohwx"
        )
        assert (await provider.available())[0] and await provider.models() == []
        return await provider.caption(photo, "ignored")

    assert run(go("{trigger}, {name}, {existing}")) == "ohwx, red dress 01, smiling"
    assert run(go("photo of {folder}, {filename}")) == "photo of ohwx, red_dress-01"
    with pytest.raises(ConfigError, match="unknown placeholder"):
        build_provider("template", url=None, model=None, template="{trigger} {colour}")


def test_registry_kinds() -> None:
    assert PROVIDER_KINDS == ("template", "ollama", "openai", "huggingface")
    with pytest.raises(ConfigError, match="Unknown caption provider"):
        build_provider("blip", url=None, model=None)
