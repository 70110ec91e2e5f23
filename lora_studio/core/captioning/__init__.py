"""Core: captioning (pure Python, no Qt).

- `tags`: split/join/normalise/dedupe tags, tag frequency, caption length (chars, CLIP tokens);
- `batch`: batch operations as pure planners (`BatchPlan`), applied with `CaptionStore.apply`;
- `providers`: the `CaptionProvider` protocol and the template, Ollama, OpenAI-compatible and
  Hugging Face providers (`build_provider`); `upload` prepares pictures for them;
- `runner`: the batch auto-caption run; `postprocess`, `prompts`, `estimate` support it.
The caption history (undo/redo on disk) is `core.dataset.caption_store.CaptionStore`.
"""
