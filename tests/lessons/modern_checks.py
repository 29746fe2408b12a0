"""What the quick runs of lessons 12 and 13 must show (issue 15), as check functions that
test_lessons_quick.py's LESSON_CHECKS applies to the results.json of its one run of each.

Lesson 13's three claims: the selective SSM beats its non-selective twin on selective
copying; a position scheme that extrapolates beats absolute positions at 4x the training
length; attention's recall holds where a small fixed state's fails. Lesson 12's mechanics: the
three scan modes agree, parallel and step-by-step outputs agree, the KV cache grows with the
tokens while a recurrent state stays fixed.
"""
import pytest

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
