"""The lessons CLI (lessons/__main__.py) and the setup every lesson calls (lessons/_shared.py),
exercised on a folder of fake lessons so that the tests do not depend on the real ones."""

import json
import subprocess
import sys
import textwrap

import pytest

from lessons import _shared
from lessons.__main__ import main
from lessons._shared import EXTRAS_MESSAGE, markdown_table, setup

FAKE_LESSON = '''\
# %% [markdown]
# # Lesson 1: A fake lesson that reports what it was given
#
# More text that is not the summary.

# %%
import sys
from lessons._shared import setup

opts = setup("01")
opts.save_json("results", {"name": __name__, "quick": opts.quick, "device": opts.device,
                           "seed": opts.seed, "argv": sys.argv[1:], "draw": opts.rng.integers(1000)})
'''

DOCSTRING_LESSON = '''\
"""Summary taken from the docstring.

Not this line."""
raise RuntimeError("lesson 3 is broken on purpose")
'''


@pytest.fixture
def fake_lessons(tmp_path, monkeypatch):
    """A lessons folder with 01 (works, markdown title) and 03 (fails, docstring summary)."""
    for name in ("MINIGRAD_LESSON_QUICK", "MINIGRAD_LESSON_OUT", "MINIGRAD_LESSON_SEED",
                 "MINIGRAD_DEVICE"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "fake_lessons"
    folder.mkdir()
    (folder / "01_fake.py").write_text(FAKE_LESSON)
    (folder / "03_broken.py").write_text(DOCSTRING_LESSON)
    (folder / "notes.py").write_text("raise RuntimeError('not a lesson')\n")
    (folder / "_helper.py").write_text("raise RuntimeError('not a lesson')\n")
    return folder


def test_listing_shows_each_lesson_with_its_summary(fake_lessons, capsys):
    assert main([], lessons_dir=fake_lessons) == 0
    lines = capsys.readouterr().out.splitlines()
    lesson_lines = [line.strip() for line in lines if line.startswith("  ")]
    assert lesson_lines[:2] == ["01  A fake lesson that reports what it was given",
                                "03  Summary taken from the docstring."]
    assert lesson_lines[2].startswith("all ")


def test_listing_the_real_lessons_folder_works(capsys):
    assert main([]) == 0
    assert capsys.readouterr().out.strip()


def test_python_dash_m_lessons_runs():
    done = subprocess.run([sys.executable, "-m", "lessons", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--quick" in done.stdout and "--device" in done.stdout


def test_running_a_lesson_passes_the_options_through(fake_lessons, tmp_path, monkeypatch, capsys):
    devices = []
    monkeypatch.setattr(_shared, "_set_engine_device", devices.append)   # keep the engine's default
    out_root = tmp_path / "runs"
    argv = ["1", "--quick", "--out", str(out_root), "--device", "cuda", "--seed", "5"]
    assert main(argv, lessons_dir=fake_lessons) == 0
    results = json.loads((out_root / "01_fake" / "results.json").read_text())
    assert results["name"] == "__main__"
    assert results["quick"] is True and results["device"] == "cuda" and results["seed"] == 5
    assert results["mode"] == "quick"            # save_json records how the lesson ran
    assert devices == ["cuda"]
    assert f"wrote {out_root / '01_fake' / 'results.json'}" in capsys.readouterr().out
    # the same seed draws the same numbers; the number can be written 1 or 01
    assert main(["01", "--out", str(out_root), "--seed", "5"], lessons_dir=fake_lessons) == 0
    again = json.loads((out_root / "01_fake" / "results.json").read_text())
    assert again["draw"] == results["draw"] and again["quick"] is False


@pytest.mark.parametrize("argv", [["4", "--qiuck"], ["all", "--quick", "--sed", "3"], ["--qiuck"]])
def test_an_unknown_option_is_an_error_naming_it(fake_lessons, tmp_path, argv, capsys):
    """A mistyped --quick must not quietly start a full run (hours): exit 2, name the word."""
    assert main(argv + ["--out", str(tmp_path)], lessons_dir=fake_lessons) == 2
    err = capsys.readouterr().err
    assert argv[-1] in err or "--sed" in err, err
    assert not (tmp_path / "01_fake").exists()               # nothing ran


def test_a_lesson_run_directly_rejects_an_unknown_option(tmp_path):
    """python lessons/NN_x.py --qiuck: setup() stops with exit 2 naming the word."""
    script = tmp_path / "01_fake.py"
    script.write_text(FAKE_LESSON)
    done = subprocess.run([sys.executable, str(script), "--qiuck", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--qiuck" in done.stderr, done.stderr


def test_listing_names_all(fake_lessons, capsys):
    assert main([], lessons_dir=fake_lessons) == 0
    assert any(line.strip().startswith("all ") for line in capsys.readouterr().out.splitlines())


def test_the_notebook_parameter_chooses_the_mode_and_the_environment_is_the_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py"])
    monkeypatch.setenv("MINIGRAD_LESSON_QUICK", "1")
    assert setup("9", title="Nine", argv=["--out", str(tmp_path)]).quick is True      # env fallback
    assert setup("9", title="Nine", argv=["--out", str(tmp_path)], quick=False).quick is False
    monkeypatch.delenv("MINIGRAD_LESSON_QUICK")
    opts = setup("9", title="Nine", argv=["--out", str(tmp_path)], quick=True)
    assert opts.quick is True and opts.mode == "quick"


def test_every_lesson_has_a_papermill_parameters_cell():
    """A notebook made with jupytext gets a cell tagged "parameters" before setup() runs."""
    from lessons._shared import lesson_files
    for path in lesson_files():
        text = path.read_text(encoding="utf-8")
        assert '# %% tags=["parameters"]\nQUICK = None' in text, path.name
        assert text.index('tags=["parameters"]') < text.index("setup(") < text.index("quick=QUICK"), path.name


def test_jupytext_makes_the_parameters_cell_a_tagged_notebook_cell():
    jupytext = pytest.importorskip("jupytext")
    from lessons._shared import lesson_files
    notebook = jupytext.read(str(lesson_files()[0]))
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "QUICK = None" in tagged[0].source


def test_results_record_mode_and_seed_and_are_found_by_name(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "07_long_thing.py")])
    opts = setup("7", title="Seven", argv=["--out", str(tmp_path), "--seed", "4"])
    opts.save_json("results", {"x": 1}, quiet=True)
    number, found = opts.find_results("long_thing")
    assert number == 7 and found == {"mode": "full", "seed": 4, "x": 1}
    with pytest.raises(FileNotFoundError):
        opts.find_results("no_such_lesson")


def test_progress_draws_sparingly_off_a_terminal(capsys):
    """Off a terminal every redraw is a line in a log: a postfix set every step must not
    redraw; the bar draws at start, at most every MINIGRAD_PROGRESS_SECONDS, and at the end."""
    bar = _shared.progress(range(500), desc="steps")
    for i in bar:
        bar.set_postfix(loss=f"{i:.3f}")
        bar.set_description(f"step {i}")
    err = capsys.readouterr().err
    assert len(err.replace("\r", "\n").strip().splitlines()) <= 3, err


def test_unknown_lesson_number_names_the_valid_ones(fake_lessons, capsys):
    assert main(["7"], lessons_dir=fake_lessons) == 2
    err = capsys.readouterr().err
    assert "no lesson '7'" in err and "1, 3" in err
    assert main(["seven"], lessons_dir=fake_lessons) == 2


def test_all_runs_every_lesson_and_reports_failures(fake_lessons, tmp_path, capsys):
    assert main(["all", "--quick", "--out", str(tmp_path)], lessons_dir=fake_lessons) == 1
    captured = capsys.readouterr()
    assert (tmp_path / "01_fake" / "results.json").is_file()     # 01 ran although 03 failed
    assert "lesson 3 is broken on purpose" in captured.err
    assert "| 01_fake" in captured.out and "failed (1)" in captured.out


def test_missing_matplotlib_gives_one_clear_message_and_exit_code_2(fake_lessons, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)    # makes `import matplotlib` fail
    assert main(["1", "--quick"], lessons_dir=fake_lessons) == 2
    err = capsys.readouterr().err
    assert err.strip().startswith(EXTRAS_MESSAGE) and "matplotlib" in err   # one line, naming it
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("package", ["tqdm", "babel"])
def test_missing_tqdm_or_babel_stops_progress_too(package, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, package, None)
    with pytest.raises(SystemExit) as stop:
        _shared.progress(range(3))
    assert stop.value.code == 2 and EXTRAS_MESSAGE in capsys.readouterr().err


def test_setup_reads_environment_and_ignores_jupyter_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_LESSON_QUICK", "1")
    monkeypatch.setenv("MINIGRAD_LESSON_OUT", str(tmp_path))
    monkeypatch.setenv("MINIGRAD_LESSON_SEED", "3")
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py"])
    opts = setup("9", title="Nine", argv=["-f", "/run/kernel-1.json"])
    assert opts.lesson_id == "09" and opts.quick and opts.seed == 3
    assert opts.root == tmp_path and opts.out.is_dir() and opts.out.parent == tmp_path
    assert opts.out.name.startswith("09_")
    # the command line wins over the environment
    opts = setup("9", title="Nine", argv=["--seed", "8", "--out", str(tmp_path / "b")])
    assert opts.seed == 8 and opts.root == tmp_path / "b"


def test_outputs_and_results_of_other_lessons(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "04_fake.py")])
    four = setup("04", title="Four", argv=["--out", str(tmp_path)])
    assert four.out == tmp_path / "04_fake"
    plt = four.pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png = four.savefig(fig, "line")
    assert png == four.out / "line.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import numpy as np
    four.save_json("results", {"loss": np.float32(0.5), "curve": np.arange(3)})
    text = four.save_text("table.md", "| a |")
    assert text.read_text() == "| a |\n"
    assert f"wrote {png}" in capsys.readouterr().out

    monkeypatch.setattr(sys, "argv", [str(tmp_path / "12_fake.py")])
    twelve = setup("12", title="Twelve", argv=["--out", str(tmp_path)])
    assert twelve.results_path(4) == tmp_path / "04_fake" / "results.json"
    assert twelve.load_results("04") == {"mode": "full", "seed": 0, "loss": 0.5, "curve": [0, 1, 2]}
    with pytest.raises(FileNotFoundError, match="python -m lessons 5 --out"):
        twelve.load_results(5)


def test_progress_bar_takes_a_postfix(capsys):
    bar = _shared.progress(range(3), desc="train")
    for _ in bar:
        bar.set_postfix(loss=0.25)
    assert "loss=0.25" in capsys.readouterr().err


def test_markdown_table():
    table = markdown_table(["model", "T", "loss"], [["LSTM", 100, 0.123456], ["a|b", 5, 2.0]])
    assert table == textwrap.dedent("""\
        | model | T   | loss   |
        |-------|-----|--------|
        | LSTM  | 100 | 0.1235 |
        | a\\|b  | 5   | 2      |""")
    with pytest.raises(ValueError, match="row 0 has 2 cells, expected 3"):
        markdown_table(["a", "b", "c"], [[1, 2]])
