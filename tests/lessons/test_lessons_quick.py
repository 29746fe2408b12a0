"""Every lesson, run as a student would (``python -m lessons N --quick``), in a subprocess.

Each lesson in ``LESSON_CHECKS`` must exit with code 0, write the figures it promises as
non-empty PNG files, and save a ``results.json`` whose headline result holds. A lesson file
without an entry is still run: it must exit 0 and save ``results.json`` (the convention in
lessons/README.md). Lessons that do not exist yet are not collected, so this file never fails
for a missing lesson.

All lessons write under one output root per test session, as ``python -m lessons all --out``
does, so a lesson that reads other lessons' results (the answer, lesson 14) finds them; list those lessons
in its entry's ``needs`` and they run first (each lesson runs at most once per session).

Quick mode must finish in minutes (lesson 7, the longest, about 3 minutes of CPU on 2 cores);
the timeout below only stops a hung lesson, it is not a speed test (speed targets live in
benchmarks/). Lessons are keyed by slug (the file name without its number), so a lesson that is
renumbered keeps its checks.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

from modern_checks import (FIGURES_12, FIGURES_13, check_lesson_12_modern,
                           check_lesson_13_modern)

try:
    import fcntl                     # POSIX: lets pytest-xdist workers share one run per lesson
except ImportError:                  # Windows: each worker runs the lessons it needs itself
    fcntl = None

REPO_ROOT = Path(__file__).resolve().parents[2]
LESSONS_DIR = REPO_ROOT / "lessons"
HANG_TIMEOUT_S = 900          # a hang guard only; lesson 7 on a busy 2-core machine can take minutes
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class LessonCheck(NamedTuple):
    """What a quick run of one lesson must leave behind."""

    figures: tuple             # names passed to opts.savefig (".png" added)
    check: Callable            # check(results: dict) -> None, asserts the lesson's key result
    needs: tuple = ()          # slugs of the lessons whose results this one reads (run first)


# ----------------------------------------------------------------------------- the checks

def check_lesson_01(results):
    """Autograd's gradients equal the hand-derived ones."""
    assert results["max_abs_error"] < 1e-6, results["gradients"]
    for name, entry in results["gradients"].items():
        assert entry["max_abs_error"] < 1e-6, (name, entry)
    assert results["accumulation"]["accumulates"], results["accumulation"]
    # sigmoid and GELU (erf to rounding, ops/special.py) against their hand derivatives, float64
    assert max(results["curve_max_abs_error"].values()) < 1e-12, results["curve_max_abs_error"]


def check_lesson_02(results):
    """gradcheck passes the right Functions, catches the broken ones; float64 beats float32."""
    checks = results["gradcheck"]
    assert checks["SiLU"]["passed"] and checks["MatMul"]["passed"], checks
    for broken in ("SiLUMissingFactor", "MatMulTransposedGrad"):
        assert not checks[broken]["passed"], checks[broken]
        assert "input" in checks[broken]["message"] and "index" in checks[broken]["message"]
    assert results["float64_best_rel_error"] < 1e-8
    assert results["float64_best_rel_error"] < 1e-3 * results["float32_best_rel_error"]
    hidden = results["upstream_errors"]["MatMulTransposedGrad"]
    assert hidden["ones"] < 1e-6 < 1e-2 < hidden["random"], hidden


def check_lesson_03(results):
    """BPTT by hand equals layers.RNN; the char LM learns from ln V down past the unigram entropy."""
    # the same float64 sums in another order: only rounding (~1e-15) may differ
    assert results["bptt_by_hand_max_abs_error"] < 1e-10, results["bptt_differences"]
    # untrained: small logits (Linear init U(+-1/sqrt(H)) on tanh outputs), so ~uniform, loss ~ ln V
    assert abs(results["initial_val_loss"] - results["ln_V"]) < 0.5, results
    # learning the character frequencies alone takes the loss to the unigram entropy, ~1.5 nats
    # below ln V on Python source; 60 Adam steps get there and past it (measured ~2.4 < 3.1)
    assert results["final_val_loss"] < results["initial_val_loss"] - 1.0, results["val_loss"]
    assert results["final_val_loss"] < results["unigram_entropy"], results["val_loss"]


