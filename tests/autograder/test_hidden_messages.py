"""What the hidden tests tell a student: never an expected value, never a hidden input.

A failing hidden test's message reaches the student (feedback, Gradescope). With several
submissions allowed, a message that prints the reference's answer, or the random inputs,
lets a student tabulate answers instead of writing the code. Two independent checks:

- statically, a small taint analysis of every hidden file: names and expressions bound to
  ``cnnlib.*`` results ("reference"), to random draws ("input"), or compared with the
  student's result as its expected value ("expected": hard-coded literals and formulas)
  must not reach an assertion message, ``AssertionError(...)`` or ``pytest.fail(...)``
  (their shapes may: ``.shape``, ``len(...)`` and ``_checks.mismatch`` say nothing of the
  values). Only explicit flows are followed. Message text itself must not state an
  expected number ("expected 65");
- dynamically, every hidden test runs against wrong students (the reference with its
  results perturbed, zeroed, reversed, reshaped, or its kernels flipped) while every
  ``cnnlib`` result is recorded; no number in a message may render an expected value or a
  random input, unless the student's own code returned that number.

It also checks that the hidden inputs come from the run's seed (same seed, same inputs and
verdicts; another seed, other inputs), and that results of another numeric dtype (int,
bool, float32) are judged, never crash a hidden test.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import re
import sys
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import cnnlib
from autograder.grader.judge import verdict
from autograder.grader.sandbox import StudentError

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ROOT / "autograder" / "hidden"
HIDDEN_FILES = sorted(HIDDEN.glob("test_*.py"))
sys.path.insert(0, str(HIDDEN))
import _checks  # noqa: E402 - the hidden tests import it by this name

# --------------------------------------------------------------------------------------
# static: a flow-insensitive taint analysis of each hidden file
# --------------------------------------------------------------------------------------

SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype"}
SHAPE_CALLS = {"len", "type", "isinstance", "shape", "mismatch"}  # say nothing of values
COMPARISONS = {"close", "_near", "allclose", "isclose", "array_equal", "_states_close",
               "assert_allclose", "assert_array_equal"}
STUDENT = "student"  # a marker kind: the student's own result (never a leak)
STATED = re.compile(r"\b(expected|expect|the lecture has|should be|should give|gives)"
                    r"\s+(about\s+)?[-+]?(\d|\[\s*[-+\d])", re.IGNORECASE)


@dataclass(frozen=True)
class Taint:
    """What a value was computed from, with the structure of tuples and dicts kept so that
    ``for name, got, want in zip(names, grads, expected)`` taints only ``want``."""

    kinds: frozenset = frozenset()
    parts: tuple | None = None        # per position, for tuples and lists of known length
    element: Taint | None = None      # what iterating yields
    keys: frozenset = frozenset()     # a dict's keys
    values: Taint | None = None       # a dict's values

    def join(self, other: Taint) -> Taint:
        if self == other:
            return self
        parts = None
        if self.parts is not None and other.parts is not None and len(self.parts) == len(
                other.parts):
            parts = tuple(a.join(b) for a, b in zip(self.parts, other.parts, strict=True))
        return Taint(self.kinds | other.kinds, parts, _join(self.element, other.element),
                     self.keys | other.keys, _join(self.values, other.values))

    def items(self) -> Taint:
        """What iterating over this yields."""
        if self.element is not None:
            return self.element
        if self.values is not None:  # a dict: its keys
            return Taint(self.keys)
        if self.parts:
            out = self.parts[0]
            for part in self.parts[1:]:
                out = out.join(part)
            return out
        return Taint(self.kinds)

    def part(self, index: int, count: int) -> Taint:
        if self.parts is not None and len(self.parts) == count:
            return self.parts[index]
        return Taint(self.kinds)


def _cap(taint: Taint | None, depth: int = 4) -> Taint | None:
    """The structure down to ``depth`` levels, flat below (so the analysis settles)."""
    if taint is None:
        return None
    if depth == 0:
        return Taint(taint.kinds)
    parts = None if taint.parts is None else tuple(_cap(p, depth - 1) for p in taint.parts)
    return Taint(taint.kinds, parts, _cap(taint.element, depth - 1), taint.keys,
                 _cap(taint.values, depth - 1))


def _join(a: Taint | None, b: Taint | None) -> Taint | None:
    if a is None:
        return b
    return a if b is None else a.join(b)


CLEAN = Taint()


def _flat(kinds) -> Taint:
    return Taint(frozenset(kinds))


def _whole(parts) -> Taint:
    """A tuple or list display: its parts, and everything it holds."""
    parts = tuple(parts)
    kinds = frozenset().union(*(p.kinds for p in parts)) if parts else frozenset()
    element = None
    for part in parts:
        element = _join(element, part)
    return Taint(kinds, parts, element)


def _root(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _describes_shape(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute) and node.attr in SHAPE_ATTRIBUTES:
        return True
    if isinstance(node, ast.Subscript):
        return _describes_shape(node.value)
    if isinstance(node, ast.Call):
        return _callee(node) in SHAPE_CALLS
    return False


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _literal(node.operand)
    return isinstance(node, (ast.Tuple, ast.List)) and all(_literal(e) for e in node.elts)


class Scope:
    def __init__(self, node, parent: Scope | None) -> None:
        self.node, self.parent = node, parent
        self.names: dict[str, Taint] = {}
        self.expected: set[str] = set()       # ast.dump of expressions used as expected

    def lookup(self, name: str) -> Taint:
        found, scope = None, self
        while scope is not None:
            if name in scope.names:
                found = _join(found, scope.names[name])
            scope = scope.parent
        return CLEAN if found is None else found

    def expected_dumps(self) -> set[str]:
        dumps, scope = set(), self
        while scope is not None:
            dumps |= scope.expected
            scope = scope.parent
        return dumps


def _own_nodes(root):
    """The nodes of a function (or module) body, not those of functions defined inside."""
    stack = list(ast.iter_child_nodes(root))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


@dataclass
class Leak:
    line: int
    what: str
    kinds: list[str]


@dataclass
class Analysis:
    tree: ast.Module
    scopes: dict = field(default_factory=dict)
    functions: dict = field(default_factory=lambda: defaultdict(list))
    returns: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        module = Scope(self.tree, None)
        self.scopes[self.tree] = module

        def build(node, scope):
            for child in _own_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.functions[child.name].append(child)
                    self.scopes[child] = inner = Scope(child, scope)
                    build(child, inner)

        build(self.tree, module)

    # ---- evaluation -------------------------------------------------------------------
    def taint(self, node: ast.expr | None, scope: Scope) -> Taint:
        if node is None or isinstance(node, ast.Constant):
            return CLEAN
        if isinstance(node, ast.Name):
            if node.id == "student":
                return _flat({STUDENT})
            if node.id == "cnnlib":
                return _flat({"reference"})
            return scope.lookup(node.id)
        if isinstance(node, ast.Attribute):
            if node.attr in SHAPE_ATTRIBUTES:
                return CLEAN
            return self.taint(node.value, scope)
        if isinstance(node, ast.Subscript):
            value, index = self.taint(node.value, scope), self.taint(node.slice, scope)
            position = node.slice.value if isinstance(node.slice, ast.Constant) else None
            if isinstance(position, int) and value.parts is not None and (
                    -len(value.parts) <= position < len(value.parts)):
                picked = value.parts[position]
            elif value.values is not None:
                picked = value.values
            elif value.element is not None or value.parts is not None:
                picked = value.items()
            else:
                picked = _flat(value.kinds)
            return picked.join(_flat(index.kinds))
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, (ast.Tuple, ast.List)):
            return _whole(self.taint(e, scope) for e in node.elts)
        if isinstance(node, ast.Dict):
            keys = frozenset().union(*(self.taint(k, scope).kinds for k in node.keys if k))
            values = None
            for value in node.values:
                values = _join(values, self.taint(value, scope))
            values = CLEAN if values is None else values
            return Taint(keys | values.kinds, None, None, keys, values)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            element = self.taint(node.elt, scope)
            return Taint(element.kinds, None, element)
        if isinstance(node, ast.DictComp):
            keys, values = self.taint(node.key, scope), self.taint(node.value, scope)
            return Taint(keys.kinds | values.kinds, None, None, keys.kinds, values)
        if isinstance(node, ast.Lambda):
            return CLEAN  # a function: what calling it gives is judged where it is called
        if isinstance(node, ast.IfExp):
            return self.taint(node.body, scope).join(self.taint(node.orelse, scope))
        if isinstance(node, ast.Starred):
            return self.taint(node.value, scope)
        out = CLEAN  # operators, f-strings, comparisons: everything they are made of
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                out = out.join(_flat(self.taint(child, scope).kinds))
        return out

    def call(self, node: ast.Call, scope: Scope) -> Taint:
        func = node.func
        args = [self.taint(a, scope) for a in node.args]
        args += [self.taint(k.value, scope) for k in node.keywords]
        if _describes_shape(node):
            return CLEAN
        callee = self.taint(func, scope)
        if callee.kinds == {STUDENT}:
            return _flat({STUDENT})  # the student's function or method, called: theirs
        if _root(func) == "cnnlib":
            return _flat({"reference"})
        if isinstance(func, ast.Name) and func.id == "rng" or (
                isinstance(func, ast.Attribute) and "random" in ast.unparse(func).split(".")):
            return _flat({"input"})
        name = func.id if isinstance(func, ast.Name) else None
        if name == "redraw" and node.args and isinstance(node.args[0], ast.Lambda):
            return self.taint(node.args[0].body, scope)  # what make() draws
        if name in self.functions:
            out = None
            for definition in self.functions[name]:
                if definition in self.returns:
                    out = _join(out, self.returns[definition])
            return CLEAN if out is None else out
        if name == "zip":
            items = tuple(self.taint(a, scope).items() for a in node.args)
            return Taint(_whole(items).kinds, None, _whole(items))
        if name == "enumerate" and args:
            return Taint(args[0].kinds, None, _whole((CLEAN, args[0].items())))
        if name in ("list", "tuple", "sorted", "reversed", "iter") and len(args) == 1:
            return Taint(args[0].kinds, None, args[0].items())
        if name == "next" and args:
            return args[0].items().join(args[1]) if len(args) > 1 else args[0].items()
        if isinstance(func, ast.Attribute) and func.attr in ("items", "values", "keys"):
            owner = self.taint(func.value, scope)
            values = owner.values or Taint(owner.kinds)
            keys = Taint(owner.keys)
            element = {"items": _whole((keys, values)), "values": values, "keys": keys}
            return Taint(owner.kinds, None, element[func.attr])
        out = _flat(callee.kinds)
        for arg in args:
            out = out.join(_flat(arg.kinds))
        return out

    # ---- binding ----------------------------------------------------------------------
    def bind(self, target: ast.expr, value: Taint, scope: Scope) -> bool:
        if isinstance(target, ast.Name):
            value = _cap(value)
            old = scope.names.get(target.id)
            new = value if old is None else old.join(value)
            scope.names[target.id] = new
            return new != old
        if isinstance(target, (ast.Tuple, ast.List)):
            count = len(target.elts)
            return any([self.bind(t, value.part(i, count), scope)
                        for i, t in enumerate(target.elts)])
        if isinstance(target, ast.Starred):
            return self.bind(target.value, Taint(value.kinds, None, value.items()), scope)
        if isinstance(target, ast.Subscript):  # d["name"] = value, a[i] = value
            key = self.taint(target.slice, scope)
            kinds = value.kinds | key.kinds
            if isinstance(target.slice, (ast.Constant, ast.JoinedStr)) and not isinstance(
                    getattr(target.slice, "value", ""), int):  # a dict with named entries
                return self.bind(target.value, Taint(kinds, None, None, key.kinds,
                                                     _flat(value.kinds)), scope)
            return self.bind(target.value, _flat(kinds), scope)
        return False

    def step(self, scope: Scope) -> bool:
        """One pass over a scope's statements; whether anything changed."""
        changed = False
        node = scope.node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            changed |= self.bind_parameters(node, scope)
        returned = self.returns.get(node)
        for child in _own_nodes(node):
            if isinstance(child, ast.Assign):
                value = self.taint(child.value, scope)
                for target in child.targets:
                    changed |= self.bind(target, value, scope)
            elif isinstance(child, (ast.AnnAssign, ast.AugAssign)) and child.value is not None:
                changed |= self.bind(child.target, self.taint(child.value, scope), scope)
            elif isinstance(child, (ast.For, ast.comprehension)):
                changed |= self.bind(child.target, self.taint(child.iter, scope).items(), scope)
            elif isinstance(child, ast.withitem) and child.optional_vars is not None:
                changed |= self.bind(child.optional_vars,
                                     self.taint(child.context_expr, scope), scope)
            elif isinstance(child, ast.NamedExpr):
                changed |= self.bind(child.target, self.taint(child.value, scope), scope)
            elif isinstance(child, ast.Return) and child.value is not None:
                returned = _join(returned, self.taint(child.value, scope))
            elif isinstance(child, ast.Call):
                changed |= self.mutation(child, scope)
            if isinstance(child, (ast.Compare, ast.Call, ast.BinOp)):
                changed |= self.mark_expected(child, scope)
        if returned is not None and returned != self.returns.get(node):
            self.returns[node] = returned
            changed = True
        return changed

    def mutation(self, node: ast.Call, scope: Scope) -> bool:
        """list.append(x) and friends put x into the list."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("append", "extend", "add",
                                                             "insert", "update"):
            if isinstance(func.value, ast.Name) and node.args:
                value = self.taint(node.args[-1], scope)
                if func.attr in ("extend", "update"):
                    value = value.items()
                return self.bind(func.value, Taint(value.kinds, None, value), scope)
        changed = False
        if isinstance(func, ast.Name) and func.id in self.functions:
            for definition in self.functions[func.id]:
                changed |= self.pass_arguments(definition, node, scope)
        return changed

    def pass_arguments(self, definition, node: ast.Call, scope: Scope) -> bool:
        inner = self.scopes[definition]
        params = definition.args
        positional = [a.arg for a in params.posonlyargs + params.args]
        changed = False
        for i, arg in enumerate(node.args):
            value = self.taint(arg, scope)
            if isinstance(arg, ast.Starred):
                for name in positional[i:]:
                    changed |= self.bind(ast.Name(name), _flat(value.kinds), inner)
                if params.vararg:
                    changed |= self.bind(ast.Name(params.vararg.arg),
                                         Taint(value.kinds, None, value.items()), inner)
            elif i < len(positional):
                changed |= self.bind(ast.Name(positional[i]), value, inner)
            elif params.vararg:
                changed |= self.bind(ast.Name(params.vararg.arg),
                                     Taint(value.kinds, None, value), inner)
        for keyword in node.keywords:
            value = self.taint(keyword.value, scope)
            names = {a.arg for a in params.args + params.kwonlyargs}
            if keyword.arg in names:
                changed |= self.bind(ast.Name(keyword.arg), value, inner)
            elif params.kwarg:
                changed |= self.bind(ast.Name(params.kwarg.arg),
                                     Taint(value.kinds, None, None, frozenset(), value), inner)
            else:
                for name in positional + [a.arg for a in params.kwonlyargs]:
                    changed |= self.bind(ast.Name(name), _flat(value.kinds), inner)
        return changed

    def bind_parameters(self, definition, scope: Scope) -> bool:
        """Defaults count as arguments (``def f(v, i=i)`` inside a loop)."""
        params = definition.args
        changed = False
        defaults = list(zip(reversed(params.args), reversed(params.defaults), strict=False))
        defaults += [(a, d) for a, d in zip(params.kwonlyargs, params.kw_defaults,
                                            strict=True) if d is not None]
        for arg, default in defaults:
            changed |= self.bind(ast.Name(arg.arg), self.taint(default, scope.parent), scope)
        return changed

    def mark_expected(self, node: ast.expr, scope: Scope) -> bool:
        """In a comparison of the student's result with something else, that something
        is the expected value: its name, and its expression, are tainted "expected"."""
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            pairs = list(zip(operands, operands[1:], strict=False))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
            pairs = [(node.left, node.right)]
        elif isinstance(node, ast.Call) and _callee(node) in COMPARISONS and len(node.args) >= 2:
            pairs = [(node.args[0], node.args[1])]
        else:
            return False
        changed = False
        for a, b in pairs:
            for got, want in ((a, b), (b, a)):
                if _describes_shape(got) or _describes_shape(want) or _literal(want):
                    continue
                if STUDENT in self.taint(got, scope).kinds and STUDENT not in self.taint(
                        want, scope).kinds:
                    scope.expected.add(ast.dump(want))
                    if isinstance(want, ast.Name):
                        changed |= self.bind(want, _flat({"expected"}), scope)
        return changed

    def run(self) -> None:
        for _ in range(100):
            if not any([self.step(scope) for scope in self.scopes.values()]):
                return
        raise AssertionError("the taint analysis did not settle")

    # ---- messages ---------------------------------------------------------------------
    def messages(self):
        """(scope, message) of every assert, raise X(message) and pytest.fail(message): a
        failed assertion's message is the feedback, and any other exception's text is
        shown too."""
        for scope in self.scopes.values():
            for node in _own_nodes(scope.node):
                if isinstance(node, ast.Assert) and node.msg is not None:
                    yield scope, node.msg
                elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and (
                        node.exc.args):
                    yield scope, node.exc.args[0]
                elif isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in (
                        "pytest.fail", "fail"):
                    yield scope, node.args[0]

    def leaks(self) -> list[Leak]:
        self.run()
        found = []
        for scope, message in self.messages():
            kinds = set(self.taint(message, scope).kinds) - {STUDENT}
            dumps = scope.expected_dumps()
            stack = [message]
            while stack:  # an expected expression itself, where its value flows
                node = stack.pop()
                if _describes_shape(node) or isinstance(node, ast.Compare) or (
                        isinstance(node, ast.Call) and _callee(node) in COMPARISONS):
                    continue
                if isinstance(node, ast.IfExp):
                    stack += [node.body, node.orelse]
                    continue
                if isinstance(node, ast.expr) and not isinstance(node, ast.Name) and (
                        ast.dump(node) in dumps):
                    kinds.add("expected")
                stack.extend(ast.iter_child_nodes(node))
            if kinds:
                found.append(Leak(message.lineno, ast.unparse(message)[:120], sorted(kinds)))
        return found


def _stated_values(tree: ast.Module) -> list[tuple[int, str]]:
    """String constants (not docstrings) that state an expected number in words."""
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr)
                  and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docstrings and STATED.search(n.value)]


@pytest.mark.parametrize("path", HIDDEN_FILES, ids=lambda p: p.stem)
def test_no_message_is_built_from_an_expected_value_or_a_hidden_input(path):
    tree = ast.parse(path.read_text())
    leaks = Analysis(tree).leaks()
    assert not leaks, "\n".join(f"{path.name}:{leak.line}: {', '.join(leak.kinds)}: "
                                f"{leak.what}" for leak in leaks)
    stated = _stated_values(tree)
    assert not stated, "\n".join(f"{path.name}:{line}: states a value: {text!r}"
                                 for line, text in stated)


@pytest.mark.parametrize("path", HIDDEN_FILES, ids=lambda p: p.stem)
def test_random_inputs_are_drawn_per_run_inside_the_tests(path):
    """Every random draw goes through ``_checks.rng`` inside a function: nothing from a
    fixed seed, nothing drawn at import time (the grader sets the seed after importing)."""
    tree = ast.parse(path.read_text())
    text = path.read_text()
    direct = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and (
        n.attr in ("random", "default_rng", "RandomState", "seed"))]
    assert not direct, (
        f"{path.name}:{direct[0]} draws from numpy's random module directly; use "
        "_checks.rng(stream)")
    module_level = [n for n in _own_nodes(tree) if isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Name) and n.func.id == "rng"]
    assert not module_level, f"{path.name}:{module_level[0].lineno}: rng(...) at import time"
    assert "import cnnlib" in text and not re.search(r"from cnnlib(\.\w+)* import", text), (
        f"{path.name}: use cnnlib.<name> (the checks here follow cnnlib by that name)")


ANALYSIS_EXAMPLE = """
def helper(student, got, want, numbers):
    assert close(got, want), f"{numbers}"  # leaks: input
    hints = {"flipped": 2 * want, "summed": want.sum()}
    for hint, wrong in hints.items():
        if close(got, wrong):
            raise AssertionError(f"your {got}: {hint}")
    for key in hints:
        assert key, f"{key}"


