"""Command `lora-studio caption DIR --provider template|ollama|openai|huggingface [...]`.

Headless auto-captioning over `core.captioning.runner`: lists the dataset's pictures, checks the
provider is ready (server answering, model installed and able to see images, key present), prints
an estimate, then captions with bounded concurrency. One line per captioned or failed picture
(pictures skipped because they already have a caption are only counted), then a summary. Every
finished caption is written at once (atomic, journaled: the whole run is one undo step on the
Captions page); Ctrl-C stops promptly and keeps them, and a rerun resumes.

Keys are never taken on the command line (shell history): the keychain, or the environment
(`LORA_STUDIO_CAPTION_API_KEY`/`OPENAI_API_KEY`, `HF_TOKEN`).

Exit codes: 0 the run happened (per-picture failures are reported, not fatal); 1 the command
itself failed — provider not ready, the run had to stop (bad key, unknown model, server gone) or
Ctrl-C; 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from lora_studio.commands._command import (
    EXIT_FAILED,
    EXIT_OK,
    add_json_flag,
    exits,
    print_json,
    usage_error,
)
from lora_studio.commands._dataset_run import require_dataset_dir
from lora_studio.core.captioning.estimate import AutoCaptionEstimate, estimate_auto_caption
from lora_studio.core.captioning.prompts import PROMPT_PRESETS, SENTENCE_PRESET, TAGS_PRESET
from lora_studio.core.captioning.providers import PROVIDER_INFO, PROVIDER_KINDS, build_provider
from lora_studio.core.captioning.providers.base import CaptionProvider
from lora_studio.core.captioning.runner import (
    AutoCaptionOptions,
    CaptionOutcome,
    OverwriteMode,
    run_auto_caption,
)
from lora_studio.core.dataset import CancelToken
from lora_studio.core.dataset.caption_store import CaptionStore
from lora_studio.core.dataset.concurrency import TextProgress
from lora_studio.core.dataset.scan import scan_dataset
from lora_studio.core.errors import ConfigError, DatasetError, LoraStudioError
from lora_studio.core.plurals import plural

_STYLES = {"sentence": SENTENCE_PRESET, "tags": TAGS_PRESET}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "caption",
        help="write captions automatically with a vision model or a template",
        description="Caption a dataset's pictures with a template (no model), a local Ollama "
        "vision model, any OpenAI-compatible server, or Hugging Face image-to-text. Pictures "
        "are downscaled and sent without EXIF/GPS. API keys come from the system keychain or "
        "the environment (LORA_STUDIO_CAPTION_API_KEY or OPENAI_API_KEY; HF_TOKEN), never "
        "from the command line.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="the dataset folder")
    parser.add_argument("--provider", required=True, choices=PROVIDER_KINDS)
    parser.add_argument(
        "--url",
        help="the provider's base URL as you would paste it (Ollama: http://localhost:11434; "
        "OpenAI-compatible: including /v1, e.g. http://localhost:1234/v1)",
    )
    parser.add_argument("--model", metavar="M", help="model name (default: the provider's)")
    parser.add_argument("--prompt", metavar="TEXT", help="what to ask the model")
    parser.add_argument(
        "--style",
        choices=sorted(_STYLES),
        default="sentence",
        help="prompt preset when --prompt is not given (sentence)",
    )
    parser.add_argument(
        "--template",
        metavar="PATTERN",
        help="template provider: e.g. '{trigger}, {folder}, {name}' (also {filename}, {existing})",
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in OverwriteMode],
        default=OverwriteMode.MISSING.value,
        help="missing: only pictures without a caption (default); overwrite; append",
    )
    parser.add_argument("--concurrency", type=int, default=4, metavar="N", help="requests at once")
    parser.add_argument("--trigger", metavar="WORD", help="put this word first in every caption")
    parser.add_argument(
        "--add-tags", metavar="TAGS", help="style tags to put after the trigger, e.g. 'watercolor'"
    )
    parser.add_argument("--max-tokens", type=int, metavar="N", help="cut captions to N CLIP tokens")
    parser.add_argument("--max-chars", type=int, metavar="N", help="cut captions to N characters")
    parser.add_argument(
        "--max-side", type=int, default=1024, metavar="PX", help="downscale uploads (1024)"
    )
    parser.add_argument("--retries", type=int, default=3, metavar="N", help="per picture (3)")
    parser.add_argument(
        "--timeout", type=float, default=120.0, metavar="SECONDS", help="per request (120)"
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow plain http:// to another machine (keys would travel unencrypted)",
    )
    add_json_flag(parser)
    parser.set_defaults(func=run)


def _check_numbers(args: argparse.Namespace) -> None:
    for flag, value, low in (
        ("--concurrency", args.concurrency, 1),
        ("--max-tokens", args.max_tokens, 1),
        ("--max-chars", args.max_chars, 1),
        ("--max-side", args.max_side, 64),
        ("--retries", args.retries, 0),
    ):
        if value is not None and value < low:
            raise usage_error(f"{flag} must be at least {low}.")
    if args.concurrency > 32:
        raise usage_error("--concurrency above 32 only gets you rate-limited; use 32 or less.")
    if args.timeout <= 0:
        raise usage_error("--timeout must be more than 0 seconds.")
    if args.template and args.provider != "template":
        raise usage_error("--template only applies to --provider template.")


@exits
def run(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    require_dataset_dir(directory)
    _check_numbers(args)
    try:
        scan = scan_dataset(directory)
    except DatasetError as exc:
        raise usage_error(exc.user_message) from None
    images = [entry.path for entry in scan.entries]
    if not images:
        raise usage_error(f"{directory} has no pictures to caption.")
    mode = OverwriteMode(args.mode)
    to_do = (
        sum(1 for e in scan.entries if not (e.caption or "").strip())
        if mode == OverwriteMode.MISSING
        else len(images)
    )
    options = AutoCaptionOptions(
        prompt=args.prompt or PROMPT_PRESETS[_STYLES[args.style]],
        mode=mode,
        concurrency=args.concurrency,
        trigger=(args.trigger or "").strip() or None,
        style_tags=(args.add_tags or "").strip() or None,
        max_tokens=args.max_tokens,
        max_chars=args.max_chars,
        max_side=args.max_side,
        retries=args.retries,
    )
    try:
        provider = _build(args)
    except ConfigError as exc:
        raise usage_error(exc.user_message) from None
    estimate = estimate_auto_caption(
        args.provider,
        to_do,
        args.concurrency,
        model=getattr(provider, "model", None),
        url=getattr(provider, "url", None),
    )
    result = asyncio.run(_caption(provider, directory, images, options, estimate, args))
    return result


def _build(args: argparse.Namespace) -> CaptionProvider:
    options: dict[str, Any] = {}
    if args.provider == "template":
        options = {"template": args.template, "trigger": args.trigger}
    else:
        options = {
            "max_side": args.max_side,
            "read_timeout": args.timeout,
            "allow_insecure_http": args.allow_insecure_http,
        }
    return build_provider(args.provider, url=args.url, model=args.model, **options)


async def _caption(
    provider: CaptionProvider,
    directory: Path,
    images: list[Path],
    options: AutoCaptionOptions,
    estimate: AutoCaptionEstimate,
    args: argparse.Namespace,
) -> int:
    try:
        ok, sentence = await provider.available()
        if not ok:
            print(sentence, file=sys.stderr)
            return EXIT_FAILED
        if not args.json:
            info = PROVIDER_INFO[args.provider]
            model = getattr(provider, "model", None)
            using = f"{info.title}" + (f", model {model}" if model and info.uses_prompt else "")
            print(f"Captioning with {using}. {estimate.describe()}", file=sys.stderr)
        store = CaptionStore(directory)
        printer = _Printer(store, len(images), as_json=args.json)
        cancel = CancelToken()
        with _ctrl_c_cancels(cancel):
            outcomes = await run_auto_caption(
                provider, store, images, options, cancel=cancel, on_outcome=printer
            )
        printer.finish()
    except LoraStudioError as exc:
        print(exc.user_message, file=sys.stderr)
        return EXIT_FAILED
    finally:
        await provider.aclose()
    stopped = _stop_reason(outcomes)
    if args.json:
        print_json(_to_json(store, outcomes, estimate, cancel.cancelled, stopped))
    else:
        print(_summary(outcomes, cancel.cancelled, stopped))
    return EXIT_FAILED if cancel.cancelled or stopped else EXIT_OK


@contextlib.contextmanager
def _ctrl_c_cancels(cancel: CancelToken) -> Any:
    """Ctrl-C cancels the run through its token (POSIX), so finished captions are reported."""
    loop = asyncio.get_running_loop()
    installed = False
    try:
        loop.add_signal_handler(signal.SIGINT, cancel.cancel)
        installed = True
    except (NotImplementedError, RuntimeError, ValueError):
        pass  # Windows: KeyboardInterrupt cancels asyncio.run; captions written so far stay
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)


class _Printer:
    """Per-picture lines as outcomes arrive; a progress line on a terminal only."""

    def __init__(self, store: CaptionStore, total: int, *, as_json: bool) -> None:
        self.store = store
        self.total = total
        self.as_json = as_json
        self.done = 0
        tty = sys.stderr.isatty()
        self.progress = TextProgress("Captioning", sys.stderr) if tty and not as_json else None

    def __call__(self, outcome: CaptionOutcome) -> None:
        self.done += 1
        if not self.as_json and outcome.status != "skipped":
            if self.progress is not None:
                self.progress.finish()  # end the progress line before a result line
            text = outcome.caption if outcome.status == "ok" else outcome.reason
            print(f"{outcome.status:<7} {self.store.relative(outcome.image)}  {text}", flush=True)
        if self.progress is not None:
            self.progress(self.done, self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress.finish()


def _stop_reason(outcomes: list[CaptionOutcome]) -> str | None:
    for outcome in outcomes:
        if outcome.status == "skipped" and (outcome.reason or "").startswith("Not captioned: "):
            return outcome.reason
    return None


def _summary(outcomes: list[CaptionOutcome], cancelled: bool, stopped: str | None) -> str:
    count = {s: sum(1 for o in outcomes if o.status == s) for s in ("ok", "failed", "skipped")}
    reasons: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.status == "skipped":
            reasons[outcome.reason or ""] = reasons.get(outcome.reason or "", 0) + 1
    lines = [
        f"Captioned {plural(count['ok'], 'picture')}, {count['failed']} failed, "
        f"{count['skipped']} skipped."
    ]
    lines += [f"  skipped {n}: {reason}" for reason, n in reasons.items()]
    if count["failed"]:
        lines.append("Run the same command again to retry the failed pictures.")
    if cancelled:
        lines.append("Cancelled; the captions written so far are kept. Run again to resume.")
    elif stopped:
        lines.append(f"Stopped: {stopped.removeprefix('Not captioned: ')}")
    if count["ok"]:
        lines.append("The run is one step in the Captions page's undo history.")
    return "\n".join(lines)


def _to_json(
    store: CaptionStore,
    outcomes: list[CaptionOutcome],
    estimate: AutoCaptionEstimate,
    cancelled: bool,
    stopped: str | None,
) -> dict[str, Any]:
    return {
        "dataset": str(store.root),
        "estimate": {
            "seconds": round(estimate.seconds, 1),
            "cost_usd": estimate.cost_usd,
            "basis": estimate.basis,
        },
        "outcomes": [
            {
                "image": store.relative(o.image),
                "status": o.status,
                "caption": o.caption,
                "reason": o.reason,
                "attempts": o.attempts,
            }
            for o in outcomes
        ],
        "summary": {
            s: sum(1 for o in outcomes if o.status == s) for s in ("ok", "failed", "skipped")
        },
        "cancelled": cancelled,
        "stopped": stopped,
    }
