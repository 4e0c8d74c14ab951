"""cnnlib: the course's reference library for convolutional networks, in plain numpy.

Layers are pairs of functions, ``forward(x, ...) -> (out, cache)`` and
``backward(dout, cache) -> grads``, in NCHW layout; modules wrap them for training.
Convolution and pooling come twice: the teaching versions (``conv``, ``pooling``) and the
tuned ones the modules use (``fast_layers``). Everything a student writes in a notebook
lives here too, between solution markers, so the student edition can be built by
stripping them. docs/architecture.md describes the conventions; docs/graded-functions.md
lists the graded functions.
"""

from .activations import *  # noqa: F401,F403
from .analysis import *  # noqa: F401,F403
from .autodiff import *  # noqa: F401,F403
from .blocks import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .dense import *  # noqa: F401,F403
from .fast_layers import *  # noqa: F401,F403
from .gradcheck import *  # noqa: F401,F403
from .init import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .modules import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .receptive import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403
from .transfer import *  # noqa: F401,F403
from .tuning import *  # noqa: F401,F403

__version__ = "0.1.0"
