"""Solution regions: find them in a source file, check them, and write their stubs.

A region is a block of lines inside a function body, framed by two comment lines
(shown here with a leading ``|`` so that this docstring is not a region itself)::

    |    ### BEGIN SOLUTION hw1.tanh
    |    ### TODO: grad (any shape) -> grad_x, same shape. d tanh(x)/dx = 1 - tanh(x)^2.
    |    ### Use the saved y.
    |    (y,) = ctx.saved
    |    return grad * (1 - y * y)
    |    ### END SOLUTION

The ``### TODO:`` line (and the ``### `` lines right after it) is the hint the student keeps;
the lines after it are the solution, which the release replaces by ``make_stub(region)``::

    |    # TODO: grad (any shape) -> grad_x, same shape. d tanh(x)/dx = 1 - tanh(x)^2.
    |    #       Use the saved y.
    |    raise NotImplementedError("hw1.tanh: grad (any shape) -> ... Use the saved y.")

Only real comment lines count as markers (found with ``tokenize``), so a marker quoted inside
a string or docstring is left alone. Nothing here imports the rest of minigrad.
"""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

# hw<assignment>.<problem>: the assignment is a number, the problem a lowercase identifier.
TASK_ID = re.compile(r"hw(?P<number>[0-9]+)\.(?P<problem>[a-z][a-z0-9_]*)")

_BEGIN = re.compile(r"### BEGIN SOLUTION(?:\s+(?P<task>\S+))?\s*(?P<extra>.*)$")
_END = re.compile(r"### END SOLUTION\s*$")
_TODO = re.compile(r"### TODO:\s?(?P<text>.*)$")
_CONTINUATION = re.compile(r"###(?: (?P<text>.*))?$")
# Anything that starts like a marker but is not one of the three (a typo such as
# "### BEGIN YOUR SOLUTION" or "### END SOLUTION hw1.x") is an error, not a silent comment.
_MARKER_LIKE = re.compile(r"###\s*(BEGIN|END)\b")


class MarkerError(ValueError):
    """A malformed region; the message names the file and line."""


@dataclass(frozen=True)
class Region:
    """One marked region of one file. Line numbers are 1-based and inclusive."""

    task_id: str
    path: str            # as given to parse_source (relative to the project root in a scan)
    begin_line: int      # the "### BEGIN SOLUTION" line
    end_line: int        # the "### END SOLUTION" line
    indent: str          # leading whitespace of the BEGIN line, reused by the stub
    todo: tuple          # hint lines, without the "### TODO:" / "### " prefixes
    solution: tuple      # the solution lines, verbatim (no newline)

    @property
    def assignment(self) -> str:
        """'hw2' for 'hw2.lstm_step'."""
        return self.task_id.split(".", 1)[0]

    @property
    def todo_text(self) -> str:
        """The hint as one line of text (what NotImplementedError says)."""
        return " ".join(line.strip() for line in self.todo if line.strip())

    @property
    def location(self) -> str:
        return f"{self.path}:{self.begin_line}"


