"""The student edition computes no graded function of its assignment, or a later one,
under any name.

For each assignment's edition, every public function of every cnnlib module is called with
each graded function's arguments (in a child process that sees only the edition), and the
edition's modules are assembled into each graded layer (a Linear for affine, a Conv2d for
conv, a Residual block for residual_forward...). Whatever answers like the reference is a
way for a student to score without writing the code: the test names it.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import cnnlib
from autograder.assignments import ASSIGNMENTS, assignments_from, graded_names
from autograder.student_edition import build_student_cnnlib

pytestmark = pytest.mark.grader

ROOT = Path(__file__).resolve().parents[2]


def _samples() -> dict[str, tuple[tuple, dict]]:
    """Arguments for each graded function, backward passes with the reference's caches."""
    rng = np.random.default_rng(7)
    n = rng.normal
    x4, w4, b4 = n(size=(2, 3, 7, 6)), n(size=(4, 3, 3, 2)), n(size=4)
    conv_out, conv_cache = cnnlib.conv2d_forward(x4, w4, b4, stride=2, pad=1)
    xp = n(size=(2, 3, 6, 6))
    max_out, max_cache = cnnlib.maxpool2d_forward(xp, 2)
    avg_out, avg_cache = cnnlib.avgpool2d_forward(xp, 3, 1)
    xd, wd, bd = n(size=(3, 2, 2)), n(size=(4, 5)), n(size=5)
    aff_out, aff_cache = cnnlib.affine_forward(xd, wd, bd)
    xa = n(size=(3, 4))
    relu_out, relu_cache = cnnlib.relu_forward(xa)
    sig_out, sig_cache = cnnlib.sigmoid_forward(xa)
    xr = n(size=(2, 3, 5, 4))
    wr1, wr2 = 0.4 * n(size=(3, 3, 3, 3)), 0.4 * n(size=(3, 3, 3, 3))
    br1, br2 = n(size=3), n(size=3)
    res_out, res_cache = cnnlib.residual_forward(xr, wr1, br1, wr2, br2)
    inc = [n(size=(2, 3, 1, 1)), n(size=2), n(size=(4, 3, 3, 3)), n(size=4),
           n(size=(1, 3, 5, 5)), n(size=1)]
    inc_out, inc_cache = cnnlib.inception_forward(xr, *inc)
    w, dw, v, m = n(size=(3, 4)), n(size=(3, 4)), n(size=(3, 4)), n(size=(3, 4))
    return {
        "add_mul_graph": ((-2.0, 5.0, -4.0), {}),
        "sigmoid_neuron": (([2.0, -3.0, -3.0], [-1.0, -2.0]), {}),
        "relu_forward": ((xa,), {}),
        "relu_backward": ((n(size=relu_out.shape), relu_cache), {}),
        "sigmoid_forward": ((xa,), {}),
        "sigmoid_backward": ((n(size=sig_out.shape), sig_cache), {}),
        "affine_forward": ((xd, wd, bd), {}),
        "affine_backward": ((n(size=aff_out.shape), aff_cache), {}),
        "softmax_cross_entropy": ((n(size=(4, 5)), np.array([0, 3, 1, 4])), {}),
        "numerical_gradient": ((np.tanh, n(size=(3, 2)), n(size=(3, 2))), {}),
        "gate_needs_forward_values": ((), {}),
        "matmul_jacobian_entries": ((3, 5, 7), {}),
        "conv_output_size": ((227, 11), {"stride": 4, "pad": 0}),
        "cross_correlate2d": ((n(size=(5, 6)), n(size=(3, 2))), {}),
        "convolve2d": ((n(size=(5, 6)), n(size=(3, 2))), {}),
        "conv_params": ((3, (5, 3), 7), {}),
        "conv2d_forward_naive": ((x4, w4, b4), {"stride": 2, "pad": 1}),
        "conv2d_forward": ((x4, w4, b4), {"stride": 2, "pad": 1}),
        "conv2d_backward": ((n(size=conv_out.shape), conv_cache), {}),
        "maxpool2d_forward": ((xp, 2), {}),
        "maxpool2d_backward": ((n(size=max_out.shape), max_cache), {}),
        "avgpool2d_forward": ((xp, 3, 1), {}),
        "avgpool2d_backward": ((n(size=avg_out.shape), avg_cache), {}),
        "invariant_shifts": ((13, 5), {}),
        "sgd_momentum_update": ((w, dw, v), {"lr": 0.1, "momentum": 0.9}),
        "adam_update": ((w, dw, m, np.abs(v), 3), {"lr": 0.01}),
        "receptive_field": (([(3, 1), (3, 1), (2, 2), (5, 3)],), {}),
        "layer_table": (((3, 32, 32), [("conv", 8, 3, 1, 1), ("relu",), ("pool", 2, 2),
                                       ("fc", 10)]), {}),
        "residual_forward": ((xr, wr1, br1, wr2, br2), {}),
        "residual_backward": ((n(size=res_out.shape), res_cache), {}),
        "inception_forward": ((xr, *inc), {}),
        "inception_backward": ((n(size=inc_out.shape), inc_cache), {}),
        "grid_configs": (({"lr": [0.1, 0.01], "reg": [0.0, 1e-4, 1e-5]},), {}),
        "random_configs": (({"lr": (1e-4, 1e-1, "log"), "p": (0.1, 0.5, "linear")}, 5),
                           {"seed": 3}),
        "diagnose_curves": (([0.5, 0.9, 0.99], [0.5, 0.7, 0.72]), {}),
        "transfer_strategy": (("little", "different"), {}),
        "finetune_step": (({"w": w, "b": v[0]}, {"w": dw, "b": m[0]}, 0.1), {"frozen": ("b",)}),
    }


