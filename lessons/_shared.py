"""What every lesson calls at its top: options, output folder, seeding, plots, progress, tables.

A lesson starts with::

    from lessons._shared import setup, progress, markdown_table
    opts = setup("04")          # parses --quick --out --device --seed, makes the output folder
    plt = opts.pyplot()          # matplotlib, Agg backend outside notebooks
    ...
    opts.savefig(fig, "gradient_norms")      # -> <root>/04_vanishing_exploding/gradient_norms.png
    opts.save_json("results", {...})          # -> .../results.json, what the answer lesson (14) reads back

Output layout: ``<root>/<NN_topic>/``, where ``<root>`` is ``--out`` (or ``MINIGRAD_LESSON_OUT``,
default ``./lesson_output``). Lesson 14 finds the other lessons' results under the same root
with ``opts.load_results("04")``.

Options come from the command line (the ``-f kernel.json`` that Jupyter passes is ignored; any
other unknown word is an error naming it), from a notebook's ``parameters`` cell
(``setup("07", quick=QUICK)``), and from environment variables (the command line wins):
``MINIGRAD_LESSON_QUICK=1``, ``MINIGRAD_LESSON_OUT=DIR``, ``MINIGRAD_LESSON_SEED=N`` and
``MINIGRAD_DEVICE=cpu|cuda`` (the engine's own default-device variable).

numpy is imported here by name: the random generator a lesson gets (``opts.rng``) drives the
host-side data generators in ``lessons.tasks``.
"""

import argparse
import ast
import dataclasses
import importlib.util
import json
import os
import random
import re
import sys
from pathlib import Path

import numpy as np

LESSONS_DIR = Path(__file__).resolve().parent
DEFAULT_OUT_ROOT = Path("lesson_output")
EXTRAS_MESSAGE = "lessons need the 'lessons' extra: pip install -e '.[lessons]'"
EXTRAS_EXIT_CODE = 2
EXTRAS = ("matplotlib", "tqdm", "babel")   # the 'lessons' extra in setup.cfg
LESSON_FILE_GLOB = "[0-9][0-9]_*.py"


# ----------------------------------------------------------------------------- lesson files

def lesson_number(lesson_id):
    """'04' from 4, '4', '04' or '04_vanishing_exploding'; ValueError otherwise."""
    match = re.fullmatch(r"(\d{1,2})(_\w*)?", str(lesson_id).strip())
    if match is None:
        raise ValueError(f"lesson id: expected a number such as 4 or '04', got {lesson_id!r}")
    return f"{int(match.group(1)):02d}"


def lesson_files(lessons_dir=LESSONS_DIR):
    """The lesson scripts ``NN_topic.py`` in ``lessons_dir``, sorted by name (so by number)."""
    return sorted(Path(lessons_dir).glob(LESSON_FILE_GLOB))


def lesson_summary(path):
    """One line describing a lesson file.

    Convention: the first markdown cell starts with a title line ``# # Lesson 4: Vanishing and
    exploding gradients``; the summary is the text after the colon (the whole title if it has
    none). A file without a markdown title falls back to the first line of its module docstring.
    """
    text = Path(path).read_text(encoding="utf-8")
    in_markdown = False
    for line in text.splitlines():
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
        elif in_markdown and re.match(r"#\s*#+\s", line):
            title = re.sub(r"^#\s*#+\s*", "", line).strip()
            return title.split(":", 1)[1].strip() if ":" in title else title
    try:
        docstring = ast.get_docstring(ast.parse(text))
    except SyntaxError:
        docstring = None
    return docstring.strip().splitlines()[0] if docstring else "(no summary)"


def _lesson_stem(number, argv0, lessons_dir=LESSONS_DIR):
    """'04_vanishing_exploding' for number '04': from the running script, else the lessons folder."""
    script = Path(argv0 or "")
    if script.name.startswith(number + "_") and script.suffix == ".py":
        return script.stem           # run as a script or through the CLI (sys.argv[0] is the file)
    found = [p for p in lesson_files(lessons_dir) if p.name.startswith(number + "_")]
    return found[0].stem if found else f"{number}_lesson"   # inside Jupyter argv[0] is the kernel


# ----------------------------------------------------------------------------- options

