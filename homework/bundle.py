"""A grading bundle: everything the grader needs, and nothing of the teacher's code.

    bundle = build(teacher_root)        # problems, probe inputs, reference outputs
    bundle.save(folder); Bundle.load(folder)

Building one runs every probe on the teacher's solution (in a separate process, like a
student's run, but trusted and without the privilege drop) and keeps what it returned as the
reference. The inputs are drawn from a fresh random seed unless one is given, so a student who
knows the grader's source still does not know the inputs. A saved bundle (``bundle.json`` and
``bundle.npz``, read with ``allow_pickle=False``) is what the Gradescope zip carries instead of
the solutions.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .assignments import MINIGRAD, Manifest
from .compare import DEFAULT_ATOL, DEFAULT_RTOL
from .probes import VISIBILITIES, load, module_name, probe_file
from .project import find_problems, normalize_assignment
from .sandbox import CallFailed, Host, Sandbox

MIN_SECRET_CHARS = 12       # solution lines shorter than this are too common to scrub from output


class BundleError(RuntimeError):
    """The bundle cannot be built: no problems, a probe missing or failing on the solution."""


@dataclass
class Case:
    name: str
    inputs: dict
    params: dict = field(default_factory=dict)
    visibility: str = "visible"
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    @classmethod
    def from_probe(cls, task_id, raw: dict) -> "Case":
        unknown = set(raw) - {"name", "inputs", "params", "visibility", "rtol", "atol"}
        if unknown or "name" not in raw or not isinstance(raw.get("inputs"), dict):
            raise BundleError(f"probe of {task_id}: a case needs name and inputs (got keys "
                              f"{sorted(raw)})")
        case = cls(**{k: v for k, v in raw.items()})
        if case.visibility not in VISIBILITIES:
            raise BundleError(f"probe of {task_id}, case {case.name!r}: visibility "
                              f"{case.visibility!r}, expected one of {VISIBILITIES}")
        case.inputs = {k: np.asarray(v) for k, v in case.inputs.items()}
        json.dumps(case.params)                 # params travel as JSON: fail early if they can't
        return case


@dataclass
class ProblemSpec:
    task_id: str
    title: str
    points: float
    timeout: float
    files: list             # the region files: a submission without one scores 0 here
    cases: list = field(default_factory=list)        # Case
    reference: list = field(default_factory=list)    # one dict of arrays per case

    @property
    def assignment(self) -> str:
        return self.task_id.split(".", 1)[0]

    @property
    def probe(self) -> str:
        return module_name(self.task_id)


@dataclass
class Bundle:
    problems: list                                   # ProblemSpec
    secrets: list = field(default_factory=list)      # solution lines, scrubbed from output
    seed: int = 0
    created: float = 0.0
    probes: dict = field(default_factory=dict)       # file name -> source of the probes package

    def save(self, folder) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays, meta = {}, []
        for p in self.problems:
            cases = []
            for i, (case, ref) in enumerate(zip(p.cases, p.reference)):
                for name, value in case.inputs.items():
                    arrays[f"{p.task_id}/{i}/in/{name}"] = value
                for name, value in ref.items():
                    arrays[f"{p.task_id}/{i}/ref/{name}"] = value
                cases.append(dict(name=case.name, params=case.params, visibility=case.visibility,
                                  rtol=case.rtol, atol=case.atol, inputs=list(case.inputs),
                                  reference=list(ref)))
            meta.append(dict(task_id=p.task_id, title=p.title, points=p.points,
                             timeout=p.timeout, files=p.files, cases=cases))
        np.savez_compressed(folder / "bundle.npz", **arrays)
        (folder / "bundle.json").write_text(json.dumps(
            {"problems": meta, "secrets": self.secrets, "seed": self.seed,
             "created": self.created, "probes": self.probes}, indent=1))

    @classmethod
    def load(cls, folder) -> "Bundle":
        folder = Path(folder)
        data = json.loads((folder / "bundle.json").read_text())
        with np.load(folder / "bundle.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        problems = []
        for p in data["problems"]:
            spec = ProblemSpec(p["task_id"], p["title"], p["points"], p["timeout"], p["files"])
            for i, c in enumerate(p["cases"]):
                inputs = {n: arrays[f"{spec.task_id}/{i}/in/{n}"] for n in c["inputs"]}
                spec.cases.append(Case(c["name"], inputs, c["params"], c["visibility"],
                                       c["rtol"], c["atol"]))
                spec.reference.append({n: arrays[f"{spec.task_id}/{i}/ref/{n}"]
                                       for n in c["reference"]})
            problems.append(spec)
        return cls(problems, data["secrets"], data["seed"], data["created"], data["probes"])

    def select(self, assignment=None, only=None) -> "Bundle":
        """The bundle cut to one assignment and/or some problems."""
        wanted = normalize_assignment(assignment)
        problems = only_these([p for p in self.problems if wanted is None or p.assignment == wanted],
                              only, "the bundle")
        return Bundle(problems, self.secrets, self.seed, self.created, self.probes)


def only_these(problems, only, where):
    """The problems whose task id is in `only` (all when it is empty); an unknown id is an error."""
    if not only:
        return problems
    unknown = sorted(set(only) - {p.task_id for p in problems})
    if unknown:
        raise BundleError(f"no problem {', '.join(unknown)} in {where} (known: "
                          f"{', '.join(p.task_id for p in problems)})")
    return [p for p in problems if p.task_id in set(only)]


def default_probes_dir(root) -> Path:
    """<root>/homework/probes when the project has one, else the kit's own (minigrad's)."""
    own = Path(root) / "homework" / "probes"
    return own if own.is_dir() else Path(__file__).resolve().parent / "probes"


def build(root, probes_dir=None, manifest: Manifest = MINIGRAD, assignment=None, only=None,
          seed=None, jobs=4) -> Bundle:
    """Problems of the teacher's tree at root, their probe cases and reference outputs."""
    root = Path(root).resolve()
    probes_dir = Path(probes_dir or default_probes_dir(root)).resolve()
    problems = only_these(find_problems(root, manifest, assignment), only, root)
    if not problems:
        which = f" of assignment {assignment}" if assignment else ""
        raise BundleError(f"no homework regions{which} in {root}: grade from the teacher's copy "
                          "with the solutions, not from a release")
    missing = [f"{p.task_id} ({probe_file(probes_dir, p.task_id)})" for p in problems
               if not probe_file(probes_dir, p.task_id).is_file()]
    if missing:
        raise BundleError("no probe for " + ", ".join(missing) + ": each problem needs a probe "
                          "file (see homework/probes/__init__.py)")
    seed = secrets.randbits(63) if seed is None else int(seed)
    specs = []
    for problem in problems:
        rng = np.random.default_rng([seed, *problem.task_id.encode()])
        cases = [Case.from_probe(problem.task_id, raw)
                 for raw in load(probes_dir, problem.task_id).cases(rng)]
        # Visible cases first: a sandbox that keeps a hidden case's inputs (in memory or in a
        # file) finds no later visible case of its problem to show them in an error message.
        cases.sort(key=lambda case: case.visibility != "visible")
        files = sorted({r.path for r in problem.regions})
        specs.append(ProblemSpec(problem.task_id, problem.title, problem.points, problem.timeout,
                                 files, cases))
    sources = {path.name: path.read_text(encoding="utf-8") for path in sorted(probes_dir.glob("*.py"))}
    bundle = Bundle(specs, _secret_lines(problems), seed, time.time(), sources)
    _compute_references(bundle, root, jobs)
    return bundle


