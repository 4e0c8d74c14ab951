"""Transfer learning (lectures "Backward pass of a convolution layer" and
"Backpropagation from first principles"): reuse a network trained on a large dataset.

Train on a big source dataset, initialize the target network with those weights, then
either **finetune** (update all parameters) or **freeze** the feature layers and update
only the last one(s). Which to do depends on how much target data there is and how
similar it is to the source: the lecture's two-by-two table, ``transfer_strategy``.
``finetune_step`` is the SGD update with a set of frozen parameter names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["STRATEGIES", "finetune_step", "transfer_strategy"]

#: The four answers of the lecture's table, in reading order.
STRATEGIES = (
    "linear_classifier_on_top",  # very little data, similar dataset
    "finetune_few_layers",  # quite a lot of data, similar dataset
    "linear_classifier_from_earlier_layers",  # very little data, different dataset
    "finetune_many_layers",  # quite a lot of data, different dataset
)


def transfer_strategy(data_size: str, similarity: str) -> str:
    """The transfer-learning table of "Backpropagation from first principles".

    Args:
        data_size: ``"little"`` (10s to 100s of examples) or ``"lots"`` (100s to 1000s).
        similarity: ``"similar"`` or ``"different"``: the target dataset compared with the
            source (ImageNet in the lecture).

    Returns:
        little/similar ``"linear_classifier_on_top"``; lots/similar
        ``"finetune_few_layers"``; little/different
        ``"linear_classifier_from_earlier_layers"`` (the lecture's "you're in trouble...
        try linear classifier from different stages"); lots/different
        ``"finetune_many_layers"``.

    Raises:
        ValueError: any other data_size or similarity.
    """
    # BEGIN SOLUTION a3_cnns
    table = {
        ("little", "similar"): "linear_classifier_on_top",
        ("lots", "similar"): "finetune_few_layers",
        ("little", "different"): "linear_classifier_from_earlier_layers",
        ("lots", "different"): "finetune_many_layers",
    }
    try:
        return table[(data_size, similarity)]
    except KeyError:
        raise ValueError(f"data_size must be 'little' or 'lots' and similarity 'similar' or "
                         f"'different'; got {data_size!r}, {similarity!r}") from None
    # END SOLUTION


def finetune_step(
    params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], lr: float,
    frozen: Iterable[str] = (),
) -> dict[str, np.ndarray]:
    """One SGD step that leaves frozen parameters alone.

    Args:
        params: name -> array (any shapes), e.g. ``model.state_dict()``.
        grads: name -> gradient with the shape of ``params[name]``; needed for every
            name that is not frozen.
        lr: learning rate.
        frozen: names not to update (the frozen feature layers).

    Returns:
        A new dict with the same names: ``params[name] - lr * grads[name]`` for trainable
        names, a copy of ``params[name]`` for frozen ones. Neither input is modified.

    Raises:
        KeyError: a frozen name that is not a parameter (usually a typo that would
            silently train a layer meant to stay frozen).
    """
    # BEGIN SOLUTION a3_cnns
    frozen = set(frozen)
    unknown = frozen - set(params)
    if unknown:
        raise KeyError(f"frozen names {sorted(unknown)} are not parameters: {sorted(params)}")
    return {name: np.array(value, copy=True) if name in frozen else value - lr * grads[name]
            for name, value in params.items()}
    # END SOLUTION