def test(student):
    r = rng(1)
    x = r.normal(size=3)
    want = cnnlib.f(x)
    got = student.f(x)
    lecture = [0.2, 0.4]
    terminal = 2 * x
    helper(student, got, want, x)
    for name, mine, ref in zip(("a", "b"), (got, got), (want, want), strict=True):
        assert close(mine, ref), f"{name} is wrong ({mismatch(mine, ref)}, {ref.shape})"
    for i, value in enumerate(want):
        assert value, f"entry {i}: {value}"  # leaks: expected, reference
    assert close(got, lecture), f"got {got}, expected {lecture}"  # leaks: expected
    assert close(got, terminal), f"about {terminal}"  # leaks: expected, input
    assert close(got, want), f"{want}"  # leaks: expected, reference
    assert close(got, 3 * x), f"not {3 * x}"  # leaks: expected, input
    assert got.shape == want.shape, f"{got.shape} vs {np.shape(want)} for x {x.shape}"
    assert close(got, 0), "zero" + (" here" if close(want, 0 * x) else "")
    drawn = redraw(lambda: r.normal(), lambda v: v > 0)
    assert got, f"{drawn}"  # leaks: input
    hint = f"it should be {want[0]:.3f}"
    pytest.fail(f"x = {x.shape}: {hint}")  # leaks: expected, reference
    raise ValueError(f"{x}")  # leaks: input
