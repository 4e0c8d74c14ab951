"""Typical mistakes in a3_cnns's 07_tuning_and_transfer (grid and random search, learning
curves, the transfer table, the frozen SGD step)."""

from mistakes import Mistake

NB = "07_tuning_and_transfer"

GRID = "configs = [{**partial, name: value} for partial in configs for value in values]"
LOG_DRAW = """exponent = generator.uniform(np.log10(low), np.log10(high))
                trial[name] = float(np.clip(10.0 ** exponent, low, high))"""
TABLE = """    if similarity == "similar":
        return "linear_classifier_on_top" if data_size == "little" else "finetune_few_layers"
    if data_size == "little":
        return "linear_classifier_from_earlier_layers"
    return "finetune_many_layers\""""
TRANSPOSED = """    if similarity == "similar":
        return ("linear_classifier_on_top" if data_size == "little"
                else "linear_classifier_from_earlier_layers")
    if data_size == "little":
        return "finetune_few_layers"
    return "finetune_many_layers\""""
ORDER = """    if last_train < low:
        return "underfitting"  # it does not even fit what it sees
    if last_train - last_val > gap:
        return "overfitting"  # fits the training set, does not carry over"""
ORDER_SWAPPED = """    if last_train - last_val > gap:
        return "overfitting"
    if last_train < low:
        return "underfitting\""""

MISTAKES = [
    # grid_configs
    Mistake(NB, "grid_configs",
            "configs = [{}]\n    for name, values in space.items():",
            "return [dict(zip(space, combo)) for combo in zip(*space.values())]\n"
            "    configs = [{}]\n    for name, values in space.items():",
            ("zip",), "the value lists zipped instead of combined"),
    Mistake(NB, "grid_configs", GRID,
            "configs = [{**partial, name: value} for value in values for partial in configs]",
            ("first key varies fastest",), "the loops nested the wrong way round"),
    Mistake(NB, "grid_configs", GRID,
            "configs = [partial.update({name: value}) or partial for partial in configs "
            "for value in values]",
            ("same dict",), "one dict updated and appended for every value"),
    # random_configs
    Mistake(NB, "random_configs", LOG_DRAW,
            "trial[name] = float(generator.uniform(low, high))",
            ("uniform in the value",), "log scale drawn uniformly in the value"),
    Mistake(NB, "random_configs", LOG_DRAW,
            "exponent = generator.uniform(low, high)\n"
            "                trial[name] = float(10.0 ** exponent)",
            ("not between low and high themselves",), "the exponent drawn between low and high"),
    Mistake(NB, "random_configs", LOG_DRAW,
            "exponent = generator.uniform(np.log(low), np.log(high))\n"
            "                trial[name] = float(10.0 ** exponent)",
            ("same base",), "natural logarithm, then a power of 10"),
    Mistake(NB, "random_configs",
            "generator = np.random.default_rng(seed)\n    trials = []\n    for _ in range(n):",
            "trials = []\n    for _ in range(n):\n        generator = np.random.default_rng(seed)",
            ("distinct",), "a fresh generator for every configuration"),
    Mistake(NB, "random_configs", "generator = np.random.default_rng(seed)",
            "generator = np.random.default_rng()",
            ("same seed",), "the seed not used"),
    # diagnose_curves
    Mistake(NB, "diagnose_curves", "last_train, last_val = train_acc[-1], val_acc[-1]",
            "last_train, last_val = max(train_acc), max(val_acc)",
            ("final epoch counts",), "the best epoch instead of the last"),
    Mistake(NB, "diagnose_curves", ORDER, ORDER_SWAPPED,
            ("underfitting is checked first",), "the gap checked before underfitting"),
    Mistake(NB, "diagnose_curves", "if last_train - last_val > gap:",
            "if last_train - last_val >= gap:",
            ("use >, not >=",), ">= at the gap threshold"),
    Mistake(NB, "diagnose_curves", "if last_train < low:", "if last_train <= low:",
            ("not below low",), "<= at the low threshold"),
    Mistake(NB, "diagnose_curves", "if last_train < low:", "if last_train < 0.8:",
            ("low and gap arguments",), "the default threshold hard-coded"),
    # transfer_strategy
    Mistake(NB, "transfer_strategy", TABLE, TRANSPOSED,
            ("rows are data size",), "the table read with rows and columns swapped"),
    Mistake(NB, "transfer_strategy",
            'if data_size not in ("little", "lots") or similarity not in ("similar", '
            '"different"):\n        raise ValueError(f"unknown case: {data_size!r}, '
            '{similarity!r}")\n    ', "",
            ("ValueError",), "unknown cases not refused"),
    # finetune_step
    Mistake(NB, "finetune_step", "stepped[name] = value - lr * grads[name]",
            "value -= lr * grads[name]\n            stepped[name] = value",
            ("in place",), "the parameters updated in place"),
    Mistake(NB, "finetune_step", "stepped[name] = value.copy()", "stepped[name] = value",
            ("copies",), "frozen arrays returned, not copied"),
    Mistake(NB, "finetune_step", "stepped[name] = value - lr * grads[name]",
            "stepped[name] = value + lr * grads[name]",
            ("subtract",), "a step up the gradient"),
    Mistake(NB, "finetune_step",
            "stepped[name] = value.copy()  # a copy: later in-place edits must not reach params",
            "continue",
            ("every name",), "frozen names left out of the result"),
]
