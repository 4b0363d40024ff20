"""Keep or drop the parts of a page that point at something that may not exist.

A block of lines between a marker line and ``<!-- end-if -->`` is kept when
its condition holds and dropped otherwise; the two marker lines are always
removed, so this works in Markdown and reStructuredText pages alike, and
inside a toctree. The conditions:

``<!-- if-page: NAME -->``
    ``NAME.md`` or ``NAME.rst`` exists in the documentation's folder.
``<!-- if-exists: PATH [PATH ...] -->``
    Every ``PATH``, relative to the repository's root, exists.

This lets the documentation list a page or a module that is still being
written without breaking the build while it is absent. Pages holding such
blocks are read again on every build, so the answer is never stale.
"""

from __future__ import annotations

import re
from pathlib import Path

_BLOCK = re.compile(
    r"^[ \t]*<!-- if-(?P<kind>page|exists): (?P<name>[\w/. -]+?) -->[ \t]*\n"
    r"(?P<body>.*?)"
    r"^[ \t]*<!-- end-if -->[ \t]*\n",
    re.MULTILINE | re.DOTALL,
)


def _holds(srcdir: Path, kind: str, name: str) -> bool:
    if kind == "page":
        return any((srcdir / f"{name}{suffix}").is_file() for suffix in (".md", ".rst"))
    return all((srcdir.parent / path).exists() for path in name.split())


def keep_or_drop(text: str, srcdir: Path) -> str:
    """The page's text with each conditional block kept or dropped."""
    return _BLOCK.sub(
        lambda m: m["body"] if _holds(srcdir, m["kind"], m["name"]) else "", text
    )


def _on_source_read(app, docname: str, source: list[str]) -> None:
    if "<!-- if-" in source[0]:
        source[0] = keep_or_drop(source[0], Path(app.srcdir))
        if not hasattr(app.env, "mim_conditional_docs"):
            app.env.mim_conditional_docs = set()
        app.env.mim_conditional_docs.add(docname)


def _always_reread(app, env, added, changed, removed) -> list[str]:
    """Pages with conditional blocks are read again on every build."""
    return sorted(getattr(env, "mim_conditional_docs", set()) - set(removed))


def setup(app):
    app.connect("source-read", _on_source_read)
    app.connect("env-get-outdated", _always_reread)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
