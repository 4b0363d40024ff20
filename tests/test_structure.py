"""The package's layout rules (see docs/contributing.md, "Where the code lives").

Read from the source, as a reviewer would: which module imports which, and
what it takes from it. Nothing is imported or run.
"""

import ast
import inspect
import re
from pathlib import Path

import pytest

import mim_sklearn
from mim_sklearn import AMIMEncoder, MAEEncoder, MIMEncoder, VAEEncoder

# The class whose __init__ holds the parameters every estimator shares.
BaseLatentEncoder = next(cls for cls in MIMEncoder.__mro__ if "__init__" in vars(cls))

PACKAGE = Path(mim_sklearn.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
# Lines of code a module may hold, docstrings and comments excepted.
MAX_CODE_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports(path: Path) -> list[tuple[str, list[str]]]:
    """Each import of a package module in ``path``: (module, names taken)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "mim_sklearn":
                found.append((target, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names
                      if alias.name.split(".")[0] == "mim_sklearn"]
    return found


def resolve(target: str, names: list[str]) -> list[str]:
    """The modules an import reads: a submodule named in ``names`` counts."""
    modules = {module_name(path) for path in MODULES}
    submodules = [f"{target}.{name}" for name in names if f"{target}.{name}" in modules]
    return submodules or [target]


def test_no_module_imports_a_private_name_of_another():
    reaches = [
        f"{module_name(path)} takes {name} from {target}"
        for path in MODULES if path.name != "__init__.py"
        for target, names in package_imports(path)
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert reaches == []


def test_the_modules_import_each_other_without_a_circle():
    graph = {
        module_name(path): {
            module for target, names in package_imports(path)
            for module in resolve(target, names) if module != module_name(path)
        }
        for path in MODULES
    }
    # A package's __init__ hands names on; a loop through it is still a loop.
    visiting, done, circles = [], set(), []

    def visit(module):
        if module in visiting:
            circles.append(visiting[visiting.index(module):] + [module])
            return
        if module in done or module not in graph:
            return
        visiting.append(module)
        for imported in sorted(graph[module]):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    assert circles == []


def code_lines(path: Path) -> int:
    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and ast.get_docstring(node):
            first = node.body[0]
            docstrings.update(range(first.lineno, first.end_lineno + 1))
    return sum(
        1 for number, line in enumerate(source.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#")
        and number not in docstrings
    )


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_a_module_holds_at_most_600_lines_of_code(path):
    assert code_lines(path) <= MAX_CODE_LINES


def test_the_base_is_the_estimators_shared_class():
    assert BaseLatentEncoder.__name__ == "BaseLatentEncoder"
    assert all(issubclass(cls, BaseLatentEncoder)
               for cls in (MIMEncoder, AMIMEncoder, VAEEncoder, MAEEncoder))


@pytest.mark.parametrize("estimator_class", [MIMEncoder, AMIMEncoder, VAEEncoder])
def test_every_estimator_takes_exactly_the_base_parameters(estimator_class):
    base = inspect.signature(BaseLatentEncoder.__init__).parameters
    own = inspect.signature(estimator_class.__init__).parameters
    assert [(p.name, p.kind, p.default) for p in own.values()] == [
        (p.name, p.kind, p.default) for p in base.values()
    ]


def test_the_mutual_autoencoder_restates_the_base_parameters_and_adds_its_own():
    base = inspect.signature(BaseLatentEncoder.__init__).parameters
    own = dict(inspect.signature(MAEEncoder.__init__).parameters)
    # Its own defaults differ where the docstring says so (tanh networks).
    extra = {"target_mutual_info", "mi_penalty"}
    assert set(own) == set(base) | extra
    assert [name for name in own if name not in extra] == list(base)
    differing = {name for name in base
                 if own[name].default != base[name].default}
    assert differing == {"activation"}
    assert own["activation"].default == "tanh"


def test_the_mutual_autoencoder_passes_every_base_parameter_on():
    names = [name for name in inspect.signature(BaseLatentEncoder.__init__).parameters
             if name != "self"]
    given = {name: object() for name in names}  # distinct, stored as given
    params = MAEEncoder(**given).get_params(deep=False)
    assert [name for name in names if params[name] is not given[name]] == []


def code_map(page: Path) -> str:
    """The "Where the code lives" section of a page."""
    text = page.read_text()
    start = text.index("## Where the code lives")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def parents(module: str) -> list[str]:
    """The folders a module lies in, as a map may name them: "nn/likelihoods/"
    for "nn/likelihoods/base.py", and "likelihoods/" and "nn/"."""
    parts = module.split("/")[:-1]
    return [f"{'/'.join(parts[:i])}/" for i in range(1, len(parts) + 1)] + [
        f"{part}/" for part in parts
    ]


@pytest.mark.parametrize("page", ["README.md", "docs/contributing.md"])
def test_the_code_maps_name_every_module_and_only_modules_that_exist(page):
    section = code_map(PACKAGE.parent / page)
    named = set(re.findall(r"`(?:mim_sklearn/)?([\w/]+\.py|[\w/]+/)`", section))
    named = {name for name in named if not name.startswith("tests/")}
    modules = [path.relative_to(PACKAGE).as_posix() for path in MODULES]
    # A map names a module by its path or its file name, or names its folder.
    unnamed = [
        module for module in modules
        if not {module, module.rsplit("/", 1)[-1], *parents(module)} & named
        and not module.endswith("__init__.py")
    ]
    assert unnamed == []
    known = {name for module in modules
             for name in (module, module.rsplit("/", 1)[-1], *parents(module))}
    assert sorted(named - known) == []