def add_lesson_arguments(parser):
    """The options every lesson takes; shared by ``setup`` and the CLI so both read the same."""
    parser.add_argument("--quick", action="store_true", default=None,
                        help="small sizes and few steps: a smoke run in seconds (tests use it)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help=f"output root; each lesson writes to DIR/NN_topic/ (default {DEFAULT_OUT_ROOT}/)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None,
                        help="where minigrad computes (default: $MINIGRAD_DEVICE or cpu)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    return parser


def forwarded_arguments(args):
    """Turn parsed lesson options back into argv words, for the CLI to hand to a lesson."""
    words = ["--quick"] if args.quick else []
    for name in ("out", "device", "seed"):
        value = getattr(args, name)
        if value is not None:
            words += [f"--{name}", str(value)]
    return words


@dataclasses.dataclass
class LessonOptions:
    """What ``setup`` hands a lesson. ``out`` is this lesson's folder, ``root`` the one above it."""

    lesson_id: str          # "04"
    name: str               # "04_vanishing_exploding"
    title: str
    quick: bool
    root: Path
    out: Path
    device: str
    seed: int
    rng: np.random.Generator

    def pyplot(self):
        """matplotlib.pyplot, on the Agg backend unless inside a notebook."""
        return pyplot()

    def savefig(self, fig, name):
        """Save ``fig`` as ``<out>/<name>.png``, print where, return the path."""
        path = self.out / _with_suffix(name, ".png")
        fig.savefig(path, dpi=120, bbox_inches="tight")
        if not _in_notebook():       # a notebook shows the open figure below the cell; a script frees it
            pyplot().close(fig)
        print(f"wrote {path}")
        return path

    @property
    def mode(self):
        """"quick" or "full": what every lesson's results.json records."""
        return "quick" if self.quick else "full"

    def save_json(self, name, obj, quiet=False):
        """Write ``obj`` as ``<out>/<name>.json`` (numpy scalars and arrays become lists/numbers).

        A ``results`` file always records the run's ``mode`` and ``seed`` (added when the
        lesson did not). The file is written whole, then renamed over the old one, so a
        lesson that rewrites it as it goes never leaves half a file. ``quiet`` skips the
        "wrote ..." line.
        """
        path = self.out / _with_suffix(name, ".json")
        if Path(str(name)).stem == "results" and isinstance(obj, dict):
            obj = {"mode": self.mode, "seed": self.seed, **obj}
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(obj, indent=2, default=_to_json) + "\n", encoding="utf-8")
        os.replace(partial, path)
        if not quiet:
            print(f"wrote {path}")
        return path

    def save_text(self, name, text):
        """Write ``text`` as ``<out>/<name>`` (``.txt`` added when the name has no suffix)."""
        path = self.out / _with_suffix(name, ".txt")
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        print(f"wrote {path}")
        return path

    def results_path(self, lesson_id, name="results.json"):
        """Where lesson ``lesson_id`` writes ``name`` under this run's output root."""
        number = lesson_number(lesson_id)
        # Prefer the folder that run actually made; else the name its lesson file implies.
        made = sorted(p for p in self.root.glob(number + "_*") if p.is_dir())
        folder = made[0] if made else self.root / _lesson_stem(number, None)
        return folder / _with_suffix(name, ".json")

    def find_results(self, slug, name="results.json"):
        """(lesson number, results) of the lesson whose folder is ``NN_<slug>`` under this
        run's root, found by its name rather than its number (lessons get renumbered);
        FileNotFoundError when no such folder holds ``name``."""
        found = sorted(p for p in self.root.glob(f"[0-9][0-9]_{slug}") if p.is_dir())
        path = found[-1] / _with_suffix(name, ".json") if found else None
        if path is None or not path.is_file():
            raise FileNotFoundError(f"find_results: no {self.root}/NN_{slug}/{name}")
        return int(found[-1].name[:2]), json.loads(path.read_text(encoding="utf-8"))

    def load_results(self, lesson_id, name="results.json"):
        """The JSON another lesson saved with ``save_json``; a clear error if it has not run."""
        path = self.results_path(lesson_id, name)
        if not path.is_file():
            raise FileNotFoundError(
                f"load_results: no {path} (lesson {lesson_number(lesson_id)} has not written it); "
                f"run `python -m lessons {int(lesson_number(lesson_id))} --out {self.root}` first")
        return json.loads(path.read_text(encoding="utf-8"))


def setup(lesson_id, title=None, argv=None, quick=None):
    """Parse options, check the extras, seed everything, make the output folder.

    Inputs: lesson_id like "04"; title (default: the lesson file's summary line);
    argv (default ``sys.argv[1:]``); quick: the notebook's ``parameters`` cell (True or
    False wins; None leaves it to ``--quick``, then ``MINIGRAD_LESSON_QUICK``).
    Inside a notebook the kernel's own words (``-f kernel.json``) are ignored; run as a
    script, an unknown option is an error that names it (``--qiuck`` must not quietly
    run the hours-long full mode).
    Returns: LessonOptions.
    """
    require_extras()
    number = lesson_number(lesson_id)
    parser = add_lesson_arguments(argparse.ArgumentParser(description=title))
    words = sys.argv[1:] if argv is None else argv
    parser.add_argument("-f", dest="kernel_file", help=argparse.SUPPRESS)   # Jupyter's kernel
    args, unknown = parser.parse_known_args(words)
    if unknown and not _in_notebook():
        parser.error(f"unknown option {' '.join(unknown)} (expected --quick, --out DIR, "
                     "--device cpu|cuda, --seed N)")

    env = os.environ
    if quick is None:
        quick = bool(args.quick) or env.get("MINIGRAD_LESSON_QUICK", "").lower() in ("1", "true", "yes")
    root = Path(args.out if args.out is not None else env.get("MINIGRAD_LESSON_OUT") or DEFAULT_OUT_ROOT)
    device = args.device or env.get("MINIGRAD_DEVICE") or "cpu"
    seed = args.seed if args.seed is not None else int(env.get("MINIGRAD_LESSON_SEED", "0"))

    script = sys.argv[0] if sys.argv else None
    name = _lesson_stem(number, script)
    if title is None:
        path = Path(script) if script and Path(script).stem == name else LESSONS_DIR / f"{name}.py"
        title = lesson_summary(path) if path.is_file() else name
    out = root / name
    out.mkdir(parents=True, exist_ok=True)
    if args.device is not None:      # MINIGRAD_DEVICE alone needs nothing: the engine reads it
        _set_engine_device(args.device)
    rng = set_seed(seed)
    mode = "quick" if quick else "full"
    print(f"Lesson {number}: {title} [{mode} run, device {device}, seed {seed}, output {out}]")
    return LessonOptions(number, name, title, quick, root, out, device, seed, rng)


