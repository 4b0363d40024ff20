"""Tables of the benchmark results, read from ``docs/results/*.json``.

``.. benchmark-results:: NAME`` shows the tables that
``docs/results/NAME.json`` declares and its figures (``NAME*.png``, smoke
runs' ``*_quick*`` left out), after a line naming the script and the command
that wrote them (options ``:script:``, default ``benchmarks/NAME.py``, and
``:command:``). When the file does not exist, a note says so.

Each benchmark script describes its own tables (see ``benchmarks/_common.py``):
the file's ``"tables"`` is a list of ``{"title": str, "columns": [label, ...],
"rows": [[value, ...], ...]}``. The numbers are read each time the
documentation is built, so the pages cannot drift from them; this module
only formats the values and lays the tables out.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

_RESULTS = Path("docs") / "results"


def _cell(value) -> str:
    """A value as the tables show it: numbers to 4 significant digits."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):  # a measure that does not apply (json's NaN)
            return "–"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} = {_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _numeric(values: list) -> bool:
    """Whether a column holds numbers only (blanks aside): it is right-aligned."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in values if v is not None)


def _table(spec: dict) -> nodes.table:
    """The docutils table of one ``{"title", "columns", "rows"}`` entry."""
    columns, rows = spec["columns"], spec["rows"]
    numeric = [_numeric([row[i] for row in rows]) for i in range(len(columns))]
    table = nodes.table(classes=["benchmark-table"])
    table += nodes.title(text=spec["title"])
    group = nodes.tgroup(cols=len(columns))
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in columns)

    def row_node(cells: list[str], classes: list[list[str]]) -> nodes.row:
        row = nodes.row()
        for text, entry_classes in zip(cells, classes):
            entry = nodes.entry(classes=entry_classes)
            entry += nodes.paragraph(text=text)
            row += entry
        return row

    group += nodes.thead("", row_node(columns, [[] for _ in columns]))
    body_classes = [["numeric"] if n else [] for n in numeric]
    group += nodes.tbody("", *(row_node([_cell(v) for v in row], body_classes)
                               for row in rows))
    return table


def _produced_by(name: str, script: str, command: str) -> nodes.paragraph:
    """The line saying which script and command wrote the results."""
    line = nodes.paragraph(classes=["benchmark-source"])
    line += nodes.Text("Produced by ")
    line += nodes.literal(text=script)
    line += nodes.Text(": run ")
    line += nodes.literal(text=command)
    line += nodes.Text(" from the repository's root; it writes ")
    line += nodes.literal(text=f"{_RESULTS.as_posix()}/{name}.json")
    line += nodes.Text(".")
    return line


class BenchmarkResults(SphinxDirective):
    """``.. benchmark-results:: NAME``: one results file's tables and figures."""

    required_arguments = 1
    option_spec = {"script": directives.unchanged, "command": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        script = self.options.get("script", f"benchmarks/{name}.py")
        command = self.options.get("command", f".venv/bin/python {script}")
        results = Path(self.env.srcdir).parent / _RESULTS
        path = results / f"{name}.json"
        self.env.note_dependency(str(path))
        out: list[nodes.Node] = [_produced_by(name, script, command)]
        if not path.is_file():  # a benchmark the page describes before its first run
            note = nodes.note()
            note += nodes.paragraph(
                text=f"Not run yet: there is no {_RESULTS.as_posix()}/{name}.json "
                     "in this build's copy of the repository.")
            return [*out, note]
        out += [_table(spec) for spec in json.loads(path.read_text())["tables"]]
        for png in sorted(results.glob(f"{name}*.png")):
            if "_quick" not in png.stem:
                out.append(self._figure(png))
        return out

    def _figure(self, png: Path) -> nodes.figure:
        """A results figure, captioned by its path in the repository."""
        self.env.note_dependency(str(png))
        path = f"{_RESULTS.as_posix()}/{png.name}"
        figure = nodes.figure(classes=["benchmark-figure"])
        # A leading "/" is the documentation's folder; Sphinx copies the file.
        figure += nodes.image(uri=f"/../{path}", alt=path)
        caption = nodes.caption()
        caption += nodes.literal(text=path)
        figure += caption
        return figure


def setup(app):
    app.add_directive("benchmark-results", BenchmarkResults)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
