"""Tables of the benchmark results, read from ``docs/results/*.json``.

The numbers on the results page are read from the JSON files the benchmark
scripts write, each time the documentation is built, so the page cannot
drift from them. Two directives:

``.. benchmark-results:: NAME``
    The tables of ``docs/results/NAME.json`` and its figures
    (``NAME*.png``), after a line naming the script and the command that
    wrote them (options ``:script:``, default ``benchmarks/NAME.py``, and
    ``:command:``). When the file does not exist, a note says the benchmark
    has not been run yet.

``.. benchmark-other-results::``
    A section for each results file that no ``benchmark-results`` directive
    earlier on the page showed: a benchmark added since the page was written.
    Option ``:exclude:``, file-name patterns (``fnmatch``, separated by
    spaces) of results that other pages show.

Smoke runs (``*_quick.json``, ``*_quick*.png``) are never shown. Tables are
laid out generically from the JSON's shape (plain values, lists of records,
mappings), with readable names for the columns the page knows about; a key
it does not know is shown under its own name.
"""

from __future__ import annotations

import ast
import json
import math
import re
from fnmatch import fnmatch
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

_RESULTS = Path("docs") / "results"

# Titles of the tables, by (results file, key); others are the key in words.
_TITLES = {
    ("digits", "knn_accuracy"): "5-NN accuracy, 5-fold cross-validation on raw digits",
    ("digits", "fit_1437_rows"): "One default MIMEncoder fit on 1,437 rows",
    ("digits", "grid_search"): "GridSearchCV over n_components in [2, 5, 10], "
                               "cv=3, n_jobs=2",
    ("ksg", "scaling"): "Seconds and accuracy against the closed form",
    ("ksg", "side_by_side"): "Sorted-array counts beside k-d tree counts",
    ("mae", "splitting_the_normal"): "Splitting the normal: mutual information of "
                                     "the decoding distribution",
    ("mae", "categorical"): "Uniform categorical data: growing targets",
    ("speed", "side_by_side"): "mim_sklearn beside bare PyTorch loops",
    ("speed", "scaling"): "One MIM training epoch, growing rows",
    ("speed_compile", "torch_compile"): "The bare loop on 10,000 rows, eager and "
                                        "through torch.compile",
    ("speed", "peak_rss_mb"): "Peak resident memory of one-epoch fits on 60,000 "
                              "MNIST rows, stage by stage",
    ("paper_images_mnist", "results"): "Binarized MNIST test set",
    ("paper_images_mnist", "settings"): "Estimator settings",
    ("paper_images_fashion", "results"): "Binarized Fashion-MNIST test set",
    ("paper_images_fashion", "settings"): "Estimator settings",
    ("paper_fashion_pca", "beside_paper"): "Test-set measures beside the paper's Fig. 3 "
                                           "(mean ± s.d. over seeds)",
    ("paper_fashion_pca", "summary"): "Means and standard deviations over seeds",
    ("paper_fashion_pca", "runs"): "Each fit",
    ("recipe_digits", "results"): "Pipeline([encoder(10), KNN(5)]), 5-fold, raw digits",
    ("recipe_mnist", "results"): "Binarized MNIST, 10,000 training images, MLP, "
                                 "at most 20 epochs",
    ("recipe_mnist_conv", "results"): "Binarized MNIST, 10,000 training images, "
                                      "conv, at most 30 epochs",
    ("recipe_fashion_conv", "results"): "Binarized Fashion-MNIST, 10,000 training "
                                        "images, conv, at most 30 epochs",
}

# The two mixture experiments' tables (paper_mixture_2d, paper_mixture_20d).
_MIXTURE_TITLES = {
    "mutual_information": "KSG I(x; z), k = 5 (nats), test rows",
    "test_nll": "Test NLL (nats a row), K = 1000; paper: a one-draw bound, "
                "another quantity",
    "reconstruction_rmse": "Reconstruction RMSE of the posterior mean; paper: "
                           "distance to a decoder draw, another quantity",
    "knn5_accuracy": "5-NN accuracy of the component, posterior means",
    "knn5_accuracy_draws": "5-NN accuracy of the component, one posterior draw "
                           "per row (the paper's measure)",
    "per_seed": "Each fit",
}
_TITLES.update({(name, key): title for name in ("paper_mixture_2d", "paper_mixture_20d")
                for key, title in _MIXTURE_TITLES.items()})

