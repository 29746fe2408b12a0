import textwrap

import pytest

from homework.markers import MarkerError, apply_stubs, make_stub, parse_file, parse_source


def src(text):
    return textwrap.dedent(text).lstrip("\n")


TANH = src('''
    def backward(ctx, grad):
        """Docstring quoting a marker is not a region:
        ### BEGIN SOLUTION hw9.not_a_region
        """
        ### BEGIN SOLUTION hw1.tanh
        ### TODO: grad (any shape) -> grad_x, same shape.
        ### d tanh(x)/dx = 1 - tanh(x)^2; use the saved y.
        (y,) = ctx.saved
        return grad * (1 - y * y)
        ### END SOLUTION


    def other(x):
        if x:
            ### BEGIN SOLUTION hw1.tanh
            return x + 1
            ### END SOLUTION
        return x
''')


def test_parse_regions_fields():
    first, second = parse_source(TANH, "ops.py")
    assert (first.task_id, first.path, first.begin_line, first.end_line) == ("hw1.tanh", "ops.py", 5, 10)
    assert first.indent == "    " and first.assignment == "hw1"
    assert first.todo == ("grad (any shape) -> grad_x, same shape.",
                          "d tanh(x)/dx = 1 - tanh(x)^2; use the saved y.")
    assert first.solution == ("    (y,) = ctx.saved", "    return grad * (1 - y * y)")
    # several regions may share a task id; a region without TODO has an empty hint
    assert (second.task_id, second.indent, second.todo, second.begin_line) == ("hw1.tanh", "        ", (), 15)


def test_make_stub_keeps_hint_and_raises_it():
    region = parse_source(TANH)[0]
    assert make_stub(region) == [
        "    # TODO: grad (any shape) -> grad_x, same shape.",
        "    #       d tanh(x)/dx = 1 - tanh(x)^2; use the saved y.",
        '    raise NotImplementedError("hw1.tanh: grad (any shape) -> grad_x, same shape. '
        'd tanh(x)/dx = 1 - tanh(x)^2; use the saved y.")',
    ]


def test_apply_stubs_gives_code_that_raises_the_hint():
    stubbed = apply_stubs(TANH, parse_source(TANH))
    assert "ctx.saved" not in stubbed and "x + 1" not in stubbed
    assert "### BEGIN SOLUTION hw9.not_a_region" in stubbed     # the docstring is untouched
    namespace = {}
    exec(compile(stubbed, "stubbed.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"hw1\.tanh: grad \(any shape\)"):
        namespace["backward"](None, 1.0)
    with pytest.raises(NotImplementedError, match="hw1.tanh: not written yet"):
        namespace["other"](1)
    assert namespace["other"](0) == 0          # code outside the region still runs


def test_stub_message_with_quotes_is_a_valid_literal():
    region = parse_source(src('''
        def f():
            ### BEGIN SOLUTION hw3.layer_norm
            ### TODO: use "eps" and a back\\slash
            return 1
            ### END SOLUTION
    '''))[0]
    namespace = {}
    exec("\n".join(["def f():", *make_stub(region)[-1:]]), namespace)
    with pytest.raises(NotImplementedError) as info:
        namespace["f"]()
    assert str(info.value) == 'hw3.layer_norm: use "eps" and a back\\slash'


@pytest.mark.parametrize("body, line, message", [
    ("    ### BEGIN SOLUTION hw1.a\n    x = 1\n", 2, "never closed"),
    ("    ### BEGIN SOLUTION hw1.a\n    x = 1\n    ### BEGIN SOLUTION hw1.b\n", 4, "do not nest"),
    ("    x = 1\n    ### END SOLUTION\n", 3, "without a BEGIN"),
    ("    ### BEGIN SOLUTION tanh\n    x = 1\n    ### END SOLUTION\n", 2, "bad task id 'tanh'"),
    ("    ### BEGIN SOLUTION hw1.Tanh\n    x = 1\n    ### END SOLUTION\n", 2, "bad task id"),
    ("    ### BEGIN SOLUTION hw1.a extra\n    x = 1\n    ### END SOLUTION\n", 2, "bad task id"),
    ("    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\n", 2, "needs a task id"),
    ("    ### BEGIN SOLUTION hw1.a\n    x = 1\n        ### END SOLUTION\n", 4, "same level"),
    ("    ### BEGIN YOUR SOLUTION\n    x = 1\n", 2, "unrecognised marker"),
    ("    ### BEGIN SOLUTION hw1.a\n    x = 1\n    ### END SOLUTION hw1.a\n", 4, "unrecognised"),
    ("    ### TODO: hint\n    x = 1\n", 2, "outside a region"),
    ("    ### BEGIN SOLUTION hw1.a\n    x = 1\n    ### TODO: late\n    ### END SOLUTION\n", 4,
     "must come directly after"),
    ("    ### BEGIN SOLUTION hw1.a\n    ### TODO: only a hint\n    ### END SOLUTION\n", 4,
     "no solution lines"),
    ("    if x:\n        ### BEGIN SOLUTION hw1.a\n        y = 1\n    z = 2\n        ### END SOLUTION\n",
     5, "indented less"),
])
def test_malformed_regions_name_file_and_line(body, line, message):
    with pytest.raises(MarkerError, match=rf"^mod\.py:{line}: .*{message}"):
        parse_source("def f(x):\n" + body, "mod.py")


def test_parse_file_of_the_fixture_project(fixture_root):
    regions = parse_file(fixture_root / "toygrad" / "affine.py", "toygrad/affine.py")
    assert [r.task_id for r in regions] == ["hw2.affine", "hw2.affine"]
    assert regions[0].todo_text == "dx, (N, D): one matrix product of dout and w."
