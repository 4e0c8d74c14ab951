"""cnnlib.data: the digits split, drawn shapes and shifted copies."""

import numpy as np
import pytest

import cnnlib as c

pytestmark = pytest.mark.nb05_training_a_cnn


DIGITS = 1797  # images in scikit-learn's bundled 8x8 digits


@pytest.fixture(scope="module")
def digits():
    return c.load_digits()


def test_digits_shapes_dtypes_and_sizes(digits):
    parts = [(digits.x_train, digits.y_train), (digits.x_val, digits.y_val),
             (digits.x_test, digits.y_test)]
    for x, y in parts:
        assert x.ndim == 4 and x.shape[1:] == (1, 8, 8) and x.dtype == np.float64
        assert y.shape == (len(x),) and y.dtype == np.int64
        assert set(np.unique(y)) == set(range(10))
    assert sum(len(y) for _, y in parts) == DIGITS
    assert len(digits.y_test) == round(0.15 * DIGITS) == len(digits.y_val)


def test_digits_are_normalised_with_training_statistics(digits):
    assert abs(digits.x_train.mean()) < 1e-9
    assert digits.x_train.std() == pytest.approx(1.0)
    assert abs(digits.x_test.mean()) < 0.1  # close, not exact: not its own statistics
    # background pixels (0 in the raw data) share one value everywhere
    assert digits.x_train.min() == digits.x_test.min() == digits.x_val.min()


def test_digits_split_is_stable_disjoint_and_seeded(digits):
    from sklearn.datasets import load_digits as raw

    images = raw().images
    again = c.load_digits()
    for name in ("x_train", "y_train", "x_val", "y_test"):
        np.testing.assert_array_equal(getattr(again, name), getattr(digits, name))
    other = c.load_digits(seed=1)
    assert not np.array_equal(other.y_test, digits.y_test)

    def rows(x):  # one affine map normalises every split, so equal rows are equal images
        return {tuple(np.round(r, 9)) for r in x.reshape(len(x), -1)}

    # the raw data holds a few exact duplicate images; only those may sit on both sides
    duplicates = DIGITS - len({img.tobytes() for img in images})
    shared = rows(digits.x_train) & (rows(digits.x_test) | rows(digits.x_val))
    assert len(shared) <= duplicates


def test_digits_fractions_are_honoured():
    split = c.load_digits(val_fraction=0.1, test_fraction=0.2, seed=3)
    assert len(split.y_val) == round(0.1 * DIGITS) and len(split.y_test) == round(0.2 * DIGITS)


def test_make_shapes_draws_each_glyph_at_its_position():
    x, y, positions = c.make_shapes(30, size=12, seed=1)
    assert x.shape == (30, 1, 12, 12) and y.shape == (30,) and positions.shape == (30, 2)
    assert set(np.unique(x)) <= {0.0, 1.0} and set(np.unique(y)) <= {0, 1, 2}
    for image, (r, col) in zip(x[:, 0], positions, strict=True):
        assert 0 <= r <= 12 - 5 and 0 <= col <= 12 - 5
        inside = image[r:r + 5, col:col + 5]
        assert inside.sum() == image.sum() > 0  # nothing drawn outside the 5x5 glyph
    # one glyph per class: the same shape looks the same wherever it is
    for label in range(3):
        crops = {x[i, 0, r:r + 5, col:col + 5].tobytes()
                 for i, (r, col) in enumerate(positions) if y[i] == label}
        assert len(crops) == 1
    x2, y2, p2 = c.make_shapes(30, size=12, seed=1)
    assert np.array_equal(x, x2) and np.array_equal(y, y2) and np.array_equal(positions, p2)


def test_make_shapes_classes_differ_and_bad_names_are_refused():
    x, y, positions = c.make_shapes(60, seed=0)
    glyphs = {}
    for i, (r, col) in enumerate(positions):
        glyphs[int(y[i])] = x[i, 0, r:r + 5, col:col + 5]
    assert len(glyphs) == 3
    assert not np.array_equal(glyphs[0], glyphs[1]) and not np.array_equal(glyphs[1], glyphs[2])
    with pytest.raises(ValueError):
        c.make_shapes(3, shapes=("circle",))


def test_shift_augment_moves_each_image_by_one_pixel():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = 5.0
    x_aug, y_aug = c.shift_augment(x, np.array([7]))
    assert x_aug.shape == (5, 1, 4, 4) and y_aug.tolist() == [7] * 5
    spots = [tuple(int(v) for v in np.argwhere(img[0] == 5.0)[0]) for img in x_aug]
    assert spots == [(1, 2), (2, 2), (0, 2), (1, 3), (1, 1)]
    # a pixel shifted off the edge does not wrap around: the background fills in
    edge = np.zeros((1, 1, 3, 3))
    edge[0, 0, 2, 0] = 1.0
    moved, _ = c.shift_augment(edge, np.array([0]))
    assert moved[1].sum() == 0 and moved[4].sum() == 0  # down and left push it out