"""


def test_the_analysis_finds_what_it_should():
    """The static check itself, on an example: each kind of leak is found (the lines marked
    ``# leaks: ...``), and what is allowed is not (the other messages)."""
    want = sorted((number, sorted(line.split("# leaks: ")[1].split(", ")))
                  for number, line in enumerate(ANALYSIS_EXAMPLE.splitlines(), start=1)
                  if "# leaks: " in line)
    leaks = Analysis(ast.parse(ANALYSIS_EXAMPLE)).leaks()
    assert sorted((leak.line, leak.kinds) for leak in leaks) == want
    assert [line for line, _ in _stated_values(ast.parse(
        'def f():\n    assert x, "expected 65"\n    assert y, "expected (2, 3) as x"\n'))] == [2]


# --------------------------------------------------------------------------------------
# dynamic: wrong students, recorded expected values, and the numbers in the messages
# --------------------------------------------------------------------------------------

ORIGINAL = {name: getattr(cnnlib, name) for name in dir(cnnlib)
            if not name.startswith("_") and callable(getattr(cnnlib, name))
            and not isinstance(getattr(cnnlib, name), type)}
ORIGINAL_VALUE = cnnlib.Value
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])")


def _scalar(value) -> bool:
    return value is None or isinstance(value, (int, float, str, np.integer, np.floating))