def _secret_lines(problems) -> list:
    lines = {line.strip() for p in problems for r in p.regions for line in r.solution}
    return sorted(line for line in lines if len(line) >= MIN_SECRET_CHARS and not line.startswith("#"))


def _compute_references(bundle: Bundle, root: Path, jobs: int) -> None:
    """Run each probe on the teacher's tree (trusted: no privilege drop) and keep the values."""
    from concurrent.futures import ThreadPoolExecutor
    host = Host(bundle.probes, drop=False)
    try:
        def one(item):
            slot, spec = item
            sandbox = Sandbox(host, slot, root)
            deadline = time.monotonic() + spec.timeout
            try:
                for case in spec.cases:
                    try:
                        header, arrays = sandbox.call(spec.probe, case.name, case.params,
                                                      case.inputs, deadline)
                    except CallFailed as failure:
                        raise BundleError(f"the probe of {spec.task_id}, case {case.name!r}, gave "
                                          f"no answer on the solution: {failure.reason}\n"
                                          f"{sandbox.log_tail()}") from None
                    if not header.get("ok"):
                        raise BundleError(f"the probe of {spec.task_id}, case {case.name!r}, "
                                          f"failed on the solution: {header.get('error')} "
                                          f"{header.get('where')}")
                    spec.reference.append(arrays)
            finally:
                sandbox.close()
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, enumerate(bundle.problems)))
    finally:
        host.close()
