"""check-isolation on the fixture project, in one run of two problems: hw2.affine is isolated,
hw1.tanh is made to lean on another region (its probe also calls hw1.square's function)."""
from conftest import copy_fixture

from homework.isolation import check_isolation


def test_isolation_check_tells_isolated_from_dependent_problems(tmp_path):
    root = copy_fixture(tmp_path / "project")
    probe = root / "homework" / "probes" / "hw1_tanh.py"
    text = probe.read_text()
    leaning = text.replace(
        '    return {"y": y, "grad_x": tanh_backward(arrays["g"], saved)}',
        '    from toygrad import square_backward\n'
        '    square_backward(arrays["x"], arrays["g"])            # leans on hw1.square\n'
        '    return {"y": y, "grad_x": tanh_backward(arrays["g"], saved)}')
    assert leaning != text
    probe.write_text(leaning)
    lines = []
    failures = check_isolation(root, only=["hw1.tanh", "hw2.affine"], jobs=3, report=lines.append)
    assert failures == ["hw1.tanh"]
    tanh, affine = lines
    # with only its own solution pasted, every case of hw1.tanh hits hw1.square's stub
    assert tanh.startswith("hw1.tanh") and "0.0 / 10" in tanh and "NOT ISOLATED" in tanh
    assert "not implemented" in tanh
    assert affine.startswith("hw2.affine") and "10.0 / 10" in affine and affine.endswith("ok")