class Numbers:
    """Numbers seen during a run, to look tokens of messages up in."""

    def __init__(self) -> None:
        self.floats: list[np.ndarray] = []
        self.ints: set[int] = set()
        self.strings: set[str] = set()
        self.reprs: set[str] = set()

    def add(self, value, depth: int = 0) -> None:
        if depth > 6 or value is None or isinstance(value, (bool, np.bool_)):
            return
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "iuf" and value.size:
                flat = value.astype(np.float64).ravel()
                self.floats.append(flat)
                whole = flat[np.isfinite(flat) & (flat == np.round(flat)) & (np.abs(flat) < 2**53)]
                self.ints.update(abs(int(v)) for v in whole[:10000])
        elif isinstance(value, (int, np.integer)):
            self.ints.add(abs(int(value)))
            self.floats.append(np.array([float(value)]))
        elif isinstance(value, (float, np.floating)):
            self.add(np.array([float(value)]), depth)
        elif isinstance(value, str):
            self.strings.add(value)
        elif isinstance(value, (tuple, list)):
            if value and len(value) < 50 and all(map(_scalar, value)):
                self.reprs.add(repr(tuple(value)))
                self.reprs.add(repr(list(value)))
            for item in value:
                self.add(item, depth + 1)
        elif isinstance(value, dict):
            if len(value) < 50 and all(map(_scalar, value.values())):
                self.reprs.add(repr(value))
            for item in value.values():
                self.add(item, depth + 1)
        elif isinstance(value, ORIGINAL_VALUE):
            self.add(value.data, depth + 1)
            self.add(value.grad, depth + 1)

    def sorted_magnitudes(self) -> np.ndarray:
        if not self.floats:
            return np.zeros(0)
        values = np.abs(np.concatenate(self.floats))
        return np.unique(values[np.isfinite(values)])