def _comment_lines(source: str) -> set:
    """Line numbers whose first token is a comment: marker candidates.

    Lines inside strings never qualify. If the file does not tokenize (a syntax error),
    every line qualifies: the marker checks still run and the import check finds the error.
    """
    lines = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip():
                lines.add(token.start[0])
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set(range(1, source.count("\n") + 2))
    return lines


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def parse_source(source: str, path: str = "<string>") -> list:
    """Return the Regions of one file's text, in order; raise MarkerError on the first mistake."""
    lines = source.splitlines()
    comments = _comment_lines(source)
    regions = []
    open_region = None   # dict while inside a region

    def fail(lineno, message):
        raise MarkerError(f"{path}:{lineno}: {message}")

    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        is_marker = lineno in comments and stripped.startswith("###")
        begin = _BEGIN.match(stripped) if is_marker else None
        end = _END.match(stripped) if is_marker else None

        if begin:
            if open_region is not None:
                fail(lineno, f"BEGIN SOLUTION inside the region {open_region['task']} opened at "
                             f"line {open_region['begin']}: regions do not nest; close it first")
            task, extra = begin.group("task"), begin.group("extra")
            if not task:
                fail(lineno, "BEGIN SOLUTION needs a task id, e.g. '### BEGIN SOLUTION hw1.tanh'")
            if not TASK_ID.fullmatch(task) or extra:
                fail(lineno, f"bad task id {(task + ' ' + extra).strip()!r}: expected "
                             "hw<assignment number>.<problem name>, e.g. 'hw2.lstm_step'")
            open_region = {"task": task, "begin": lineno, "indent": _indent_of(line),
                           "todo": [], "solution": [], "in_todo": True}
            continue

        if end:
            if open_region is None:
                fail(lineno, "END SOLUTION without a BEGIN SOLUTION before it")
            if _indent_of(line) != open_region["indent"]:
                fail(lineno, f"END SOLUTION is indented {len(_indent_of(line))} columns but its "
                             f"BEGIN SOLUTION {open_region['task']} (line {open_region['begin']}) "
                             f"is indented {len(open_region['indent'])}: put them at the same level")
            if not any(s.strip() for s in open_region["solution"]):
                fail(lineno, f"region {open_region['task']} (line {open_region['begin']}) has no "
                             "solution lines between its TODO and END SOLUTION")
            regions.append(Region(open_region["task"], path, open_region["begin"], lineno,
                                  open_region["indent"], tuple(open_region["todo"]),
                                  tuple(open_region["solution"])))
            open_region = None
            continue

        if is_marker and _MARKER_LIKE.match(stripped):
            fail(lineno, f"unrecognised marker {stripped!r}: expected '### BEGIN SOLUTION "
                         "<task id>' or '### END SOLUTION'")

        todo = _TODO.match(stripped) if is_marker else None
        if open_region is None:
            if todo:
                fail(lineno, "'### TODO:' outside a region: hints go right after BEGIN SOLUTION")
            continue

        # Inside a region: hint lines first, then the solution.
        if open_region["in_todo"] and is_marker:
            if todo:
                open_region["todo"].append(todo.group("text"))
                continue
            continuation = _CONTINUATION.match(stripped)
            if open_region["todo"] and continuation:
                open_region["todo"].append(continuation.group("text") or "")
                continue
        if todo:
            fail(lineno, f"'### TODO:' in the middle of region {open_region['task']}: the hint "
                         "must come directly after BEGIN SOLUTION")
        open_region["in_todo"] = False
        if stripped and not line.startswith(open_region["indent"]):
            fail(lineno, f"line is indented less than BEGIN SOLUTION {open_region['task']} "
                         f"(line {open_region['begin']}): a region must sit inside one block")
        open_region["solution"].append(line)

    if open_region is not None:
        fail(open_region["begin"], f"region {open_region['task']} is never closed: add "
                                   "'### END SOLUTION' at the same indentation")
    return regions


def parse_file(path, display_path=None) -> list:
    """Regions of the file at `path` (named `display_path` in errors and in Region.path)."""
    path = Path(path)
    return parse_source(path.read_text(encoding="utf-8"), display_path or str(path))


def _string_literal(text: str) -> str:
    """A Python string literal for text, double-quoted when that needs no escapes."""
    if '"' not in text and "\\" not in text and text.isprintable():
        return f'"{text}"'
    return repr(text)


def make_stub(region: Region) -> list:
    """The lines (no newlines) that replace a whole region, BEGIN and END included."""
    indent = region.indent
    stub = []
    hint = [line for line in region.todo]
    for i, line in enumerate(hint):
        prefix = "# TODO: " if i == 0 else "#       "
        stub.append(f"{indent}{prefix}{line}".rstrip())
    message = f"{region.task_id}: {region.todo_text}" if region.todo_text else \
        f"{region.task_id}: not written yet (see HOMEWORK.md)"
    stub.append(f"{indent}raise NotImplementedError({_string_literal(message)})")
    return stub


def apply_stubs(source: str, regions) -> str:
    """`source` with each of `regions` (all from this source) replaced by its stub."""
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    for region in sorted(regions, key=lambda r: r.begin_line, reverse=True):
        stub = [line + newline for line in make_stub(region)]
        lines[region.begin_line - 1 : region.end_line] = stub
    return "".join(lines)
