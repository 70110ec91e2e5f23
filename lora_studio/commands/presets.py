"""Command `lora-studio presets`: list every preset with all of its settings.

For people: one column per preset, one row per setting, then each preset's description. With
`--json`: a list of presets, each with its full configuration. User preset files that cannot be
read are reported on stderr and the others are still listed.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lora_studio import paths
from lora_studio.commands._command import EXIT_OK, add_json_flag, to_json
from lora_studio.core.config.presets import Preset, load_presets
from lora_studio.core.config.training_config import TrainingConfig


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "presets",
        help="list the training presets (built-in and your own) with all their settings",
        description="List every training preset — the built-in ones and those saved in the "
        "settings folder — with all of their settings.",
    )
    add_json_flag(parser, "print a JSON list with full configs")
    parser.set_defaults(func=run)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if value == "":
        return '""'
    return str(value)


def _table(presets: list[Preset]) -> str:
    fields = [name for name in TrainingConfig.model_fields if name != "schema_version"]
    header = ["setting", *(preset.name for preset in presets)]
    rows = [["kind", *("built-in" if p.builtin else "yours" for p in presets)]]
    rows.append(["title", *(p.title for p in presets)])
    for name in fields:
        rows.append([name, *(_cell(p.config.model_dump(mode="json")[name]) for p in presets)])
    rows.append(["effective_alpha", *(_cell(p.config.effective_alpha) for p in presets)])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    out = [line(header), line(["-" * width for width in widths])]
    out.extend(line(row) for row in rows)
    out.append("")
    out.extend(f"{p.name}: {p.description}" for p in presets if p.description)
    return "\n".join(line.rstrip() for line in out)


def _as_json(presets: list[Preset]) -> str:
    items = [
        {
            "name": p.name,
            "title": p.title,
            "description": p.description,
            "builtin": p.builtin,
            "config": p.config.model_dump(mode="json"),
            "effective_alpha": p.config.effective_alpha,
        }
        for p in presets
    ]
    return to_json(items)


def run(args: argparse.Namespace) -> int:
    result = load_presets(paths.config_dir())
    for problem in result.problems:
        print(f"warning: {problem.user_message}", file=sys.stderr)
    print(_as_json(result.presets) if args.json else _table(result.presets))
    return EXIT_OK