def _near(sorted_values: np.ndarray, value: float, half: float) -> bool:
    i = np.searchsorted(sorted_values, value - half * 1.0001)
    return i < len(sorted_values) and sorted_values[i] <= value + half * 1.0001


def _secret_numbers(message: str, secret: Numbers, secret_sorted: np.ndarray, own: Numbers,
                    own_sorted: np.ndarray, structure: Numbers) -> list[str]:
    """Numbers in ``message`` that render a secret value and not one of the student's."""
    found = []
    for token in NUMBER.findall(message):
        plain = token.replace(",", "")
        if "." in plain or "e" in plain.lower():
            mantissa, _, exponent = plain.lower().partition("e")
            digits = mantissa.replace(".", "").lstrip("0")
            if len(digits) < 4:
                continue  # 0.5, 2.5, 1e-06: too short to say which number it renders
            decimals = len(mantissa.partition(".")[2])
            half = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
            value = float(plain)
            if _near(secret_sorted, value, half) and not _near(own_sorted, value, half):
                found.append(token)
        else:  # a whole number: a whole-number result (a size, a count, a parameter total)
            value = int(plain)
            if value >= 100 and value in secret.ints and value not in own.ints | structure.ints:
                found.append(token)
    for text in secret.strings:
        if len(text) >= 4 and repr(text) in message and text not in own.strings:
            found.append(repr(text))
    for text in secret.reprs - own.reprs - structure.reprs:
        if len(text) >= 8 and text in message:
            found.append(text)
    return found


