"""The homework manifest: assignment titles, problem points and time limits.

Problems themselves are not listed here: they are discovered from the
``### BEGIN SOLUTION hw<n>.<name>`` markers in the source tree (see markers.py). This file
only says what each assignment is called and where a problem is worth more (or needs more
time) than the defaults. A problem missing from POINTS is worth DEFAULT_POINTS. How a problem
is graded is its probe, homework/probes/<assignment>_<problem>.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_POINTS = 10
DEFAULT_TIMEOUT_S = 60.0            # wall clock for all cases of one problem's probe
DEFAULT_MEMORY_LIMIT = 4 * 2**30    # address space of each sandbox process


@dataclass(frozen=True)
class Manifest:
    titles: dict                                  # "hw1" -> title
    points: dict = field(default_factory=dict)    # "hw2.bptt" -> points
    timeouts: dict = field(default_factory=dict)  # "hw4.train" -> seconds
    # Assignments whose tests may use the code of earlier assignments (a capstone that
    # trains a whole model): released alone, the earlier ones keep their solutions.
    builds_on_earlier: frozenset = frozenset()
    default_points: float = DEFAULT_POINTS
    default_timeout: float = DEFAULT_TIMEOUT_S

    def title(self, assignment: str) -> str:
        return self.titles.get(assignment, assignment)

    def points_for(self, task_id: str) -> float:
        return self.points.get(task_id, self.default_points)

    def timeout_for(self, task_id: str) -> float:
        return self.timeouts.get(task_id, self.default_timeout)


MINIGRAD = Manifest(
    titles={
        "hw1": "Autograd: the backward of each basic op, and the Adam update",
        "hw2": "Recurrent networks: RNN, LSTM and GRU step backwards and BPTT",
        "hw3": "Attention: scaled dot-product, multi-head attention and LayerNorm backwards",
        "hw4": "Training a Transformer on a toy task to a given accuracy",
        "hw5": "Linear recurrences: the scan and its backward",
    },
    points={},
    # hw4.train_copy's probe trains a small Transformer for a few steps (about 1 s alone), its
    # reference run beside it; room for a loaded or slow grading machine.
    timeouts={"hw4.train_copy": 120.0},
    builds_on_earlier=frozenset({"hw4"}),
)
