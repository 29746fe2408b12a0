"""hw1.square: square_backward against the reference."""


def cases(rng):
    return [dict(name="square backward, (3, 4)", inputs=dict(x=rng.standard_normal((3, 4)),
                                                            g=rng.standard_normal((3, 4)))),
            dict(name="square backward, hidden", inputs=dict(x=rng.standard_normal(5),
                                                             g=rng.standard_normal(5)),
                 visibility="hidden")]


def run(case, params, arrays):
    from toygrad import square_backward
    return {"grad_x": square_backward(arrays["x"], arrays["g"])}