def check_lesson_04(results):
    """Gradients vanish as r^99 or faster for r < 1, explode at r = 3; clipping prevents divergence."""
    reach, bound = results["gradient_reach"], results["bound_r_pow_T_minus_1"]
    for radius in ("0.5", "0.9"):
        # ||diag(1 - h^2) W_hh|| <= ||W_hh|| = r (W_hh = r x orthogonal): 99 steps give at most r^99
        assert reach[radius] <= bound[radius] * (1 + 1e-6), (radius, reach[radius], bound[radius])
    assert reach["0.5"] < 1e-3, reach          # 0.5^99 = 1.6e-30: orders of magnitude below 1e-3
    # r = 3: chaotic regime, the unsaturated units pass the gradient on x up to 3 per step
    # (measured ~1e10); a 1000-fold growth is the lesson's claim
    assert reach["3.0"] > 1e3, reach
    clipping = results["clipping"]
    assert clipping["unclipped_diverged"] and not clipping["clipped_diverged"], clipping["runs"]
    # plain SGD moves theta by lr * g, and the clipped g has norm <= max_norm (float32 rounding)
    clipped = clipping["runs"][f"clip {clipping['max_norm']}"]
    assert clipped["max_update_norm"] <= clipping["lr"] * clipping["max_norm"] * (1 + 1e-3), clipped


def check_lesson_05(results):
    """The LSTM's reach beats the RNN's, grows with the forget bias, and still explodes with large weights."""
    sigmoid = {"0": 0.5, "1": 0.7310585786, "3": 0.9525741268}
    for bias, f in results["mean_forget_gate_by_bias"].items():
        # at init the forget pre-activation is the bias plus zero-mean terms of small weights
        assert abs(f - sigmoid[bias]) < 0.1, (bias, f)
    reach = results["lstm_reach_by_forget_bias"]
    # the cell path multiplies by f ~ 0.73 per step (0.73^99 ~ 1e-14); the RNN's gradient
    # passes W_hh and tanh' (~0.6 per step measured, ~1e-22 over 99 steps)
    assert reach["1"] > 1e3 * results["rnn_reach"], (reach, results["rnn_reach"])
    assert reach["0"] < reach["1"] < reach["3"], reach
    big = results["large_weights"]["10"]
    assert results["large_weights_explode"] and big["reach_h"] > 1, results["large_weights"]
    # clip_grad_norm_(max_norm=1) rescales a gradient of norm > 1 to norm 1 (up to its 1e-6 eps)
    assert big["param_grad_norm"] > 1 and abs(big["clipped_norm"] - 1) < 1e-3, big


def check_lesson_06(results):
    """Counts follow k (H (D + H) + 2H); both LSTM and GRU learn."""
    assert results["counts_match_formula"]
    counts = results["parameter_counts"]
    for h in ("64", "128", "256"):
        assert counts["GRU"][h] * 4 == counts["LSTM"][h] * 3, counts    # 3 gate blocks against 4
    for name in (results["lstm"], results["gru"], results["gru_equal_params"]):
        model = results["models"][name]
        # 50 Adam steps take an untrained model (~ln V = 4.6) past the unigram entropy (~3.1)
        assert model["final_val_loss"] < model["start_val_loss"] - 1.0, (name, model)
    assert all(t > 0 for times in results["ms_per_batch"].values() for t in times.values())


def check_lesson_07(results):
    """The quick run reproduces the published long-range results (issue 10), on fresh data.

    - Adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015; Arjovsky et al. 2016): the
      LSTM and the GRU learn it at T >= 100 (chrono init, H = 64, batch 64, Adam 1e-2, clip 1:
      measured ~450 and ~250 steps at T = 100, MSE ~0.005 against the 0.167 baseline); the tanh
      RNN stops earlier (measured: learns T = 10, not T = 30 in 1,000 steps), and that limit is
      found (a first failed lag is recorded).
    - Copy memory: the causal Transformer learns lag 200 (measured ~75 steps: one attention hop
      reaches the symbols); the LSTM's and GRU's limit is measured: a longest lag (or none) and
      the first lag they failed.
    - Budgets are visible: every run records the steps it took, at most the common cap.
    """
    assert results["mode"] == "quick" and "seed" in results, {k: results.get(k) for k in ("mode", "seed")}
    longest, failed = results["longest_lag_learned"], results["first_lag_not_learned"]
    for task in ("copy", "adding"):            # what the answer lesson reads
        assert set(longest[task]) == {"rnn", "lstm", "gru", "transformer"}, longest
    assert (longest["adding"]["lstm"] or 0) >= 100, (longest, results["runs"]["adding"]["lstm"])
    assert (longest["adding"]["gru"] or 0) >= 100, (longest, results["runs"]["adding"]["gru"])
    rnn = longest["adding"]["rnn"] or 0
    assert failed["adding"]["rnn"] is not None, "the RNN's adding limit was not found"
    assert rnn < min(longest["adding"]["lstm"], longest["adding"]["gru"]), longest["adding"]
    assert (longest["copy"]["transformer"] or 0) >= 200, results["runs"]["copy"]["transformer"]
    copy_grid = results["settings"]["copy_lags"]
    for family in ("lstm", "gru"):
        # measured: either the whole grid learned, or a first lag that was not
        assert longest["copy"][family] == max(copy_grid) or failed["copy"][family] is not None
    cap = results["settings"]["max_steps"]
    for task, by_family in results["runs"].items():
        for family, by_lag in by_family.items():
            for lag, run in by_lag.items():
                assert 1 <= run["steps"] <= cap[task], (task, family, lag, run["steps"])
                if run["learned"]:                     # learned on fresh data: the metric says so
                    if task == "copy":
                        assert run["accuracy"] > 0.9, run
                    else:
                        assert run["mse"] < 0.1 / 6, run
    assert results["complete"] is True and results["table"]["rows"], results["table"]
    assert results["agreement_with_literature"], "lesson 7 compares nothing with the papers"