# Column names, by (results file, key) or by key alone.
_LABELS = {
    "n_components": "n_components",
    "mim": "MIMEncoder",
    "pca": "PCA",
    "seed": "random_state",
    "seconds": "seconds",
    "epochs": "epochs",
    "best_params": "best parameters",
    "best_score": "best mean accuracy",
    "rows": "rows",
    "estimate": "estimate (nats)",
    "closed_form": "closed form (nats)",
    "error": "error (nats)",
    "case": "case",
    "ratio": "ratio",
    "same_value": "same estimate",
    ("ksg", "ours_s"): "sorted arrays (s)",
    ("ksg", "tree_counts_s"): "k-d tree counts (s)",
    ("speed", "ours_s"): "mim_sklearn (s)",
    ("speed", "baseline_s"): "bare PyTorch (s)",
    ("speed", "seconds"): "seconds per epoch",
    "us_per_row": "µs per row",
    "model": "model",
    "ksg_mean": "KSG I(x; z), mean",
    "ksg_std": "KSG, s.d. over seeds",
    "bound_mean": "trained bound, mean",
    "heldout_loglik": "held-out log-likelihood",
    "fit_s": "fit (s)",
    "score_s": "score (s)",
    ("mae", "target"): "target M",
    "target": "target",
    "default_n_components": "default n_components",
    "numpy": "NumPy",
    "scipy": "SciPy",
    "scikit_learn": "scikit-learn",
    "torch": "PyTorch",
    "threads": "torch threads",
    "cores": "CPU cores",
    "rho": "correlation rho",
    "n_neighbors": "k (neighbours)",
    "dimensions": "dimensions of x + z",
    "repeats": "timed repeats",
    "train_rows": "training images",
    "test_rows_knn": "test images (5-NN)",
    "test_rows_scored": "test images scored",
    "seeds": "random_state values",
    "bound": "trained bound",
    ("mae", "ksg"): "KSG I(x; z)",
    "mean_entropy": "mean entropy of p(x|z)",
    "estimator": "estimator",
    "prior": "prior",
    "knn5_test_accuracy": "5-NN test accuracy",
    "knn5_test_accuracy_draws": "5-NN test accuracy, one draw",
    "test_log_likelihood": "test log-likelihood",
    "train_s": "training (s)",
    "peak_anon_mb": "peak anonymous memory (MB)",
    ("out_of_core", "peak_rss_mb"): "peak resident memory (MB)",
    "stage": "stage",
    "peak_mb": "peak resident (MB)",
    "added_mb": "added by the stage (MB)",
    "added_per_data": "added / float32 data",
    "hidden_units": "hidden units",
    "latent_dims": "latent dimensions",
    "seeds_run": "seeds run",
    "mean": "ours, mean",
    "std": "ours, s.d.",
    "paper": "paper (read off its figure)",
    "mutual_information": "KSG I(x; z)",
    "test_nll": "test NLL",
    "reconstruction_rmse": "reconstruction RMSE",
    "knn5_accuracy": "5-NN acc. (means)",
    "knn5_accuracy_draws": "5-NN acc. (draws)",
    "knn5_accuracy_means": "5-NN acc. (means)",
    "knn5_accuracy_sd_over_folds": "s.d. over folds",
    "configuration": "configuration",
    "changes": "changed from the defaults",
    "fit_seconds": "fit (s)",
    "seconds_per_epoch": "s per epoch",
    "fits_reaching_max_iter": "fits reaching max_iter",
    "wall_s": "wall time (s)",
    "test_rows": "test rows",
    "scored_rows": "test rows scored (NLL)",
    "max_iter": "max epochs",
    "image_shape": "image shape",
    "n_prior_components": "prior components",
    "learning_rate_init": "learning rate",
    "n_iter_no_change": "patience (epochs)",
    "warmup_epochs": "warm-up epochs",
    "paper_source": "paper's values",
    ("paper_fashion_pca", "n_components"): "latent dimension",
    ("paper_fashion_pca", "test_rows"): "test images",
    "n_seeds": "seeds",
    "objective": "objective",
    "eager_epoch_s": "eager epoch (s)",
    "compiled_first_epoch_s": "compiled, 1st epoch with compiling (s)",
    "compiled_epoch_s": "compiled, later epochs (s)",
    "mi_ksg": "KSG I(x; z) (nats)",
    "mi_ksg_paper": "paper",
    "nll_one_draw_paper": "paper",
    "recon_distance_paper": "paper",
    "knn5_sampled_paper": "paper",
    "nll_one_draw": "test NLL, one draw (nats)",
    "nll": "test NLL, K = 1000 (nats)",
    "recon_distance": "mean distance to reconstruction",
    "rmse": "reconstruction RMSE",
    "knn5_sampled": "5-NN accuracy, sampled codes",
    "knn5": "5-NN accuracy, posterior means",
    "pca_components": "principal components",
    "pca_variance_kept": "variance kept by PCA",
    "validation_fraction": "validation fraction",
    "latent_sizes": "latent dimensions run",
    ("paper_mixture_2d", "seeds"): "seeds planned",
    ("paper_mixture_20d", "seeds"): "seeds planned",
}


