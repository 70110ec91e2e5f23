"""The documentation ships, is found, and every citation of it in the code points at a real section.

Code comments cite `docs/protocols.md §N.M` and `docs/architecture.md §N`; a renumbered or deleted
section, or a citation of a design file that is not in the repository, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

from lora_studio import paths

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SCANNED = ("lora_studio", "tests", "benchmarks", "packaging")
CITATION = re.compile(
    r"(?<![\w/-])docs/(protocols|architecture|artists-guide)\.md (§[\d.]*\d)((?:\s*[,/]\s*§[\d.]*\d)*)"
)
OUTSIDE = re.compile(
    r"\b(?:PROTOCOLS|ARCHITECTURE|PRODUCT)(?:\.md)?\s*(?:§|Part\b)|\b(?:PROTOCOLS|ARCHITECTURE|PRODUCT)\.md\b"
)


def python_files() -> list[Path]:
    return [
        path
        for folder in SCANNED
        for path in sorted((REPO / folder).rglob("*.py"))
        if path.resolve() != Path(__file__).resolve()
    ]


def section_numbers(doc: Path) -> set[str]:
    numbers = set()
    for line in doc.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#{2,4} (\d+(?:\.\d+)*)\.? ", line)
        if match:
            numbers.add(match.group(1))
    return numbers


def test_every_cited_section_exists() -> None:
    sections = {doc.stem: section_numbers(doc) for doc in DOCS.glob("*.md")}
    assert {"1.7", "2.5", "3.6", "4.5", "6.3"} <= sections["protocols"]
    broken = []
    for path in python_files():
        for match in CITATION.finditer(path.read_text(encoding="utf-8")):
            doc = match.group(1)
            cited = [match.group(2), *re.findall(r"§([\d.]*\d)", match.group(3))]
            for number in cited:
                number = number.lstrip("§")
                if number not in sections.get(doc, set()):
                    broken.append(f"{path.relative_to(REPO)}: docs/{doc}.md §{number}")
    assert not broken, "citations of sections that do not exist:\n" + "\n".join(broken)


def test_no_code_cites_design_files_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in python_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert not found, "cite docs/protocols.md or docs/architecture.md instead:\n" + "\n".join(found)


def test_relative_links_in_the_docs_resolve() -> None:
    for doc in [*DOCS.glob("*.md"), REPO / "README.md", REPO / "tests" / "fixtures" / "README.md"]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.relative_to(REPO)} links to {target}"


def test_the_guide_is_found_where_the_help_menu_looks() -> None:
    guide = paths.guide_file()
    assert guide.is_file() and guide.name == paths.GUIDE_NAME
    text = guide.read_text(encoding="utf-8")
    for heading in ("## 1. Pictures", "## 5. Troubleshooting", "## 6. Performance tuning"):
        assert heading in text