def check_lesson_11(results):
    """TBPTT memory flat in the stream length; memory-efficient attention far below T x T."""
    tbptt = results["tbptt"]
    peaks = tbptt["peak_bytes_by_length"]
    assert len(peaks) >= 3 and max(map(int, peaks)) >= 10_000, peaks
    # flat: the chunk at the end of the stream needs at most 1.5x what one near its start did,
    # where full BPTT (its measured bytes/step) would need length-proportional memory
    assert max(peaks.values()) < 1.5 * min(peaks.values()), peaks
    longest = max(map(int, peaks))
    full_at_longest = results["full_bptt"]["bytes_per_step"] * longest
    assert full_at_longest > 20 * peaks[str(longest)], (full_at_longest, peaks)
    assert tbptt["loss_last_tenth"] < tbptt["loss_first_tenth"], tbptt
    reach = results["gradient_reach"]
    assert reach["farthest_tbptt"] == reach["k"] - 1 and reach["farthest_full"] == reach["T"] - 1
    attention = results["attention"]
    T = attention["largest_T"]
    assert T >= 16_384
    # bound: under 8 arrays of T * hd float32 (out, dK, dV, a dQ share per thread: two
    # threads, lse, D) plus two threads' block x block tiles (P, dS):
    # 8 T hd 4 + 4 b^2 4 bytes = 20 MiB at T = 16,384, hd = 32, b = 512;
    # the full weights alone are 4 T^2 bytes = 1 GiB there, 51x more than the bound
    peak, bound = attention["efficient_peak_bytes_at_largest_T"], attention["efficient_bound_bytes"]
    assert bound == 8 * T * attention["head_size"] * 4 + 4 * attention["block_size"] ** 2 * 4
    assert peak < bound < attention["full_weights_bytes_at_largest_T"] / 32, (peak, bound)
    window = results["sliding_window"]
    assert window["change_outside_window"] == 0.0 < window["change_inside_window"]
    assert window["change_full_attention_far"] > 0.0     # (times are not asserted: no timed tests)


def settings_rounds(results):
    return results["settings"]["rounds"]


def check_lesson_10(results):
    """The LSTM's cost is linear in T; attention's memory grows clearly faster; critical paths T and 1."""
    models = results["models"]
    lstm, transformer = models["LSTM"], models["Transformer"]
    # Every LSTM step does the same work (an (N, H) @ (H, 4H) product and the gate arithmetic),
    # so T steps cost T times one: exponent 1 (measured 0.96-1.04 on a loaded 2-core machine).
    # CPU time, not wall time: other processes inflate wall time at random, CPU time far less;
    # the band allows for what is left of that noise, and still tells 1 from 2.
    assert 0.7 < lstm["cpu_time_exponent"] < 1.35, lstm
    # BPTT keeps a fixed number of (N, H) arrays per step: memory exactly linear (tracemalloc
    # counts bytes, no noise); measured 0.99
    assert 0.9 < lstm["memory_exponent"] < 1.1, lstm
    # the exponent comes with its spread: one slope per round of timings, around the median's
    for entry in models.values():
        low, high = entry["time_exponent_spread"]
        assert low <= high and len(entry["seconds_by_round"][0]) == settings_rounds(results)
    # attention keeps (N, nh, T, T) arrays: at T = 1024 (N = 8, nh = 2) one is 64 MiB against
    # ~16 MiB of per-token activations, so the quadratic term dominates the fit (measured 1.72)
    assert transformer["memory_exponent"] > lstm["memory_exponent"] + 0.5, (transformer, lstm)
    settings = results["settings"]
    T = transformer["T"][-1]
    one_weights_array = settings["N"] * settings["num_heads"] * T * T * 4    # float32 bytes
    assert transformer["peak_bytes"][-1] >= one_weights_array, (transformer["peak_bytes"], T)
    # critical path, counted: one step-kernel call per time step, one attention call per layer
    for name in ("RNN", "LSTM", "GRU"):
        for length, calls in models[name]["critical_path"].items():
            assert calls == {"forward": int(length), "backward": int(length)}, (name, length, calls)
    for calls in transformer["critical_path"].values():
        assert calls == {"forward": 1, "backward": 1}, calls