# ------------------------------------------------------------------ reading


def _load(path: Path):
    # The scripts write json.dumps' output, which may hold NaN.
    return json.loads(path.read_text())


def _reshape(name: str, data):
    """Gather digits' ``knn_accuracy_<n>`` entries into one table."""
    if name != "digits" or not isinstance(data, dict):
        return data
    out, rows = {}, []
    for key, value in data.items():
        match = re.fullmatch(r"knn_accuracy_(\d+)", key)
        if match and isinstance(value, dict):
            rows.append({"n_components": int(match[1]), **value})
        else:
            out[key] = value
    if rows:
        out = {"knn_accuracy": rows, **out}
    return out


def _script_summary(path: Path) -> str | None:
    """The first paragraph of a script's docstring, on one line."""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text()))
    except (OSError, SyntaxError):
        return None
    if not doc:
        return None
    return " ".join(doc.split("\n\n")[0].split())


# --------------------------------------------------------------- formatting


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(_is_scalar(v) for v in value.values()):
        return ", ".join(f"{k} = {_cell(v)}" for k, v in value.items())
    if isinstance(value, list) and all(_is_scalar(v) for v in value):
        return ", ".join(_cell(v) for v in value)
    return json.dumps(value)


def _label(name: str, key: str) -> str:
    return _LABELS.get((name, key), _LABELS.get(key, key.replace("_", " ")))


def _title(name: str, key: str) -> str:
    return _TITLES.get((name, key), key.replace("_", " ").capitalize())


def _table(title: str | None, header: list[str], rows: list[list[str]],
           numeric: list[bool]) -> nodes.table:
    """A docutils table; numeric columns are right-aligned."""
    table = nodes.table(classes=["benchmark-table"])
    if title:
        table += nodes.title(text=title)
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)

    def row_node(cells, head=False):
        row = nodes.row()
        for i, text in enumerate(cells):
            entry = nodes.entry(classes=["numeric"] if numeric[i] and not head else [])
            entry += nodes.paragraph(text=text)
            row += entry
        return row

    thead = nodes.thead()
    thead += row_node(header, head=True)
    group += thead
    body = nodes.tbody()
    for cells in rows:
        body += row_node(cells)
    group += body
    return table


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool)
               for v in values if v is not None)


def _records_table(name: str, key: str, records: list[dict]) -> nodes.table:
    columns: list[str] = []
    for record in records:
        columns += [c for c in record if c not in columns]
    rows = [[_cell(r.get(c)) for c in columns] for r in records]
    numeric = [_numeric([r.get(c) for r in records]) for c in columns]
    return _table(_title(name, key), [_label(name, c) for c in columns], rows, numeric)


def _mapping_table(name: str, key: str | None, mapping: dict,
                   title: str | None = None) -> nodes.table:
    if mapping and all(isinstance(v, dict) for v in mapping.values()):  # a record per key
        records = [{"": k, **v} for k, v in mapping.items()]
        table = _records_table(name, key or "", records)
        return table
    rows = [[_label(name, k), _cell(v)] for k, v in mapping.items()]
    numeric = [False, _numeric(list(mapping.values()))]
    return _table(title or _title(name, key or ""), ["", "value"], rows, numeric)


def result_tables(name: str, data) -> list[nodes.Node]:
    """Tables of one results file, laid out from the JSON's shape."""
    data = _reshape(name, data)
    if not isinstance(data, dict):
        return [nodes.literal_block(text=json.dumps(data, indent=2))]
    out: list[nodes.Node] = []
    plain = {k: v for k, v in data.items()
             if _is_scalar(v) or (isinstance(v, list) and all(map(_is_scalar, v)))}
    if plain:
        out.append(_mapping_table(name, None, plain, title="Setup"))
    for key, value in data.items():
        if key in plain:
            continue
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            out.append(_records_table(name, key, value))
        elif isinstance(value, dict):
            out.append(_mapping_table(name, key, value))
        else:
            out.append(_table(_title(name, key), ["value"], [[_cell(value)]], [False]))
    return out