def _set_engine_device(device):
    """Make ``device`` minigrad's default, so tensors a lesson creates land there."""
    if importlib.util.find_spec("minigrad") is None:
        return
    import minigrad.backend
    set_default = getattr(minigrad.backend, "set_default_device", None)
    if set_default is not None:
        set_default(device)


def set_seed(seed):
    """Seed Python's ``random`` and minigrad (``minigrad.manual_seed``, when it exists).

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``: pass it to the data
    generators, so that data and weights repeat run after run.
    """
    random.seed(seed)
    if importlib.util.find_spec("minigrad") is not None:
        import minigrad
        manual_seed = getattr(minigrad, "manual_seed", None)
        if manual_seed is not None:
            manual_seed(seed)
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- extras

def require_extras():
    """Exit with code 2 and one line naming the fix when matplotlib, tqdm or babel is missing."""
    try:
        for name in EXTRAS:
            importlib.import_module(name)
    except ImportError as err:
        # name what failed: a package that is installed but fails to import is another story
        print(f"{EXTRAS_MESSAGE} ({type(err).__name__}: {err})", file=sys.stderr)
        raise SystemExit(EXTRAS_EXIT_CODE) from None


def _in_notebook():
    return "ipykernel" in sys.modules


def pyplot():
    """matplotlib.pyplot, imported on first use; Agg (files only) unless inside a notebook."""
    require_extras()
    import matplotlib
    if not _in_notebook():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def progress(iterable=None, total=None, desc=None, **kwargs):
    """A tqdm bar over ``iterable``; call ``bar.set_postfix(loss=...)`` inside the loop.

    In a terminal the bar redraws at most once a second. Anywhere else (a log file, a CI job,
    a notebook) every redraw is a new line or a new output, so it draws at most once every
    ``MINIGRAD_PROGRESS_SECONDS`` (default 30) seconds, plus its final state.
    """
    require_extras()
    from tqdm import tqdm
    stream = kwargs.get("file") or sys.stderr
    terminal = hasattr(stream, "isatty") and stream.isatty() and not _in_notebook()
    quiet_seconds = float(os.environ.get("MINIGRAD_PROGRESS_SECONDS", "30"))
    kwargs.setdefault("mininterval", 1.0 if terminal else quiet_seconds)
    kwargs.setdefault("maxinterval", max(kwargs["mininterval"], 10.0))
    if terminal:
        kwargs.setdefault("dynamic_ncols", True)
        return tqdm(iterable, total=total, desc=desc, **kwargs)
    kwargs.setdefault("ncols", 100)
    return _sparse_bar(tqdm)(iterable, total=total, desc=desc, **kwargs)


def _sparse_bar(tqdm):
    """tqdm whose set_postfix / set_description never force a redraw (each forced redraw is a
    line in a log): the next timed draw shows them."""
    class SparseBar(tqdm):
        def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
            super().set_postfix(ordered_dict, refresh=False, **kwargs)

        def set_description(self, desc=None, refresh=True):
            super().set_description(desc, refresh=False)

    return SparseBar


# ----------------------------------------------------------------------------- tables and files

def markdown_table(headers, rows, float_format="{:.4g}"):
    """A GitHub-markdown table as a string: print it, or save it into a report.

    Floats go through ``float_format``; columns are padded so the text lines up in a terminal.
    """
    def cell(value):
        is_float = isinstance(value, (float, np.floating))
        text = float_format.format(value) if is_float else str(value)
        return text.replace("|", "\\|")

    table = [[cell(h) for h in headers]] + [[cell(v) for v in row] for row in rows]
    for row_index, row in enumerate(table):
        if len(row) != len(headers):
            raise ValueError(f"markdown_table: row {row_index - 1} has {len(row)} cells, "
                             f"expected {len(headers)} (one per header)")
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["| " + " | ".join(text.ljust(w) for text, w in zip(row, widths)) + " |" for row in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _with_suffix(name, suffix):
    return str(name) if Path(str(name)).suffix else f"{name}{suffix}"


def _to_json(value):
    """json.dumps fallback: numpy scalars, arrays (and tensors with .tolist), paths."""
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"save_json: cannot write a {type(value).__name__} as JSON")