ANSWER_SOURCES = ("vanishing_exploding", "lstm", "gru_vs_lstm", "long_range_memory",
                     "attention", "transformer", "cost_against_length", "extremely_long_sequences",
                     "recurrence_returns", "recall_selectivity_length")
ANSWER_PARTS = ("What the LSTM and the Transformer contributed",
                   "compared", "Extremely long sequences", "The modern answer")
MODERN_NEEDLES = ("Mamba", "Zoology", "Jelassi", "ALiBi", "Hybrids")   # the papers part 4 weighs


def answer_sources_present():
    """The lessons the answer lesson reads that exist in this checkout (others may still be written)."""
    return tuple(s for s in ANSWER_SOURCES if any(LESSONS_DIR.glob(f"[0-9][0-9]_{s}.py")))


def check_the_answer(results):
    """report.md opens with the written answer in four parts, says which lessons ran quick,
    warns about undertraining, and fills every row whose lessons ran."""
    report = Path(results["report"]).read_text(encoding="utf-8")
    assert results["mode"] == "quick" and "seed" in results
    answer_at, table_at = report.index("## The answer"), report.index("## The comparison")
    assert answer_at < table_at, "the written answer must come before the table"
    assert "quick run" in report[:answer_at] and "undertrain" in report[:answer_at], report[:answer_at]
    answer = report[answer_at:table_at]
    for part in ANSWER_PARTS:
        assert part in answer, f"the answer lacks the part {part!r}"
    present = set(answer_sources_present())    # needs=... ran these first, into the same root
    assert present <= set(results["found"]), (present, results["found"])
    for part in results["answer"]:
        assert part["paragraphs"] and all(p.strip() for p in part["paragraphs"]), part
        # every paragraph that states a measurement cites the lesson that made it
        for paragraph in part["paragraphs"]:
            if any(ch.isdigit() for ch in paragraph) and "not supported" not in paragraph.lower():
                assert "lesson" in paragraph, paragraph
    if {"recurrence_returns", "recall_selectivity_length"} <= present:
        modern = answer[answer.index("The modern answer"):]
        for needle in MODERN_NEEDLES:
            assert needle in modern, f"part 4 of the answer does not weigh {needle}"
        assert "## The modern models against the papers" in report
    if present == set(ANSWER_SOURCES):
        assert "Not supported by this run: a result" not in report, "a section lacked a result"
        for row in results["table"]["rows"]:
            assert row["available"], row
            for cell in row["cells"].values():
                assert not cell.startswith("run lesson"), row
    reach = results["input_reach"]["reach"]
    # the RNN's product of T Jacobians vanishes exponentially; attention's reach falls ~1/T
    assert reach["transformer"]["1000"] > 1e6 * max(reach["rnn"]["1000"], 1e-300), reach
    assert reach["transformer"]["100"] > 1e-4, reach["transformer"]
    for path in results["figures_linked"]:       # Markdown links resolve from the report's folder
        assert (Path(results["report"]).parent / path).is_file(), path


