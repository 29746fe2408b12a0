"""check-isolation on the fixture project, in one run of two problems: hw2.affine is isolated,
hw1.tanh is made to lean on another region (one of hw1.square's tests tagged hw1.tanh too)."""
from conftest import copy_fixture

from minigrad.homework.isolation import check_isolation


def test_isolation_check_tells_isolated_from_dependent_problems(tmp_path):
    root = copy_fixture(tmp_path / "project")
    tests = root / "tests" / "test_toy_ops.py"
    text = tests.read_text()
    tagged = '@pytest.mark.homework("hw1.square")\ndef test_square_backward_by_hand'
    assert tagged in text
    tests.write_text(text.replace(
        tagged, '@pytest.mark.homework("hw1.square", "hw1.tanh")\ndef test_square_backward_by_hand'))
    lines = []
    failures = check_isolation(root, only=["hw1.tanh", "hw2.affine"], jobs=3, report=lines.append)
    assert failures == ["hw1.tanh"]
    tanh, affine = lines
    # 2 of its 3 tests pass with only its own solution pasted: the third needs hw1.square
    assert tanh.startswith("hw1.tanh") and "6.7 / 10" in tanh and "NOT ISOLATED" in tanh
    assert affine.startswith("hw2.affine") and "10.0 / 10" in affine and affine.endswith("ok")
