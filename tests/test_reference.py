"""The reference reproduces every number the course notes publish (CURRICULUM.md)."""
import numpy as np
import pytest
import torch

from conftest import COURSE, assignment
from grader.course.modules import import_course_module
from grader.judge.expected import Expected

_data = import_course_module(COURSE.root, "data")
LEAST_SQUARES_X, LEAST_SQUARES_Y = _data.LEAST_SQUARES_X, _data.LEAST_SQUARES_Y
notes_batches, notes_regression, sine_data = (_data.notes_batches, _data.notes_regression,
                                              _data.sine_data)


@pytest.fixture(scope="module")
def ref():
    e = Expected()
    return lambda folder: e.module(assignment(folder))


def test_full_batch_gd_reproduces_the_notes_to_the_last_digit(ref):
    X, y = notes_regression()
    path = ref("01_gradient_descent").gradient_descent(np.array([1.0, 1.5]), X, y, 0.2, 10)
    assert path[0].tolist() == [1.462128976503838, 1.70260448274778]
    assert path[9].tolist() == [2.013240136591026, 1.7579075228763736]


def test_minibatch_gd_reproduces_the_notes(ref):
    X, y = notes_regression()
    m = ref("01_gradient_descent")
    batches = m.make_batches(85, 32, np.random.RandomState(42))
    assert [b.tolist() for b in batches] == [b.tolist() for b in notes_batches()]
    path = m.minibatch_gd(np.array([1.0, 1.5]), X, y, 0.2, 10, batches)
    assert path[0].tolist() == [1.8396487079358765, 1.8350571390420554]


def test_closed_form_reproduces_the_notes(ref):
    b0, b1 = ref("05_models").closed_form(LEAST_SQUARES_X, LEAST_SQUARES_Y)
    assert (b0, b1) == (0.7824239351471718, 9.650293641652478)


@pytest.mark.parametrize("name", ["autograd_gd", "optimizer_gd"])
def test_tensor_trajectories_equal_the_numpy_ones(ref, name):
    X, y = notes_regression()
    numpy_path = ref("01_gradient_descent").gradient_descent(np.array([1.0, 1.5]), X, y, 0.2, 10)
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)
    torch_path = getattr(ref("02_autograd"), name)(t([1.0, 1.5]), t(X), t(y), 0.2, 10)
    np.testing.assert_allclose(torch_path.numpy(), numpy_path, rtol=0, atol=1e-12)


def test_train_model_with_lr_equals_the_numpy_trajectory(ref):
    X, y = notes_regression()
    m = ref("02_autograd")
    numpy_path = ref("01_gradient_descent").gradient_descent(np.array([1.0, 1.5]), X, y, 0.2, 10)
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)
    path = m.train_model(m.LR(), t(X), t(y), 0.2, 10)
    np.testing.assert_allclose(path.detach().numpy(), numpy_path, rtol=0, atol=1e-12)


def test_sine_fit_reaches_the_published_loss(ref):
    x, y = sine_data()
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)
    m = ref("04_custom_function")
    path = m.fit_sine(t(x), t(y), t([0.0, -1.0, 0.0, 0.3]), 5e-6, 2000)
    a, b, c, d = path[-1].tolist()
    loss = float(np.sum((a + b * 0.5 * (5 * (c + d * x) ** 3 - 3 * (c + d * x)) - y) ** 2))
    assert loss == pytest.approx(8.94, abs=0.01)
