"""The documentation is current: generated pages match the code, and every relative link resolves."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_LIMIT = 250


def _generator() -> ModuleType:
    name = "headzoo_docs_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "generate.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _pages() -> list[Path]:
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [p for p in pages if p.is_file()]


@pytest.mark.parametrize("page", list(_generator().PAGES))
def test_generated_page_is_current(page: str) -> None:
    gen = _generator()
    path = gen.DOCS / page
    assert path.is_file(), f"docs/{page} is missing: run `python docs/generate.py`"
    assert path.read_text(encoding="utf-8") == gen.render(page), (
        f"docs/{page} is stale: run `python docs/generate.py`"
    )


def test_every_public_name_has_a_docstring() -> None:
    assert _generator().api_problems() == []


_FENCE = re.compile(r"^\s*(```|~~~).*?^\s*\1", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)


def relative_links(text: str) -> list[str]:
    """The targets of Markdown links and images that point into the repository (no URL, no bare anchor)."""
    text = _INLINE_CODE.sub("", _FENCE.sub("", text))
    targets = _LINK.findall(text) + _REFERENCE.findall(text)
    return [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#|//)", t, re.I)]


def test_relative_links_parser() -> None:
    text = (
        "[a](docs/x.md) [b](https://e.org) [c](#top) ![d](img.png \"t\") `[e](no.md)`\n"
        "```\n[f](fenced.md)\n```\n[g]: ref.md\n[h](<angled.md>)"
    )
    assert relative_links(text) == ["docs/x.md", "img.png", "angled.md", "ref.md"]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in relative_links(page.read_text(encoding="utf-8")):
        path = target.split("#", 1)[0].split("?", 1)[0]
        if path and not (page.parent / path).exists():
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"


def test_readme_is_short() -> None:
    n = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert n <= README_LIMIT, f"README.md has {n} lines (at most {README_LIMIT}); move the detail into docs/"
