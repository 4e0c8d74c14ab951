"""Typical mistakes in a2_convolution's notebooks (03 convolution, 04 pooling)."""

from mistakes import Mistake

MISTAKES = [
    Mistake("03_convolution", "convolve2d", "k[::-1, ::-1]", "k",
            ("flip",), "convolution without flipping the kernel"),
]
