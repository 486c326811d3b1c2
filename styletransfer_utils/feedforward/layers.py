"""The transformation network's own Keras layers, in ``keras.ops`` (any Keras 3 backend).

Registered under the package name ``styletransfer``, so ``.keras`` files that use them load
wherever this module has been imported (:mod:`.models` does so before loading).
"""

from __future__ import annotations

from ..device import import_tensorflow_quietly

import_tensorflow_quietly()  # Keras imports TensorFlow, whose C++ start-up lines would reach the terminal
import keras  # noqa: E402
from keras import ops  # noqa: E402

#: Two stride-2 convolutions: the network works on sides that divide by 4.
MULTIPLE = 4


def _register(cls):
    return keras.saving.register_keras_serializable(package="styletransfer")(cls)


@_register
class InstanceNormalization(keras.layers.Layer):
    """Normalise each picture's each channel over its pixels, then scale and shift.

    Ulyanov et al. (2016). Statistics are computed in float32 whatever the input's dtype.
    ``relu=True`` applies the ReLU that follows in the same pass over the picture.
    """

    def __init__(self, epsilon: float = 1e-5, relu: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.relu = relu

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")

    def call(self, x):
        x32 = ops.cast(x, "float32")
        mean, var = ops.moments(x32, axes=[1, 2], keepdims=True)
        # gamma * (x - mean) / std + beta as one scale and one shift per channel: two passes over
        # the picture instead of four (about 10 ms of a 512 px picture's 150 on a 2-core CPU)
        scale = ops.cast(self.gamma, "float32") * ops.rsqrt(var + self.epsilon)
        shift = ops.cast(self.beta, "float32") - mean * scale
        y = x32 * scale + shift
        return ops.cast(ops.relu(y) if self.relu else y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "relu": self.relu}


@_register
class ReflectionPadding2D(keras.layers.Layer):
    """Pad height and width by ``pad`` pixels on each side, mirroring the picture."""

    def __init__(self, pad: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.pad = pad

    def call(self, x):
        p = self.pad
        return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, s):
        grow = lambda n: None if n is None else n + 2 * self.pad  # noqa: E731
        return (s[0], grow(s[1]), grow(s[2]), s[3])

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


@_register
class ReflectPadToMultiple(keras.layers.Layer):
    """Pad the bottom and right edges by reflection so both sides divide by ``multiple``."""

    def __init__(self, multiple: int = MULTIPLE, **kwargs):
        super().__init__(**kwargs)
        self.multiple = multiple

    def call(self, x):
        shape = ops.shape(x)
        ph, pw = (-shape[1]) % self.multiple, (-shape[2]) % self.multiple
        return ops.pad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], mode="reflect")

    def compute_output_shape(self, s):
        up = lambda n: None if n is None else -(-n // self.multiple) * self.multiple  # noqa: E731
        return (s[0], up(s[1]), up(s[2]), s[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@_register
class CropLike(keras.layers.Layer):
    """Crop the first input to the height and width of the second."""

    def call(self, inputs):
        y, like = inputs
        shape = ops.shape(like)
        return y[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, shapes):
        y, like = shapes
        return (y[0], like[1], like[2], y[3])


@_register
class TanhToPixels(keras.layers.Layer):
    """``127.5 * (tanh(x) + 1)``: any real number -> a pixel value in ``[0, 255]``."""

    def call(self, x):
        return 127.5 * (ops.tanh(ops.cast(x, "float32")) + 1.0)

    def compute_output_shape(self, s):
        return s
