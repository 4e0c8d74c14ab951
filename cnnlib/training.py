"""Training: one step (graded in 05), and a loop that records its history."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .init import as_rng
from .losses import softmax_cross_entropy
from .modules import Module

__all__ = ["History", "evaluate", "train", "train_step"]


def train_step(model: Module, x: np.ndarray, y: np.ndarray, optimizer) -> float:
    """One optimisation step on a batch; returns the loss before the update.

    zero the gradients, forward, softmax cross-entropy, backward, then the optimizer step.
    """
    # BEGIN SOLUTION a3_cnns
    optimizer.zero_grad()
    scores = model.forward(x)
    loss, dscores = softmax_cross_entropy(scores, y)
    model.backward(dscores)
    optimizer.step()
    return float(loss)
    # END SOLUTION


@dataclass
class History:
    """What a training run saw: loss per step, accuracies per epoch."""

    loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)


def evaluate(model: Module, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Accuracy of ``model`` on x (N, ...) with labels y (N,), in eval mode, batch by batch.

    The model's train/eval mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, len(y), batch_size):
        scores = model.forward(x[start:start + batch_size])
        correct += int((scores.argmax(axis=1) == y[start:start + batch_size]).sum())
    if was_training:
        model.train()
    return correct / len(y)


def _step(model: Module, x: np.ndarray, y: np.ndarray, optimizer) -> float:
    # Deliberately not train_step: a3 notebooks use train() while train_step is theirs to write.
    optimizer.zero_grad()
    loss, dscores = softmax_cross_entropy(model.forward(x), y)
    model.backward(dscores)
    optimizer.step()
    return float(loss)


def train(
    model: Module, optimizer, x_train: np.ndarray, y_train: np.ndarray, *, epochs: int,
    batch_size: int = 64, x_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
    rng=None, progress: bool = True,
) -> History:
    """Minibatch training with a shuffled order each epoch and a tqdm progress bar.

    Args:
        x_train: (N, ...) inputs the model accepts; y_train: (N,) int labels.
        epochs: passes over the data; each has ceil(N / batch_size) steps.
        x_val, y_val: optional held-out data, scored after every epoch.
        rng: Generator or seed for the shuffles.

    Returns:
        History with the loss of every step and train (and, given x_val, val) accuracy
        after each epoch.
    """
    from tqdm.auto import tqdm

    rng = as_rng(rng)
    history = History()
    steps = (len(y_train) + batch_size - 1) // batch_size
    bar = tqdm(total=epochs * steps, disable=not progress, desc="training", unit="step")
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(y_train))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            history.loss.append(_step(model, x_train[batch], y_train[batch], optimizer))
            # refresh=False: the bar redraws at tqdm's own pace, not once per step (logs stay
            # readable when stdout is not a terminal).
            bar.set_postfix(loss=f"{history.loss[-1]:.3f}", refresh=False)
            bar.update()
        history.train_acc.append(evaluate(model, x_train, y_train))
        if x_val is not None and y_val is not None:
            history.val_acc.append(evaluate(model, x_val, y_val))
    bar.close()
    return history