# Forward passes return (out, cache): only ``out`` is the answer.
FORWARDS = {"relu_forward", "sigmoid_forward", "affine_forward", "conv2d_forward_naive",
            "conv2d_forward", "maxpool2d_forward", "avgpool2d_forward", "residual_forward",
            "inception_forward"}
NOT_PROBED = {"Value": "a class: its operators are what 01 teaches, checked by the edition's "
                       "own stub test",
              "train_step": "takes a model and an optimizer: its assembly is checked by "
                            "test_training's edition tests"}

PROBE = r'''
import inspect, json, os, pickle, pkgutil, signal, sys, traceback
import numpy as np
import cnnlib

samples = pickle.load(open(sys.argv[1], "rb"))

def plain(value, depth=0):
    if depth > 6:
        return None
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(float).tolist() if value.size < 10**5 else None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    return None

def expire(*_):
    raise TimeoutError

signal.signal(signal.SIGALRM, expire)

def attempt(call):
    signal.alarm(3)
    try:
        return plain(call())
    except BaseException:
        return None
    finally:
        signal.alarm(0)
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")

functions = {}
for info in pkgutil.walk_packages(cnnlib.__path__, "cnnlib."):
    try:
        module = __import__(info.name, fromlist=["_"])
    except BaseException:
        continue
    for name, obj in vars(module).items():
        if (inspect.isfunction(obj) and not name.startswith("_")
                and obj.__module__ == module.__name__):
            functions[f"{module.__name__}.{name}"] = obj

found = {}
for graded, (args, kwargs) in samples.items():
    found[graded] = {}
    for qualified, function in functions.items():
        got = attempt(lambda: function(*args, **kwargs))
        if got is not None:
            found[graded][qualified] = got

def set_params(module, w, b):
    module.weight.data[...] = w
    module.bias.data[...] = b
    return module

def run_module(module, x, dout=None):
    out = module.forward(x)
    if dout is None:
        return out
    for p in module.parameters():
        p.grad[...] = 0
    dx = module.backward(dout)
    return [dx, *[p.grad for p in module.parameters()]]

M = cnnlib

def conv(w, b, stride=1, pad=0):
    return set_params(M.Conv2d(w.shape[1], w.shape[0], w.shape[2:], stride=stride, pad=pad), w, b)

def residual_block(w1, b1, w2, b2):
    return M.Sequential(M.Residual(M.Sequential(conv(w1, b1, pad=1), M.ReLU(),
                                                 conv(w2, b2, pad=1))), M.ReLU())

def inception_block(*weights):
    pairs = list(zip(weights[0::2], weights[1::2]))
    return M.Parallel(*[M.Sequential(conv(w, b, pad=w.shape[-1] // 2), M.ReLU())
                        for w, b in pairs])

def linear(w, b):
    return set_params(M.Linear(w.shape[0], w.shape[1]), w, b)

assemblies = {
    "affine_forward": lambda a: run_module(linear(a[1], a[2]), a[0]),
    "relu_forward": lambda a: run_module(M.ReLU(), a[0]),
    "sigmoid_forward": lambda a: run_module(M.Sigmoid(), a[0]),
    "conv2d_forward": lambda a: run_module(conv(a[1], a[2], 2, 1), a[0]),
    "maxpool2d_forward": lambda a: run_module(M.MaxPool2d(a[1]), a[0]),
    "avgpool2d_forward": lambda a: run_module(M.AvgPool2d(a[1], a[2]), a[0]),
    "residual_forward": lambda a: run_module(residual_block(*a[1:]), a[0]),
    "inception_forward": lambda a: run_module(inception_block(*a[1:]), a[0]),
}
for graded, build in assemblies.items():
    if graded not in samples:
        continue
    args, _ = samples[graded]
    got = attempt(lambda: build(args))
    if got is not None:
        found[graded]["modules assembled into " + graded] = got

print(json.dumps(found))
'''