# --------------------------------------------------------------- directives


class _ResultsBase(SphinxDirective):
    def _repo(self) -> Path:
        return Path(self.env.srcdir).parent

    def _shown(self) -> set[str]:
        return self.env.temp_data.setdefault("benchmark_results_shown", set())

    def _figures(self, name: str) -> list[nodes.Node]:
        """Figures ``NAME*.png`` of the results folder, captioned by file name."""
        pngs = sorted(p for p in (self._repo() / _RESULTS).glob(f"{name}*.png")
                      if "_quick" not in p.stem)
        figures = []
        for png in pngs:
            self.env.note_dependency(str(png))
            path = f"{_RESULTS.as_posix()}/{png.name}"
            figure = nodes.figure(classes=["benchmark-figure"])
            # A leading "/" is the documentation's folder; Sphinx copies the file.
            figure += nodes.image(uri=f"/../{path}", alt=path)
            caption = nodes.caption()
            caption += nodes.literal(text=path)
            figure += caption
            figures.append(figure)
        return figures

    def _render(self, name: str, source: nodes.paragraph) -> list[nodes.Node]:
        """The line saying where the numbers come from, tables, figures."""
        self._shown().add(name)
        path = self._repo() / _RESULTS / f"{name}.json"
        self.env.note_dependency(str(path))
        if not path.is_file():
            note = nodes.note()
            note += nodes.paragraph(
                text=f"Not run yet: there is no {_RESULTS.as_posix()}/{name}.json "
                     "in this build's copy of the repository.")
            return [source, note]
        try:
            data = _load(path)
        except (OSError, ValueError) as exc:
            note = nodes.warning()
            note += nodes.paragraph(text=f"{path.name} could not be read: {exc}")
            return [source, note]
        return [source, *result_tables(name, data), *self._figures(name)]


def _produced_by(name: str, script: str | None, command: str | None) -> nodes.paragraph:
    results = f"{_RESULTS.as_posix()}/{name}.json"
    line = nodes.paragraph(classes=["benchmark-source"])
    if script is None:
        line += nodes.Text("Numbers from ")
        line += nodes.literal(text=results)
        line += nodes.Text(".")
        return line
    line += nodes.Text("Produced by ")
    line += nodes.literal(text=script)
    line += nodes.Text(": run ")
    line += nodes.literal(text=command)
    line += nodes.Text(" from the repository's root; it writes ")
    line += nodes.literal(text=results)
    line += nodes.Text(".")
    return line


class BenchmarkResults(_ResultsBase):
    """``.. benchmark-results:: NAME``: one results file as tables."""

    required_arguments = 1
    option_spec = {"script": directives.unchanged, "command": directives.unchanged}

    def run(self):
        name = self.arguments[0]
        script = self.options.get("script", f"benchmarks/{name}.py")
        command = self.options.get("command", f".venv/bin/python {script}")
        return self._render(name, _produced_by(name, script, command))


class OtherBenchmarkResults(_ResultsBase):
    """``.. benchmark-other-results::``: files no directive above showed."""

    option_spec = {"exclude": directives.unchanged}

    def run(self):
        excluded = self.options.get("exclude", "").split()
        results = self._repo() / _RESULTS
        self.env.note_dependency(str(results))
        out = []
        for path in sorted(results.glob("*.json")):
            name = path.stem
            if (name.endswith("_quick") or name in self._shown()
                    or any(fnmatch(name, pattern) for pattern in excluded)):
                continue
            section = nodes.section(ids=[f"results-{name.replace('_', '-')}"])
            section += nodes.title(text=name.replace("_", " ").capitalize())
            script = f"benchmarks/{name}.py"
            summary = _script_summary(self._repo() / script)
            if summary is None:
                section += self._render(name, _produced_by(name, None, None))
            else:
                section += nodes.paragraph(text=summary)
                section += self._render(
                    name, _produced_by(name, script, f".venv/bin/python {script}"))
            out.append(section)
        return out


def setup(app):
    app.add_directive("benchmark-results", BenchmarkResults)
    app.add_directive("benchmark-other-results", OtherBenchmarkResults)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
