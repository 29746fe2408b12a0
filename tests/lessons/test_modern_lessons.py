"""Lessons 12 and 13, run once each in quick mode (as a student would), their key results asserted.

The claims (issue 15): the selective SSM beats its non-selective twin on selective copying; a
position scheme that extrapolates beats absolute positions at 4x the training length;
attention's recall holds where a small fixed state's fails. And lesson 12's mechanics: the
three scan modes agree, parallel and step-by-step outputs agree, the KV cache grows with the
tokens while a recurrent state stays fixed.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lessons._modern_answer import modern_sections, modern_table

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 900          # stops a hung lesson; not a speed test
ATTENTION = ("transformer_sinusoidal", "transformer_rope", "transformer_alibi", "transformer_nope")
FIGURES_12 = ("loop_scan_chunked", "generation_memory", "adding_and_copy")
FIGURES_13 = ("extrapolation", "recall_vs_state", "selective_copy")


def check_lesson_12_modern(results):
    """Lesson 12's mechanics (usable as a LESSON_CHECKS check in test_lessons_quick.py)."""
    assert results["mode"] in ("quick", "full") and "seed" in results
    check_modes_and_steps_agree(results)
    check_kv_cache_grows_state_does_not(results)


def check_lesson_13_modern(results):
    """Lesson 13's three claims (usable as a LESSON_CHECKS check in test_lessons_quick.py)."""
    assert results["mode"] in ("quick", "full") and "seed" in results
    check_selective_beats_twin(results)
    check_relative_positions_extrapolate(results)
    check_attention_recall_holds(results)


def check_modes_and_steps_agree(results):
    assert results["scan_timing"]["mode_max_difference"] < 1e-10
    for kind, difference in results["parallel_vs_step_max_difference"].items():
        assert difference < 1e-9, (kind, difference)


def check_kv_cache_grows_state_does_not(results):
    memory = results["generation_memory"]
    first, last = str(memory["tokens"][0]), str(memory["tokens"][-1])
    growth = memory["tokens"][-1] / memory["tokens"][0]
    for kind, by_t in memory["bytes"].items():
        if kind in ATTENTION:      # keys and values of every token: linear in t
            assert by_t[last] == pytest.approx(growth * by_t[first], rel=1e-9), by_t
        else:
            assert by_t[last] == by_t[first], (kind, by_t)


def check_selective_beats_twin(results):
    # quick run: 0.96 against 0.72 (the paper, at length 4,096: 99.8% against 56.4%)
    models = results["selective_copy"]["models"]
    assert models["mamba"]["accuracy"] > models["mamba_lti"]["accuracy"] + 0.15, models


def check_relative_positions_extrapolate(results):
    # quick run at 4x the training length: ALiBi 0.97, sinusoidal 0.32 (chance 0.07)
    induction = results["induction"]
    four = str(induction["test_lengths"][1])
    assert induction["test_lengths"][1] == 4 * induction["test_lengths"][0]
    acc = {k: v["accuracy_by_length"] for k, v in induction["models"].items()}
    assert acc["transformer_sinusoidal"][str(induction["test_lengths"][0])] > 0.9, acc
    best = max(acc[k][four] for k in ("transformer_alibi", "transformer_nope",
                                      "transformer_rope") if k in acc)
    assert best > acc["transformer_sinusoidal"][four] + 0.3, acc


def check_attention_recall_holds(results):
    # quick run: RoPE attention 1.00, minGRU with a 128-byte state 0.23 (chance 0.06)
    models = results["recall"]["models"]
    attention = max(r["accuracy"] for k, by in models.items() if k in ATTENTION
                    for r in by.values())
    small_bytes, small_acc = min((r["state_bytes"], r["accuracy"]) for k, by in models.items()
                                 if k not in ATTENTION for r in by.values())
    assert attention > 0.8, models
    assert small_acc < attention - 0.3, models


def run_lesson(number, out):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "lessons", str(number), "--quick", "--out",
                           str(out)], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    folder = next(out.glob(f"{number}_*"))
    return folder, json.loads((folder / "results.json").read_text())


@pytest.fixture(scope="module")
def lesson_12(tmp_path_factory):
    if not any((REPO_ROOT / "lessons").glob("12_recurrence*.py")):
        pytest.skip("lesson 12 (recurrence returns) is not in this checkout")
    return run_lesson(12, tmp_path_factory.mktemp("lessons"))


@pytest.fixture(scope="module")
def lesson_13(tmp_path_factory):
    if not any((REPO_ROOT / "lessons").glob("13_recall*.py")):
        pytest.skip("lesson 13 (recall, selectivity and length) is not in this checkout")
    return run_lesson(13, tmp_path_factory.mktemp("lessons"))


# ----------------------------------------------------------------------------- lesson 12

def test_lesson_12_figures_and_mode(lesson_12):
    folder, results = lesson_12
    assert results["mode"] == "quick" and "seed" in results
    for name in FIGURES_12:
        assert (folder / f"{name}.png").stat().st_size > 1000, name


def test_lesson_12_modes_and_step_by_step_agree(lesson_12):
    check_modes_and_steps_agree(lesson_12[1])


def test_lesson_12_kv_cache_grows_state_does_not(lesson_12):
    check_kv_cache_grows_state_does_not(lesson_12[1])


# ----------------------------------------------------------------------------- lesson 13

def test_lesson_13_figures_and_mode(lesson_13):
    folder, results = lesson_13
    assert results["mode"] == "quick" and "seed" in results
    for name in FIGURES_13:
        assert (folder / f"{name}.png").stat().st_size > 1000, name


def test_selective_ssm_beats_its_non_selective_twin(lesson_13):
    check_selective_beats_twin(lesson_13[1])


def test_relative_positions_extrapolate_where_absolute_do_not(lesson_13):
    check_relative_positions_extrapolate(lesson_13[1])


def test_attention_recall_holds_where_small_state_fails(lesson_13):
    check_attention_recall_holds(lesson_13[1])


def test_modern_sections_compose_from_both_lessons(lesson_12, lesson_13):
    paragraphs, rows = modern_sections({12: lesson_12[1], 13: lesson_13[1]})
    text = "\n".join(paragraphs)
    for needle in ("lesson 12", "lesson 13", "Mamba", "Zoology", "Jelassi", "ALiBi", "Hybrids"):
        assert needle in text, needle
    assert len(rows) >= 5 and all(r["agrees"] in ("yes", "no", "n/a") for r in rows)
    assert modern_table(rows).count("\n") == len(rows) + 1


def test_modern_sections_say_when_a_lesson_has_not_run():
    paragraphs, rows = modern_sections({})
    assert "lesson 12 has not run" in paragraphs[0]
    assert any("lesson 13 has not run" in p for p in paragraphs)
    assert rows == []