# ---- wrong students ------------------------------------------------------------------

def _perturbed(value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "b":
            return ~value
        return value * 1.001 + (1e-3 if value.dtype.kind == "f" else 1)
    if isinstance(value, (bool, np.bool_)):
        return not value
    if isinstance(value, (int, np.integer)):
        return int(value) + 1
    if isinstance(value, (float, np.floating)):
        return float(value) * 1.001 + 1e-3
    if isinstance(value, str):
        return value + "?"
    return value


def _zeros(value):
    if isinstance(value, np.ndarray):
        return np.zeros_like(value)
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return 0
    if isinstance(value, (float, np.floating)):
        return 0.0
    if isinstance(value, str):
        return ""
    return value


def _reversed(value):
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(np.flip(value))
    if isinstance(value, (float, np.floating, int, np.integer)) and not isinstance(
            value, (bool, np.bool_)):
        return -value
    if isinstance(value, str):
        return value[::-1]
    return value


def _reshaped(value):
    if isinstance(value, np.ndarray):
        return value.ravel()[:-1] if value.size > 1 else np.zeros(2, dtype=value.dtype)
    if isinstance(value, (float, np.floating)):
        return [float(value), float(value)]
    return value


def _as(dtype):
    def cast(value):
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            return value != 0 if dtype is bool else value.astype(dtype)
        return value

    return cast


def _flip_kernels(name, args):
    """The arguments of conv-like functions with every weight array's kernel flipped."""
    if not any(word in name for word in ("conv2d", "residual", "inception")):
        return args
    return tuple(np.ascontiguousarray(a[..., ::-1, ::-1])
                 if i and isinstance(a, np.ndarray) and a.ndim >= 2 else a
                 for i, a in enumerate(args))


MUTANTS = {"perturbed": _perturbed, "zeros": _zeros, "reversed": _reversed,
           "reshaped": _reshaped, "flipped": None}
DTYPES = {"int": _as(np.int64), "bool": _as(bool), "float32": _as(np.float32)}


def _mutate(value, mutate, depth: int = 0):
    if depth > 4:
        return value
    if isinstance(value, tuple):
        return tuple(_mutate(v, mutate, depth + 1) for v in value)
    if isinstance(value, list):
        return [_mutate(v, mutate, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _mutate(v, mutate, depth + 1) for k, v in value.items()}
    return mutate(value)


class WrongValue:
    """A ``Value`` whose ``data`` and ``grad`` read back mutated."""

    def __init__(self, data=0.0, *, inner=None, mutate=None, run=None) -> None:
        self._inner = inner if inner is not None else ORIGINAL_VALUE(data)
        self._mutate, self._run = mutate, run

    def _wrap(self, inner):
        return WrongValue(inner=inner, mutate=self._mutate, run=self._run)

    @staticmethod
    def _unwrap(other):
        return other._inner if isinstance(other, WrongValue) else other

    def _read(self, value):
        value = self._mutate(value)
        self._run.own.add(value)
        return value

    data = property(lambda self: self._read(self._inner.data))
    grad = property(lambda self: self._read(self._inner.grad))

    def backward(self):
        self._inner.backward()

    def zero_grad(self):
        self._inner.zero_grad()

    def exp(self):
        return self._wrap(self._inner.exp())

    def sigmoid(self):
        return self._wrap(self._inner.sigmoid())

    def relu(self):
        return self._wrap(self._inner.relu())

    def max(self, other):
        return self._wrap(self._inner.max(self._unwrap(other)))

    def __neg__(self):
        return self._wrap(-self._inner)


def _binary(name):
    def op(self, other):
        return self._wrap(getattr(self._inner, name)(self._unwrap(other)))

    return op


for _op in ("add", "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "pow"):
    setattr(WrongValue, f"__{_op}__", _binary(f"__{_op}__"))


class WrongStudent:
    """The reference, as the proxy returns it, with every result (not caches) mutated."""

    def __init__(self, kind: str, mutate, run) -> None:
        self._kind, self._mutate, self._run = kind, mutate, run

    def __getattr__(self, name):
        if name == "Value":
            if self._mutate is None:
                return ORIGINAL_VALUE
            return lambda data=0.0: WrongValue(data, mutate=self._mutate, run=self._run)
        if name not in ORIGINAL:
            return getattr(cnnlib, name)  # classes (models, optimizers), constants: as they are
        if self._kind == "flipped" and name in ("cross_correlate2d", "convolve2d"):
            name = {"cross_correlate2d": "convolve2d", "convolve2d": "cross_correlate2d"}[name]
        target = ORIGINAL[name]

        def call(*args, **kwargs):
            self._run.note_inputs(args, kwargs)
            if self._kind == "flipped":
                args = _flip_kernels(name, args)
            try:
                result = target(*args, **kwargs)
            except Exception as error:  # as the proxy reports the student's errors
                raise StudentError({"type": type(error).__name__, "message": str(error)}) \
                    from None
            result = _plain(result)
            if self._mutate is not None:
                if name.endswith("_forward") and isinstance(result, tuple) and len(result) == 2:
                    result = (_mutate(result[0], self._mutate), result[1])
                else:
                    result = _mutate(result, self._mutate)
            self._run.own.add(result)
            return result

        def map_calls(calls, pick=None):  # the proxy's one-round-trip batch, call by call
            results = [call(*args, **kwargs) for args, kwargs in calls]
            return [r[pick] if pick is not None else r for r in results]

        call.map = map_calls
        return call


def _plain(value):
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True, subok=False)
    if isinstance(value, tuple):
        return tuple(v if isinstance(v, (tuple, list, dict)) else _plain(v) for v in value)
    return value


class Run:
    """One pass of every hidden test against one wrong student, recording numbers."""

    def __init__(self) -> None:
        self.secret, self.own, self.structure = Numbers(), Numbers(), Numbers()

    def note_inputs(self, args, kwargs) -> None:
        for value in (*args, *kwargs.values()):
            self._input(value)

    def _input(self, value, depth: int = 0) -> None:
        if depth > 4:
            return
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            fractional = value[np.isfinite(value) & (value != np.round(value))]
            self.secret.add(fractional)
        elif isinstance(value, (float, np.floating)) and value != round(value):
            self.secret.add(float(value))
        elif isinstance(value, (tuple, list, dict)):
            self.structure.add(value)
            for item in value.values() if isinstance(value, dict) else value:
                self._input(item, depth + 1)
        else:
            self.structure.add(value)


def _hidden_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"hidden_messages_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hidden_modules():
    return {path.stem: _hidden_module(path) for path in HIDDEN_FILES}


def _tests(module):
    return [(name, function) for name, function in vars(module).items()
            if name.startswith("test") and callable(function)]


@pytest.fixture
def recording(monkeypatch):
    """Record every cnnlib result the hidden tests compute (the expected values)."""
    holder: dict[str, Run] = {}

    def wrap(name, function):
        def recorded(*args, **kwargs):
            result = function(*args, **kwargs)
            holder["run"].secret.add(result)
            return result

        return recorded

    for name, function in ORIGINAL.items():
        monkeypatch.setattr(cnnlib, name, wrap(name, function))
    backward = ORIGINAL_VALUE.backward

    def recorded_backward(self):
        backward(self)
        seen, stack = set(), [self]
        while stack:
            node = stack.pop()
            if id(node) not in seen:
                seen.add(id(node))
                holder["run"].secret.add(node.data)
                holder["run"].secret.add(node.grad)
                stack.extend(node._children)

    monkeypatch.setattr(ORIGINAL_VALUE, "backward", recorded_backward)
    return holder


def _run_all(modules, student_factory, holder, seed):
    """{(file, test): (status, message, Run)} for every hidden test, as the judge runs them
    (warnings ignored, every ending a verdict), with inputs drawn from ``seed``."""
    results = {}
    before = _checks.run_seed()
    _checks.use_seed(seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for stem, module in modules.items():
                for name, function in _tests(module):
                    run = holder["run"] = Run()
                    try:
                        function(student_factory(run))
                        error = None
                    except (Exception, pytest.fail.Exception) as raised:  # noqa: BLE001
                        error = raised
                    results[(stem, name)] = (*verdict(error), run)
    finally:
        _checks.use_seed(before)
    return results


@pytest.mark.parametrize("kind", list(MUTANTS))
def test_messages_to_wrong_students_hold_no_expected_value_or_input(kind, hidden_modules,
                                                                    recording):
    leaks, failed = [], 0
    for seed in (11 + list(MUTANTS).index(kind), 21):
        results = _run_all(hidden_modules, lambda run: WrongStudent(kind, MUTANTS[kind], run),
                           recording, seed)
        for (stem, name), (status, message, run) in results.items():
            failed += status != "passed"
            secret, own = run.secret.sorted_magnitudes(), run.own.sorted_magnitudes()
            found = _secret_numbers(message, run.secret, secret, run.own, own, run.structure)
            if found:
                leaks.append(f"{stem}::{name} (seed {seed}): {found[:3]} in {message!r}")
    assert failed, f"the {kind} student failed no hidden test: the check saw no message"
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("kind", list(DTYPES))
def test_results_of_another_dtype_are_judged_never_crash_a_hidden_test(kind, hidden_modules,
                                                                      recording):
    """The reference's float results returned as ints, bools or float32: each hidden test
    passes or fails with a message; none errors in its own arithmetic (``bool - bool``)."""
    results = _run_all(hidden_modules, lambda run: WrongStudent(kind, DTYPES[kind], run),
                       recording, _checks.run_seed())
    crashed = [f"{stem}::{name}: {message}"
               for (stem, name), (status, message, _) in results.items() if status == "error"]
    assert not crashed, "\n".join(crashed)
    if kind == "float32":  # float32 rounding is inside every tolerance but the exact ones
        passed = sum(status == "passed" for status, _, _ in results.values())
        assert passed > len(results) / 2


def test_the_same_seed_gives_the_same_inputs_and_verdicts_another_seed_other_inputs(
        hidden_modules, recording):
    """A wrong student graded twice under one seed sees the same inputs, verdicts and
    messages; the reference (which reaches every draw) sees other inputs under another."""
    def graded(kind, seed):
        results = _run_all(hidden_modules, lambda run: WrongStudent(kind, MUTANTS.get(kind), run),
                           recording, seed)
        inputs = {key: np.concatenate([run.secret.sorted_magnitudes(),
                                       sorted(run.structure.ints)])
                  for key, (_, _, run) in results.items()}
        return inputs, {key: (status, message) for key, (status, message, _) in results.items()}

    inputs, verdicts = graded("perturbed", 5)
    inputs_again, verdicts_again = graded("perturbed", 5)
    assert verdicts == verdicts_again
    assert all(np.array_equal(inputs[key], inputs_again[key]) for key in inputs)
    first, passed = graded("reference", 5)
    assert all(status == "passed" for status, _ in passed.values())
    other, _ = graded("reference", 6)
    changed = [key for key in first if not np.array_equal(first[key], other[key])]
    # every test that draws random inputs gets other ones under another seed
    drawing = {(path.stem, node.name) for path in HIDDEN_FILES
               for node in ast.parse(path.read_text()).body
               if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
               and _draws(path, node)}
    assert drawing, "no hidden test draws its inputs from _checks.rng"
    assert drawing <= set(changed), (
        f"tests whose inputs stay the same under another seed: {sorted(drawing - set(changed))}")


def _draws(path: Path, test: ast.FunctionDef) -> bool:
    """Whether a test draws from rng, itself or through the helpers it calls."""
    tree = ast.parse(path.read_text())
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    seen, stack = set(), [test]
    while stack:
        node = stack.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                if call.func.id == "rng":
                    return True
                if call.func.id in functions:
                    stack.append(functions[call.func.id])
    return False


def test_the_number_search_finds_renderings_and_spares_the_students_own():
    secret, own, structure = Numbers(), Numbers(), Numbers()
    secret.add(np.array([0.123456789, -1234567.891, 65.0, 4096.0, 195.0, 1234568]))
    secret.add("overfitting")
    own.add(0.5)
    own.add(np.array([4096]))
    s, o = secret.sorted_magnitudes(), own.sorted_magnitudes()

    def found(message):
        return _secret_numbers(message, secret, s, own, o, structure)

    assert found("got 0.1235") == ["0.1235"]
    assert found("got [ 0.12345679 -1.2345679e+06]") == ["0.12345679", "1.2345679e+06"]
    assert found("expected -1,234,568 or 195") == ["1,234,568", "195"]
    assert found("expected 'overfitting'") == ["'overfitting'"]
    assert found("got 0.5 and 4096 and 0.12, an error of 1e-07, shape (2, 65), 1235") == []
    assert math.isclose(float(found("0.1234568")[0]), 0.1234568)
