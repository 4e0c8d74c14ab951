"""cnnlib.plots: headless figures that never call plt.show."""

import numpy as np
import pytest

import cnnlib as c
from cnnlib import plots

pytestmark = pytest.mark.nb05_training_a_cnn


@pytest.fixture
def no_show(monkeypatch):
    import matplotlib.pyplot as plt

    def refuse(*args, **kwargs):
        raise AssertionError("plots must not call plt.show")

    monkeypatch.setattr(plt, "show", refuse)
    yield
    plt.close("all")


def _axes_with_images(fig):
    return [ax for ax in fig.axes if ax.images]


def test_plot_kernels_one_panel_per_filter(no_show):
    from matplotlib.figure import Figure

    fig = plots.plot_kernels(np.random.default_rng(0).standard_normal((10, 3, 3, 3)))
    assert isinstance(fig, Figure)
    assert len(_axes_with_images(fig)) == 10 and len(fig.axes) == 16  # a 2 x 8 grid


def test_plot_feature_maps_takes_the_first_example_of_a_batch(no_show):
    maps = np.random.default_rng(1).standard_normal((2, 5, 6, 6))
    assert len(_axes_with_images(plots.plot_feature_maps(maps))) == 5
    assert len(_axes_with_images(plots.plot_feature_maps(maps[0, :3]))) == 3


def test_plot_learning_curves_draws_loss_and_accuracies(no_show):
    history = c.History(loss=list(np.linspace(2.3, 0.1, 50)), train_acc=[0.5, 0.8, 0.9],
                        val_acc=[0.4, 0.7, 0.85])
    fig = plots.plot_learning_curves(history, window=10)
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), [0.4, 0.7, 0.85])
    without_val = plots.plot_learning_curves(c.History(loss=[1.0, 0.5], train_acc=[0.6]))
    assert len(without_val.axes[1].lines) == 1


def test_moving_average_by_hand():
    np.testing.assert_allclose(plots.moving_average([4, 2, 6, 8, 0], window=2),
                               [4, 3, 4, 7, 4])
    np.testing.assert_allclose(plots.moving_average([1, 2, 3], window=10), [1, 1.5, 2])


def test_save_figure_writes_a_png(no_show, tmp_path):
    fig = plots.plot_learning_curves(c.History(loss=[2.0, 1.0], train_acc=[0.5], val_acc=[0.4]))
    path = plots.save_figure(fig, tmp_path / "nested" / "curves.png")
    assert path == tmp_path / "nested" / "curves.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000

