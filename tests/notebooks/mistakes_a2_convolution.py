"""Typical mistakes in a2_convolution's notebooks (03 convolution, 04 pooling).

Each is a one-place edit of a correct solution cell, written the way students write it;
``names`` are words the first failing visible check must say (see mistakes.py).
"""

from mistakes import Mistake

C, P = "03_convolution", "04_pooling"

MAX_ROUTE = "np.add.at(dx, (n_idx[..., None, None], c_idx[..., None, None], rows, cols), dout)"
MAX_MASK = """winner = windows.reshape(n_ex, channels, out_h, out_w, kh * kw).argmax(axis=4)"""

MISTAKES = [
    # --- 03: cross-correlation and convolution -------------------------------------------
    Mistake(C, "cross_correlate2d", "np.sum(x[r:r + kh, c:c + kw] * k)",
            "np.sum(x[r:r + kh, c:c + kw] * k[::-1, ::-1])",
            ("flipped",), "cross-correlation that flips the kernel"),
    Mistake(C, "cross_correlate2d", "x.shape[0] - kh + 1, x.shape[1] - kw + 1",
            "x.shape[0] - kh, x.shape[1] - kw",
            ("H - kh + 1",), "valid output one row and column short"),
    Mistake(C, "convolve2d", "k[::-1, ::-1]", "k",
            ("flip",), "convolution without flipping the kernel"),
    Mistake(C, "convolve2d", "k[::-1, ::-1]", "k[::-1]",
            ("one axis",), "convolution that flips the rows only"),
    Mistake(C, "convolve2d", "k[::-1, ::-1]", "k.T",
            ("transposed",), "a transpose taken for the flip"),
    Mistake(C, "convolve2d", "k[::-1, ::-1]", "np.rot90(k)",
            ("90 degrees",), "a rotation by 90 degrees taken for the flip"),
    # --- 03: sizes and parameters -----------------------------------------------------------
    Mistake(C, "conv_output_size", "room = size + 2 * pad - kernel",
            "room = size + pad - kernel",
            ("both sides",), "padding counted on one side only"),
    Mistake(C, "conv_output_size", "return room // stride + 1", "return room // stride",
            ("off by one",), "the first kernel position not counted"),
    Mistake(C, "conv_output_size", "return room // stride + 1", "return room / stride + 1",
            ("floor division",), "true division: a float, and no floor"),
    Mistake(C, "conv_output_size",
            '    if room < 0:\n        raise ValueError(f"kernel {kernel} is larger than the '
            'padded input {size + 2 * pad}")\n', "",
            ("ValueError",), "a kernel larger than the input not refused"),
    Mistake(C, "conv_params", "(kh * kw * in_channels + 1) * n_kernels",
            "kh * kw * in_channels * n_kernels",
            ("biases are missing",), "parameter count without the biases"),
    Mistake(C, "conv_params", "(kh * kw * in_channels + 1) * n_kernels",
            "(kh * kw + 1) * n_kernels",
            ("as deep as the input",), "kernels counted one channel deep"),
    # --- 03: the conv layer forward ---------------------------------------------------------
    Mistake(C, "conv2d_forward_naive", "np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])", "x",
            ("padding", "not applied"), "padding in the output size but not applied (loops)"),
    Mistake(C, "conv2d_forward_naive", "xp[n, :, r * sh:r * sh + kh, c * sw:c * sw + kw]",
            "xp[n, :, r:r + kh, c:c + kw]",
            ("stride",), "stride in the output size but not where the windows are cut (loops)"),
    Mistake(C, "conv2d_forward_naive", "np.sum(patch_ * w[f]) + b[f]", "np.sum(patch_ * w[f])",
            ("bias",), "conv layer without the bias"),
    Mistake(C, "conv2d_forward_naive", "np.sum(patch_ * w[f]) + b[f]",
            "np.sum(patch_ * w[f]) + b.sum()",
            ("sum of all the biases",), "every channel gets every bias"),
    Mistake(C, "conv2d_forward", "windows.transpose(0, 2, 3, 1, 4, 5)",
            "windows.transpose(0, 2, 3, 4, 5, 1)",
            ("order (C, KH, KW)",), "im2col rows in (KH, KW, C) order, kernels in (C, KH, KW)"),
    Mistake(C, "conv2d_forward", "np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])", "x",
            ("padding", "not applied"), "padding in the output size but not applied (im2col)"),
    # --- 03: the conv layer backward --------------------------------------------------------
    Mistake(C, "conv2d_backward", "w[:, :, ::-1, ::-1], optimize=True", "w, optimize=True",
            ("flip",), "dx correlates with the kernel instead of its flip"),
    Mistake(C, "conv2d_backward", "db = dout.sum(axis=(0, 2, 3))",
            "db = dout.mean(axis=(0, 2, 3))",
            ("mean",), "db averaged instead of summed"),
    Mistake(C, "conv2d_backward", "dw = (dout_rows.T @ cols).reshape(w.shape)",
            "dw = (dout_rows.T @ cols).reshape(w.shape) / n_examples",
            ("summed over the examples",), "dw averaged over the batch"),
    Mistake(C, "conv2d_backward", "full = np.pad(spread,", "full = np.pad(dout,",
            ("spread",), "stride > 1: dout not spread out before the full convolution"),
    Mistake(C, "conv2d_backward", "dx = dxp[:, :, ph:ph + height, pw:pw + width]", "dx = dxp",
            ("crop",), "the padding's gradient kept in dx"),
    # --- 04: pooling forward ----------------------------------------------------------------
    Mistake(P, "maxpool2d_forward", "pair(kernel_size if stride is None else stride)",
            "pair(1 if stride is None else stride)",
            ("default to kernel_size",), "pooling stride defaulting to 1"),
    Mistake(P, "maxpool2d_forward", "out = windows.max(axis=(4, 5))",
            "out = windows.max(axis=(4, 5), initial=0.0)",
            ("not from 0",), "the running maximum started at 0"),
    Mistake(P, "avgpool2d_forward", ".mean(axis=(4, 5))", ".sum(axis=(4, 5))",
            ("divide",), "average pooling that sums"),
    # --- 04: pooling backward ---------------------------------------------------------------
    Mistake(P, "maxpool2d_backward", "    " + MAX_ROUTE,
            "    for a in range(kh):\n        for b in range(kw):\n"
            "            dx[:, :, a:a + sh * out_h:sh, b:b + sw * out_w:sw] += dout",
            ("every element of the window",), "max-pool gradient sent to the whole window"),
    Mistake(P, "maxpool2d_backward", MAX_ROUTE,
            "np.add.at(dx, (n_idx[..., None, None], c_idx[..., None, None], rows, cols), 1.0)",
            ("chain rule",), "max-pool gradient of 1 instead of dout"),
    Mistake(P, "maxpool2d_backward", MAX_ROUTE,
            "dx[n_idx[..., None, None], c_idx[..., None, None], rows, cols] = dout",
            ("add (+=)",), "overlapping windows: the gradient assigned, not added"),
    Mistake(P, "maxpool2d_backward", "winner // kw", "winner // kh",
            ("i // kw",), "the window's flat index unraveled with kh"),
    Mistake(P, "maxpool2d_backward", MAX_MASK + "  # first max",
            "is_max = windows == windows.max(axis=(4, 5), keepdims=True)  # every max\n"
            "    dx = np.zeros(x_shape, dtype=dout.dtype)\n"
            "    for a in range(kh):\n        for b in range(kw):\n"
            "            dx[:, :, a:a + sh * out_h:sh, b:b + sw * out_w:sw] += "
            "is_max[..., a, b] * dout\n    return dx\n"
            "    winner = windows.reshape(n_ex, channels, out_h, out_w, kh * kw).argmax(axis=4)",
            ("more than one input",), "tied maxima each get the whole gradient"),
    Mistake(P, "avgpool2d_backward", "share = dout / (kh * kw)", "share = dout",
            ("dout / 9",), "average-pool gradient not divided by the window size"),
    Mistake(P, "avgpool2d_backward", "] += share", "] = share",
            ("add up",), "overlapping windows: the average's shares assigned, not added"),
    Mistake(P, "invariant_shifts", "return offset, kernel_size - 1 - offset",
            "return offset, kernel_size - offset",
            ("leaving its window",), "a peak allowed to move a whole window"),
]
