"""The defaults the documentation shows are the estimators' ``get_params()``.

The pages show defaults in four ways: tables whose header begins
``| parameter | default |`` (``docs/choosing.md``); the bold leads of
``docs/choosing.md``'s "Defaults, and why" (``**Scaling (`scaling="auto"`).**``);
a ``name=value`` marked "(the default)"; and a value marked "(default)" in
a table column named after a parameter (`` `likelihood` ``). The API pages
show the ``default=`` of each parameter in the estimators' docstrings. Each
is read here and compared with the code, so that none can drift from it
again.
"""

import ast
import re
from pathlib import Path

import pytest

from mim_sklearn import (
    AMIMEncoder,
    LatentImputer,
    MAEEncoder,
    MIMEncoder,
    VAEEncoder,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
ENCODERS = [MIMEncoder, AMIMEncoder, VAEEncoder, MAEEncoder]
# A default for one estimator only, written after the common one:
# `"relu"` (`"tanh"` for `MAEEncoder`).
OVERRIDE = re.compile(r"\(`([^`]+)` for `(\w+)`\)")
# name=value in backticks, such as `scaling="auto"`.
ASSIGNMENT = re.compile(r"`(\w+)=([^`]+)`")


def pages() -> list[Path]:
    built = {"_build", "auto_examples", "generated"}
    return [page for page in sorted(DOCS.rglob("*.md"))
            if not built & set(page.relative_to(DOCS).parts)]


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every table of a page, as (header, rows) of cells."""
    found = []
    for block in re.findall(r"(?:^\|.*\n)+", text, re.MULTILINE):
        lines = block.splitlines()
        found.append((cells(lines[0]), [cells(line) for line in lines[2:]]))
    return found


def defaults_tables(text: str) -> list[list[list[str]]]:
    """The rows of every table whose header begins with the columns
    "parameter" and "default"."""
    return [rows for header, rows in tables(text)
            if [cell.lower() for cell in header[:2]] == ["parameter", "default"]]


def table_defaults(rows: list[list[str]]) -> dict[str, dict[str, object]]:
    """{parameter: {estimator name or "*": default}} of one table."""
    read = {}
    for row in rows:
        name = row[0].strip("`")
        common = re.match(r"`([^`]+)`", row[1])
        assert common, f"the default of {name} is not a `literal`: {row[1]!r}"
        read[name] = {"*": ast.literal_eval(common.group(1))}
        for value, estimator in OVERRIDE.findall(row[1]):
            read[name][estimator] = ast.literal_eval(value)
    return read


def documented_tables() -> list[tuple[str, dict]]:
    return [(page.name, table_defaults(rows)) for page in pages()
            for rows in defaults_tables(page.read_text())]


def test_the_docs_show_a_defaults_table():
    assert [name for name, _ in documented_tables()] == ["choosing.md"]


@pytest.mark.parametrize("estimator", ENCODERS, ids=lambda cls: cls.__name__)
def test_defaults_tables_equal_get_params(estimator):
    params = estimator().get_params()
    for page, table in documented_tables():
        # Every parameter has a row, and every row is some estimator's.
        assert set(params) <= set(table), (page, set(params) - set(table))
        known = set().union(*(cls().get_params() for cls in ENCODERS))
        assert set(table) <= known, (page, set(table) - known)
        for name, value in params.items():
            documented = table[name].get(estimator.__name__, table[name]["*"])
            assert documented == value, (
                f"{page} shows {name}={documented!r} as {estimator.__name__}'s "
                f"default; get_params() has {value!r}"
            )


def defaults_section(text: str) -> str:
    return text.split("## Defaults, and why", 1)[1].split("\n## ", 1)[0]


def test_defaults_section_leads_equal_get_params():
    params = MIMEncoder().get_params()
    leads = re.findall(r"\*\*[^*]*\*\*",
                       defaults_section((DOCS / "choosing.md").read_text()))
    shown = {name: value for lead in leads
             for name, value in ASSIGNMENT.findall(lead) if name in params}
    assert {"scaling", "decoder_variance", "batch_size"} <= set(shown)
    for name, value in shown.items():
        assert ast.literal_eval(value) == params[name], (name, value)


def test_values_marked_as_the_default_equal_get_params():
    params = MIMEncoder().get_params()
    marked = [(page.name, name, value) for page in pages()
              for name, value in re.findall(
                  r"`(\w+)=([^`]+)` \((?:the )?default\)", page.read_text())
              if name in params]
    assert marked  # the pattern still finds what it looks for
    for page, name, value in marked:
        assert ast.literal_eval(value) == params[name], (page, name, value)


def test_table_cells_marked_as_the_default_equal_get_params():
    # Such as the likelihood table's column `likelihood`: `"auto"` (default).
    params = MIMEncoder().get_params()
    columns = set()
    for page in pages():
        for header, rows in tables(page.read_text()):
            for column, title in enumerate(header):
                name = title.strip("`")
                if name not in params:
                    continue
                columns.add(name)
                for row in rows:
                    for value in re.findall(r"`([^`]+)` \((?:the )?default\)",
                                            row[column]):
                        assert ast.literal_eval(value) == params[name], (
                            page.name, name, value)
    assert "likelihood" in columns  # the tables are still found


def docstring_defaults(cls: type) -> dict[str, object]:
    section = cls.__doc__.split("Parameters\n    ----------\n", 1)[1]
    section = re.split(r"\n    \w[\w ]*\n    -+\n", section, maxsplit=1)[0]
    return {name: ast.literal_eval(value) for name, value in
            re.findall(r"^    (\w+) : .*, default=(.+)$", section, re.MULTILINE)}


@pytest.mark.parametrize("estimator", [*ENCODERS, LatentImputer],
                         ids=lambda cls: cls.__name__)
def test_docstring_defaults_equal_get_params(estimator):
    assert docstring_defaults(estimator) == estimator().get_params()