def check_lesson_08(results):
    """Unscaled scores saturate the softmax at d = 512; the date model learns an alignment."""
    assert results["tiny_example_max_error"] < 1e-12          # the same float64 formula as numpy
    sat = results["saturation"]
    i512 = sat["d"].index(512)
    for d, variance in zip(sat["d"], sat["score_variance"]):
        # q.k sums d products of independent unit-variance entries: variance d (400 draws of q)
        assert abs(variance / d - 1) < 0.25, (d, variance)
    # std(q.k) = sqrt(512) ~ 23 over 32 keys: the top score leads the next by several units,
    # so the top weight is ~1 (measured 0.94); scaled, the scores have std 1 (measured 0.17)
    assert sat["max_weight"]["unscaled"][i512] > 0.85, sat["max_weight"]
    assert sat["max_weight"]["scaled"][i512] < 0.3, sat["max_weight"]
    assert results["grad_ratio_scaled_over_unscaled_d512"] > 2, sat["grad_norm"]
    dates = results["dates"]
    # the first batch sees an untrained model: loss near ln V = 2.7; 150 Adam steps go below
    # a quarter of it (measured 2.7 -> ~0.1)
    assert dates["final_loss"] < 0.25 * dates["initial_loss"], dates
    # chance: a date guessed without the source matches 1 in 36,525 (100 years of days) and
    # the best source-blind guess per position gets ~45% of the characters; the model must
    # read the source (measured: 80% exact, 97% of characters)
    assert dates["test_exact"] > 0.3, dates
    assert dates["test_chars"] > dates["baseline_chars"] + 0.25, dates
    att = results["attention"]
    # digits are copied from one input character: the largest weight is far above uniform
    assert att["peak_weight"] > 3 * att["uniform_weight"], att


def check_lesson_09(results):
    """MHA = heads by hand; PE shift-invariant; warmup peaks at w; loss falls; beam ~>= greedy."""
    assert results["mha_max_error"] < 1e-10, results["mha_max_error"]   # float64, same formula
    # sin/cos addition theorems: PE[p].PE[p+k] = sum_i cos(k w_i) for every p (float64 rounding)
    assert results["positional_shift_invariance"] < 1e-9
    schedule = results["schedule"]
    assert schedule["peak_step"] == schedule["warmup"], schedule          # min(s^-0.5, s w^-1.5)
    peak = schedule["factor"] * schedule["d_model"] ** -0.5 * schedule["warmup"] ** -0.5
    assert abs(schedule["peak_lr"] - peak) < 1e-9 * peak, schedule
    dates = results["dates"]
    # cross-entropy against smoothed targets is at least their entropy (Gibbs' inequality)
    assert dates["final_loss"] >= dates["loss_floor"] * (1 - 1e-6), dates
    # untrained: ~ln 15 = 2.7 nats; 160 steps take it to ~0.7 (floor 0.56)
    assert dates["final_loss"] < dates["initial_loss"] - 1.0, dates
    decoding = results["decoding"]
    # source-blind guessing gets ~45% of the characters (lesson 8's baseline); measured ~0.9
    assert decoding["greedy_chars"] > 0.6, decoding
    # beam search maximises the sequence probability, not accuracy, so it may lose a few
    # dates; it must not be clearly worse than greedy (measured: 55.5% vs 54.5% exact)
    assert decoding["beam_exact"] >= decoding["greedy_exact"] - 0.05, decoding
    assert decoding["beam_chars"] >= decoding["greedy_chars"] - 0.02, decoding


LESSON_CHECKS = {   # by slug (the file name without its number): lessons get renumbered
    "tensors_and_autograd": LessonCheck(figures=("derivatives_autograd_vs_hand",), check=check_lesson_01),
    "gradient_checking": LessonCheck(figures=("rel_error_vs_step",), check=check_lesson_02),
    "rnn_from_scratch": LessonCheck(figures=("loss_curve",), check=check_lesson_03),
    "vanishing_exploding": LessonCheck(figures=("gradient_norm_vs_distance", "clipping"),
                                       check=check_lesson_04),
    "lstm": LessonCheck(figures=("gradient_reach_lstm_vs_rnn", "lstm_vs_rnn_training",
                                 "gate_activations"), check=check_lesson_05),
    "gru_vs_lstm": LessonCheck(figures=("learning_curves", "speed"), check=check_lesson_06),
    "long_range_memory": LessonCheck(figures=("accuracy_vs_lag",), check=check_lesson_07),
    "attention": LessonCheck(figures=("softmax_saturation", "date_training_loss",
                                      "attention_heatmaps"), check=check_lesson_08),
    "transformer": LessonCheck(figures=("positional_encoding", "warmup_schedule", "training_loss",
                                        "cross_attention_heads"), check=check_lesson_09),
    "cost_against_length": LessonCheck(figures=("cost_vs_length",), check=check_lesson_10),
    "extremely_long_sequences": LessonCheck(figures=("memory_vs_length", "gradient_reach",
                                                     "attention_vs_T"), check=check_lesson_11),
    # needs: only the sources in this checkout, so the test runs while a lesson is being written
    "the_answer": LessonCheck(figures=("summary",), check=check_the_answer,
                              needs=answer_sources_present()),
    "recurrence_returns": LessonCheck(figures=FIGURES_12, check=check_lesson_12_modern),
    "recall_selectivity_length": LessonCheck(figures=FIGURES_13, check=check_lesson_13_modern),
    # A new lesson: add "its_slug": LessonCheck(figures=(...), check=check_its_slug) with a
    # check function above that asserts the lesson's headline result.
}


