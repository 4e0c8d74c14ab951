"""Typical mistakes in a1_backprop's notebooks (01 computational graphs, 02 vector backprop)."""

from mistakes import Mistake

G = "01_computational_graphs"
V = "02_vector_backprop"

MISTAKES = [
    # ---------------------------------------------------------------- 01: by hand
    Mistake(G, "add_mul_graph", "dz = q * df", "dz = z * df",
            ("swaps",), "df/dz = z: the mul gate not swapped"),
    Mistake(G, "add_mul_graph", "dx = 1.0 * dq  # add gate: local gradients 1 and 1\n"
            "    dy = 1.0 * dq", "dx = 1.0  # add gate: local gradients 1 and 1\n    dy = 1.0",
            ("local gradient", "upstream"), "the add gate's local gradient without the upstream"),
    Mistake(G, "sigmoid_neuron", "ds = (1.0 - f) * f * 1.0", "ds = (1.0 - s) * s * 1.0",
            ("input",), "the sigmoid's local gradient from its input s"),
    Mistake(G, "sigmoid_neuron", "ds = (1.0 - f) * f * 1.0", "ds = f * 1.0",
            ("(1 - sigma) sigma, not sigma",), "sigma taken as its own derivative"),
    Mistake(G, "sigmoid_neuron", "dw = np.array([x0 * ds, x1 * ds, ds])  # mul swaps; the bias's "
            "add passes ds on\n    dx = np.array([w0 * ds, w1 * ds])",
            "dw = np.array([w0 * ds, w1 * ds, ds])\n    dx = np.array([x0 * ds, x1 * ds])",
            ("swaps",), "each weight's gradient from its own value (mul not swapped)"),
    Mistake(G, "sigmoid_neuron", "dw = np.array([x0 * ds, x1 * ds, ds])",
            "dw = np.array([x0 * ds, x1 * ds])",
            ("bias",), "the bias's gradient left out of dw"),
    Mistake(G, "gate_needs_forward_values",
            'return {"add": False, "mul": True, "copy": False, "max": True}',
            'return {"mul", "max"}',
            ("dict",), "the question answered with a set of names instead of the dict"),
    # ---------------------------------------------------------------- 01: Value's gates
    Mistake(G, "Value", "self.grad += other.data * out.grad\n"
            "            other.grad += self.data * out.grad",
            "self.grad += self.data * out.grad\n            other.grad += other.data * out.grad",
            ("swaps",), "Value's mul gate not swapped"),
    Mistake(G, "Value", "self.grad += 1.0 * out.grad\n            other.grad += 1.0 * out.grad",
            "self.grad = 1.0 * out.grad\n            other.grad = 1.0 * out.grad",
            ("assigned (=)", "+="), "the add gate assigns its gradients (=) instead of adding"),
    Mistake(G, "Value", "self.grad += other.data * out.grad",
            "self.grad = other.data * out.grad",
            ("assigned (=)", "+="), "the mul gate assigns its first input's gradient"),
    Mistake(G, "Value", "self.grad += k * self.data ** (k - 1) * out.grad",
            "self.grad += k * self.data ** k * out.grad",
            ("k a ** (k - 1)",), "the power rule without lowering the exponent"),
    Mistake(G, "Value", "self.grad += out.data * out.grad",
            "self.grad += self.data * out.grad",
            ("exp", "output"), "exp's local gradient taken from its input"),
    Mistake(G, "Value", "self.grad += (1.0 - sig) * sig * out.grad",
            "self.grad += (1.0 - self.data) * self.data * out.grad",
            ("(1 - sigma) sigma", "output"), "Value.sigmoid's local gradient from its input"),
    Mistake(G, "Value", "        if self.data >= 0:\n"
            "            sig = 1.0 / (1.0 + math.exp(-self.data))\n"
            "        else:  # e ** -data would overflow for data around -1000\n"
            "            sig = math.exp(self.data) / (1.0 + math.exp(self.data))",
            "        sig = 1.0 / (1.0 + math.exp(-self.data))",
            ("overflow",), "Value.sigmoid overflows for large negative inputs"),
    Mistake(G, "Value", "self.grad += (1.0 if self.data > 0 else 0.0) * out.grad",
            "self.grad += (1.0 if self.data >= 0 else 0.0) * out.grad",
            ("only where a > 0",), "relu passes the gradient at exactly 0"),
    Mistake(G, "Value", "self.grad += (1.0 if self.data > 0 else 0.0) * out.grad",
            "self.grad += out.grad",
            ("only where its input is > 0",), "relu passes every gradient (no mask)"),
    Mistake(G, "Value", "            larger.grad += out.grad",
            "            self.grad += out.grad\n            other.grad += out.grad",
            ("routes",), "max sends the gradient to both inputs"),
    Mistake(G, "Value", "return self + (-Value._as_value(other))",
            "return Value(self.data - Value._as_value(other).data)",
            ("_children",), "a - b computed as a new leaf, cut off from its inputs"),
    Mistake(G, "Value", "return Value._as_value(other) + (-self)", "return self - other",
            ("wrong way round",), "2 - a computed as a - 2 (reflected operands swapped)"),
    # ---------------------------------------------------------------- 01: the graph walk
    Mistake(G, "Value", "        self.grad = 1.0\n        for node in reversed",
            "        for node in reversed",
            ("seed",), "backward() without the seed 1.0"),
    Mistake(G, "Value", "for node in reversed(self._topological_order()):",
            "for node in self._topological_order():",
            ("reverse topological order",), "backward() in topological, not reverse, order"),
    Mistake(G, "Value", "        self.grad = 1.0\n"
            "        for node in reversed(self._topological_order()):\n"
            "            node._backward()",
            "        self.grad = 1.0\n\n"
            "        def propagate(node):\n"
            "            node._backward()\n"
            "            for child in node._children:\n"
            "                propagate(child)\n\n"
            "        propagate(self)",
            ("recursively", "topological order"),
            "a recursive backward without topological order"),
    Mistake(G, "Value", "            if id(node) in visited:\n                return\n"
            "            visited.add(id(node))\n", "",
            ("exactly once",), "the topological order lists shared nodes once per path"),
    Mistake(G, "Value", "        for node in self._topological_order():\n"
            "            node.grad = 0.0", "        self.grad = 0.0",
            ("every node",), "zero_grad resets only the output"),
    # ---------------------------------------------------------------- 02
    Mistake(V, "numerical_gradient", "        x[index] = original - h\n"
            "        f_minus = np.asarray(f(x), dtype=np.float64)\n"
            "        x[index] = original  # put it back before probing the next entry\n"
            "        grad[index] = np.sum((f_plus - f_minus) * weights) / (2 * h)",
            "        x[index] = original\n"
            "        f_minus = np.asarray(f(x), dtype=np.float64)\n"
            "        grad[index] = np.sum((f_plus - f_minus) * weights) / h",
            ("one-sided",), "a one-sided difference instead of a centered one"),
    Mistake(V, "numerical_gradient",
            "        x[index] = original  # put it back before probing the next entry\n", "",
            ("put each entry back",), "x left nudged after probing it"),
    Mistake(V, "numerical_gradient",
            "weights = 1.0 if dout is None else np.asarray(dout, dtype=np.float64)",
            "weights = 1.0", ("dout was ignored",), "the upstream gradient ignored"),
    Mistake(V, "relu_forward", "out = np.maximum(x, 0.0)", "out = np.maximum(x, 0.0, out=x)",
            ("in place",), "relu_forward overwrites its input"),
    Mistake(V, "relu_backward", "return np.where(x > 0, dout, 0.0)",
            "return np.where(dout > 0, dout, 0.0)",
            ("mask", "input x > 0"), "the ReLU mask taken from dout instead of x"),
    Mistake(V, "relu_backward", "return np.where(x > 0, dout, 0.0)",
            "return np.where(x >= 0, dout, 0.0)",
            ("not x >= 0",), "the ReLU gradient passes at exactly 0"),
    Mistake(V, "sigmoid_forward", "    small = np.exp(-np.abs(x))  # in (0, 1]: never overflows\n"
            "    out = np.where(x >= 0, 1.0 / (1.0 + small), small / (1.0 + small))",
            "    out = 1.0 / (1.0 + np.exp(-x))",
            ("overflow",), "sigmoid_forward overflows for large negative inputs"),
    Mistake(V, "sigmoid_backward", "return dout * (1.0 - sig) * sig", "return dout * sig",
            ("(1 - sigma) sigma",), "sigma taken as its own derivative in sigmoid_backward"),
    Mistake(V, "sigmoid_backward", "sig = cache", "sig = 1.0 / (1.0 + np.exp(-cache))",
            ("cache", "output"), "the sigmoid applied again to the cached output"),
    Mistake(V, "affine_forward", "rows = x.reshape(len(x), -1)  # (N, D): one row per example",
            "rows = x", ("reshaped",), "affine_forward without flattening x to (N, D)"),
    Mistake(V, "affine_forward", "out = rows @ w + b", "out = rows @ w",
            ("bias",), "affine_forward without the bias"),
    Mistake(V, "affine_backward", "db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)",
            ("mean", "sum"), "db averaged over the batch instead of summed"),
    Mistake(V, "affine_backward", "dx = (dout @ w.T).reshape(x.shape)", "dx = dout @ w.T",
            ("reshape",), "dx left in the flattened (N, D) shape"),
    Mistake(V, "affine_backward", "dw = rows.T @ dout", "dw = dout.T @ rows",
            ("x^T dout",), "dw computed as dout^T x (the transpose)"),
    Mistake(V, "affine_backward", "dx = (dout @ w.T).reshape(x.shape)",
            "dx = (dout @ w).reshape(x.shape)",
            ("w^T",), "dx = dout w without the transpose"),
    Mistake(V, "softmax_cross_entropy",
            "shifted = scores - np.max(scores, axis=1, keepdims=True)", "shifted = scores",
            ("maximum",), "softmax without subtracting the row maximum"),
    Mistake(V, "softmax_cross_entropy", "return float(loss), dscores / n",
            "return float(loss), dscores",
            ("divided by n",), "dscores not divided by N"),
    Mistake(V, "softmax_cross_entropy", "loss = -np.mean(log_probs[np.arange(n), labels])",
            "loss = -np.sum(log_probs[np.arange(n), labels])",
            ("summed over the batch",), "the loss summed over the batch instead of averaged"),
    Mistake(V, "softmax_cross_entropy", "    dscores[np.arange(n), labels] -= 1.0\n", "",
            ("subtract 1",), "dscores without subtracting 1 at the true class"),
    Mistake(V, "matmul_jacobian_entries", "return n * d * outputs, d * m * outputs",
            "return n * d, d * m",
            ("one entry per pair",), "the Jacobians counted as the sizes of x and w"),
]