def _plain(value):
    """The reference's answer in the probe's plain form."""
    if isinstance(value, np.ndarray):
        return value.astype(float).tolist()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _same(got, want) -> bool:
    if isinstance(want, float):
        return isinstance(got, float) and np.isclose(got, want, rtol=1e-9, atol=1e-12)
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return False
        try:
            a, b = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
            return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))
        except (ValueError, TypeError):
            return all(_same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(
            _same(got[k], want[k]) for k in want)
    return got == want


def _answer(name: str, args, kwargs):
    result = getattr(cnnlib, name)(*args, **kwargs)
    return _plain(result[0] if name in FORWARDS else result)


def _matches(name: str, got, want) -> bool:
    if _same(got, want):
        return True
    return name in FORWARDS and isinstance(got, list) and bool(got) and _same(got[0], want)


def _leaks(edition: Path, names: set[str]) -> list[str]:
    """'where answers name' for every public function or module assembly of the cnnlib
    package in ``edition`` that computes a graded function in ``names``."""
    samples = _samples()
    wanted = {name: samples[name] for name in sorted(names) if name in samples}
    (edition / "samples.pkl").write_bytes(pickle.dumps(wanted))
    stdlib = str(Path(os.__file__).parent)
    path = [str(edition), stdlib, f"{stdlib}/lib-dynload", sysconfig.get_paths()["purelib"]]
    boot = (f"import sys; sys.path[:] = {path!r}; sys.argv = ['probe', "
            f"{str(edition / 'samples.pkl')!r}]; exec(compile({PROBE!r}, 'probe', 'exec'))")
    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg", "HOME": str(edition),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-I", "-S", "-c", boot], capture_output=True,
                          text=True, timeout=600, env=env, cwd=edition)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    leaks = []
    for name, (args, kwargs) in wanted.items():
        want = _answer(name, args, kwargs)
        leaks += [f"{where} answers {name}" for where, got in found[name].items()
                  if _matches(name, got, want)]
    return leaks


def _graded_from(assignment: str) -> set[str]:
    graded = set()
    for name in assignments_from(assignment):
        graded |= set(graded_names(ROOT, name))
    unprobed = graded - set(_samples()) - set(NOT_PROBED)
    assert not unprobed, f"give the new graded functions sample arguments: {sorted(unprobed)}"
    return graded


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_edition_answers_no_graded_function(assignment, tmp_path):
    build_student_cnnlib(assignment, tmp_path)
    leaks = _leaks(tmp_path, _graded_from(assignment))
    assert leaks == [], f"the {assignment} student edition gives graded work away: {leaks}"


def test_the_probe_finds_what_the_unstripped_library_gives(tmp_path):
    """The check can fail: in the reference itself, the graded functions, their fast twins
    and the module assemblies all answer."""
    shutil.copytree(ROOT / "cnnlib", tmp_path / "cnnlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    leaks = _leaks(tmp_path, _graded_from(ASSIGNMENTS[0]))
    for expected in ("cnnlib.conv.conv2d_backward answers conv2d_backward",
                     "cnnlib.fast_layers.conv2d_backward_fast answers conv2d_backward",
                     "modules assembled into conv2d_forward answers conv2d_forward",
                     "cnnlib.transfer.transfer_strategy answers transfer_strategy"):
        assert expected in leaks