# ----------------------------------------------------------------------------- running

def existing_lessons():
    """{slug: path} of the lesson files NN_slug.py present now, in number order."""
    return {path.stem[3:]: path for path in sorted(LESSONS_DIR.glob("[0-9][0-9]_*.py"))}


def lesson_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MINIGRAD_LESSON_") and k != "MINIGRAD_DEVICE"}
    env.update(PYTHONPATH=str(REPO_ROOT), MPLBACKEND="Agg")
    return env


@pytest.fixture(scope="module")
def run_lesson(tmp_path_factory, worker_id):
    """run_lesson(slug) -> (CompletedProcess, output folder): each lesson runs once per test
    session, also under pytest-xdist, where the workers share one output root and a lock per
    lesson (lesson 7's quick run, the longest, then runs once however the tests are spread,
    and the answer lesson reads the results the other lessons' tests made)."""
    shared = worker_id != "master" and fcntl is not None
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if shared else base) / "lesson_output"
    root.mkdir(exist_ok=True)
    done = {}

    def run(slug):
        if slug in done:
            return done[slug]
        path = existing_lessons()[slug]
        record = root / f"{path.stem}.process.json"
        with open(root / f"{path.stem}.lock", "w") as lock:
            if shared:
                fcntl.flock(lock, fcntl.LOCK_EX)        # another worker may be running it
            if record.is_file():
                saved = json.loads(record.read_text())
                process = subprocess.CompletedProcess(saved["args"], saved["returncode"],
                                                      saved["stdout"], saved["stderr"])
            else:
                command = [sys.executable, "-m", "lessons", str(int(path.name[:2])), "--quick",
                           "--out", str(root)]
                process = subprocess.run(command, cwd=REPO_ROOT, env=lesson_env(),
                                         capture_output=True, text=True, timeout=HANG_TIMEOUT_S)
                record.write_text(json.dumps({"args": command, "returncode": process.returncode,
                                              "stdout": process.stdout, "stderr": process.stderr}))
        done[slug] = (process, root / path.stem)
        return done[slug]

    return run


@pytest.fixture(scope="module")
def worker_id(request):
    """pytest-xdist's worker name ("gw0", ...), or "master" without xdist."""
    return getattr(request.config, "workerinput", {}).get("workerid", "master")


@pytest.mark.parametrize("slug", list(existing_lessons()),
                         ids=lambda s: existing_lessons()[s].stem)
def test_lesson_runs_in_quick_mode(slug, run_lesson):
    entry = LESSON_CHECKS.get(slug)
    for needed in entry.needs if entry else ():
        process, _ = run_lesson(needed)
        assert process.returncode == 0, f"lesson {needed}, needed by lesson {slug}, failed"
    process, out = run_lesson(slug)
    assert process.returncode == 0, (
        f"python -m lessons {slug} --quick exited with {process.returncode}\n"
        f"--- stdout (end) ---\n{process.stdout[-3000:]}\n--- stderr (end) ---\n{process.stderr[-3000:]}")

    for figure in entry.figures if entry else ():
        path = out / f"{figure}.png"
        assert path.is_file(), f"lesson {slug} did not write {path.name}; it wrote " \
                               f"{sorted(p.name for p in out.iterdir())}"
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, f"{path} is not a real PNG"

    results_path = out / "results.json"
    assert results_path.is_file(), f"lesson {slug} did not save results.json (opts.save_json)"
    results = json.loads(results_path.read_text(encoding="utf-8"))
    # every lesson records how it ran (the answer lesson says which lessons ran quick and which full)
    assert results["mode"] == "quick" and results["seed"] == 0, {k: results.get(k) for k in ("mode", "seed")}
    if entry is not None:
        entry.check(results)
