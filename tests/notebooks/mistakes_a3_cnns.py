"""Typical mistakes in a3_cnns's notebooks 05 (training a CNN) and 06 (architectures)."""

from mistakes import Mistake

T = "05_training_a_cnn"
A = "06_architectures"

MISTAKES = [
    # ---------------------------------------------------------------- 05: momentum
    Mistake(T, "sgd_momentum_update", "momentum * v - lr * dw", "momentum * v + lr * dw",
            ("should be subtracted",), "the gradient added to the velocity"),
    Mistake(T, "sgd_momentum_update", "w_next = w + v_next", "w_next = w - v_next",
            ("already points downhill",), "the velocity subtracted from the weights"),
    Mistake(T, "sgd_momentum_update", "w_next = w + v_next", "w_next = w + v",
            ("old velocity",), "the step taken with the old velocity"),
    Mistake(T, "sgd_momentum_update", "momentum * v - lr * dw", "v - lr * dw",
            ("momentum factor is missing",), "the old velocity never decays"),
    # ---------------------------------------------------------------- 05: Adam
    Mistake(T, "adam_update",
            "m_unbiased = m_next / (1.0 - beta1**t)  # undo the pull towards the zero start\n"
            "    v_unbiased = v_next / (1.0 - beta2**t)",
            "m_unbiased = m_next\n    v_unbiased = v_next",
            ("bias correction is missing",), "Adam without bias correction"),
    Mistake(T, "adam_update",
            "m_next / (1.0 - beta1**t)  # undo the pull towards the zero start\n"
            "    v_unbiased = v_next / (1.0 - beta2**t)",
            "m_next / (1.0 - beta1**(t + 1))\n    v_unbiased = v_next / (1.0 - beta2**(t + 1))",
            ("t + 1",), "the bias correction counts steps from 0"),
    Mistake(T, "adam_update", "np.sqrt(v_unbiased) + eps", "np.sqrt(v_unbiased + eps)",
            ("inside the square root",), "eps inside the square root"),
    Mistake(T, "adam_update", "return w_next, m_next, v_next",
            "return w_next, m_unbiased, v_unbiased",
            ("raw",), "the bias-corrected moments returned for the next step"),
    # ---------------------------------------------------------------- 05: train_step
    Mistake(T, "train_step",
            "optimizer.zero_grad()  # backward accumulates: clear the previous step's gradients\n"
            "    ", "",
            ("zero_grad",), "no zero_grad: gradients pile up across steps"),
    Mistake(T, "train_step", "model.backward(dscores_batch)", "model.backward(batch_loss)",
            ("one number (the loss?)", "dscores"), "model.backward(loss) instead of dscores"),
    Mistake(T, "train_step",
            "model.backward(dscores_batch)  # fills every parameter's .grad\n"
            "    optimizer.step()  # only now do the weights change",
            "optimizer.step()\n    model.backward(dscores_batch)",
            ("backward before step",), "the optimizer steps before backward has run"),
    # ---------------------------------------------------------------- 05: receptive field
    Mistake(T, "receptive_field", "seen = (seen - 1) * step + k_size",
            "seen = seen + k_size - 1",
            ("strides are ignored",), "receptive field that ignores the strides"),
    Mistake(T, "receptive_field", "reversed(list(layers))", "list(layers)",
            ("wrong order",), "receptive field walked from the input up"),
    # ---------------------------------------------------------------- 06: layer_table
    Mistake(A, "layer_table", "(k * k * depth + 1) * n_filters", "k * k * depth * n_filters",
            ("bias is not counted",), "conv parameters without the biases"),
    Mistake(A, "layer_table", "(k * k * depth + 1) * n_filters", "(k * k + 1) * n_filters",
            ("as deep as the input",), "kernels counted as one channel deep"),
    Mistake(A, "layer_table", "flat_in = int(np.prod(current))", "flat_in = current[0]",
            ("not flattened",), "the fc layer sees only the channels"),
    Mistake(A, "layer_table",
            "current = (n_filters, (height + 2 * pad - k) // stride + 1,\n"
            "                       (width + 2 * pad - k) // stride + 1)",
            "current = (n_filters, (height - k) // stride + 1, (width - k) // stride + 1)",
            ("padding is not used",), "conv output size without the padding"),
    Mistake(A, "layer_table",
            "current = (depth, (height - k) // stride + 1, (width - k) // stride + 1)",
            "current = (depth, height // k, width // k)",
            ("stride was taken to be the kernel size",), "pooling always divides by k"),
    # ---------------------------------------------------------------- 06: residual block
    Mistake(A, "residual_forward", "out, cache_r2 = relu_forward(f_of_x + x)",
            "out, cache_r2 = relu_forward(f_of_x)\n    out = out + x",
            ("before the addition",), "relu(F(x)) + x: the ReLU before the skip"),
    Mistake(A, "residual_forward", "relu_forward(f_of_x + x)", "relu_forward(f_of_x)",
            ("skip connection is missing",), "a residual block without its skip"),
    Mistake(A, "residual_forward", "h, cache_r1 = relu_forward(z1)", "h, cache_r1 = z1, None",
            ("between the two convolutions",), "no ReLU inside F"),
    Mistake(A, "residual_backward", "d_x = d_x_through_f + d_s", "d_x = d_x_through_f",
            ("skip's gradient is missing",), "dx without the skip's gradient"),
    Mistake(A, "residual_backward", "d_x = d_x_through_f + d_s", "d_x = d_x_through_f + dout",
            ("dout * (s > 0)",), "the skip's gradient taken after the last ReLU"),
    # ---------------------------------------------------------------- 06: Inception block
    Mistake(A, "inception_forward", "np.concatenate(branch_outputs, axis=1)",
            "np.concatenate(branch_outputs)",
            ("axis 1",), "branches concatenated along the batch"),
    Mistake(A, "inception_forward", "(w3, b3, 1), (w5, b5, 2)", "(w3, b3, 0), (w5, b5, 0)",
            ("pad the 3x3 branch by 1",), "no padding: branches of different sizes"),
    Mistake(A, "inception_backward", "dx_total = dx_total + dx_branch",
            "dx_total = dx_branch",
            ("sum of the three",), "dx from the last branch only"),
    Mistake(A, "inception_backward", "d_branch = dout[:, first:first + width]",
            "d_branch = dout[:, :width]",
            ("own slice",), "every branch takes the first channels of dout"),
]
