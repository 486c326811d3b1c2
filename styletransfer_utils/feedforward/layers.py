"""The transformation network's own Keras layers, in ``keras.ops`` (any Keras 3 backend).

Registered under the package name ``styletransfer``, so ``.keras`` files that use them load
wherever this module has been imported (:mod:`.models` does so before loading).
"""

from __future__ import annotations

from ..device import import_tensorflow_quietly

import_tensorflow_quietly()  # Keras imports TensorFlow, whose C++ start-up lines would reach the terminal
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

#: Two stride-2 convolutions: the network works on sides that divide by 4.
MULTIPLE = 4


def _register(cls):
    return keras.saving.register_keras_serializable(package="styletransfer")(cls)


def _pixel_moments(x):
    """Mean and variance of each picture's each channel over its pixels, shaped ``(B, 1, 1, C)``.

    The sums over pixels are two matrix products with a row of ones: on a CPU that is about twice
    as fast as a reduction over the height and width axes, which are not the innermost one
    (1.4 against 2.4 ms for a 132x132x64 map). ``E[x^2] - E[x]^2`` loses nothing that matters in
    float32 for a convolution's output, whose mean is within a few standard deviations of 0.
    """
    shape = ops.shape(x)
    pixels = ops.reshape(x, (shape[0], -1, shape[3]))
    ones = ops.ones((1, ops.shape(pixels)[1]), dtype=x.dtype) / ops.cast(ops.shape(pixels)[1], x.dtype)
    mean = ops.matmul(ones, pixels)
    var = ops.maximum(ops.matmul(ones, ops.square(pixels)) - ops.square(mean), 0.0)
    return ops.expand_dims(mean, 1), ops.expand_dims(var, 1)


def mirror_pad(x, pad: int, symmetric: bool = False, training=None):
    """``x`` (``(B, H, W, C)``) padded by ``pad`` pixels on each side of its height and width, as
    ``ops.pad`` does in ``"reflect"`` mode (or ``"symmetric"``, which repeats the edge pixel).

    Outside training it is built of slices and concatenations: on a CPU in bf16 that is 2.5x
    faster than TensorFlow's mirror-pad kernel (5.4 against 13.3 ms for 1048x1048x16), the same
    numbers. In training ``ops.pad`` stays, whose gradient is one operation: with the slices'
    gradients a training step took about a third longer."""
    if training:
        return ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="symmetric" if symmetric else "reflect")
    skip = 0 if symmetric else 1
    for axis in (1, 2):
        def side(start, stop, axis=axis):
            index = [slice(None)] * 4
            index[axis] = slice(start, stop)
            return ops.flip(x[tuple(index)], axis)
        x = ops.concatenate([side(skip, skip + pad), x, side(-pad - skip, -skip or None)], axis)
    return x


def _one_tensorflow_picture(x) -> bool:
    """Whether ``x`` is one picture (a batch of one, known when traced) on the TensorFlow backend."""
    return keras.backend.backend() == "tensorflow" and len(x.shape) == 4 and x.shape[0] == 1


def _picture_shape(shape):
    """The shape of ``x`` when a layer is given ``x`` or ``[x, reference]``."""
    return shape[0] if isinstance(shape, (list, tuple)) and isinstance(shape[0], (list, tuple)) else shape


@_register
class InstanceNormalization(keras.layers.Layer):
    """Normalise each picture's each channel over its pixels, then scale and shift.

    Ulyanov et al. (2016). Statistics are computed in float32 whatever the input's dtype.
    ``relu=True`` applies the ReLU that follows in the same pass over the picture. One picture in
    TensorFlow (a batch of one, as :func:`~.models.stylize_fast` paints) goes through TensorFlow's
    fused batch norm, which over a batch of one is this normalisation in one kernel: 3.5x faster
    on a 2-core CPU in bf16 (19 against 68 ms for 1048x1048x16). A batch (training) and the
    two-stream form below take the general path.

    Called on ``[x, reference]`` with ``clip=c``, it normalises ``x`` by ``reference``'s
    statistics and clips each standardised value to ``[-c, c]`` before the scale and shift: the
    second stream of :func:`~.network.spike_free`. Called on ``x`` with ``clip=c`` and
    ``offset=(mean, variance)`` (per channel), it adds those to ``x``'s own statistics first: the
    one-pass form, whose offsets stand for the spike's share (:func:`~.network.spike_statistics`).
    """

    def __init__(self, epsilon: float = 1e-5, relu: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.relu = relu

    def build(self, input_shape):
        channels = _picture_shape(input_shape)[-1]
        # read in float32 in a bf16 layer too: rounded to bf16, each channel's scale and shift
        # would move by up to 0.4%, every pixel alike
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma", autocast=False)
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta", autocast=False)

    def call(self, x, clip=None, offset=None):
        x, reference = x if isinstance(x, (list, tuple)) else (x, None)
        if reference is None and _one_tensorflow_picture(x):
            return self._fused(x, clip, offset)
        x32 = ops.cast(x, "float32")
        mean, var = _pixel_moments(x32 if reference is None else ops.cast(reference, "float32"))
        if offset is not None:
            mean, var = mean + ops.cast(offset[0], "float32"), var + ops.cast(offset[1], "float32")
        gamma, beta = ops.cast(self.gamma, "float32"), ops.cast(self.beta, "float32")
        # gamma * (x - mean) / std + beta as one scale and one shift per channel: two passes over
        # the picture instead of four (about 10 ms of a 512 px picture's 150 on a 2-core CPU)
        scale = gamma * ops.rsqrt(var + self.epsilon)
        y = x32 * scale + (beta - mean * scale)
        if clip is None:
            return ops.cast(ops.relu(y) if self.relu else y, self.compute_dtype)
        low, high = self._bounds(clip, gamma, beta)
        return ops.cast(ops.minimum(ops.maximum(y, low), high), self.compute_dtype)

    def _bounds(self, clip, gamma, beta):
        """The clip's bounds on the output, per channel: the standardised value in ``[-clip, clip]``
        is the output within ``clip |gamma|`` of ``beta``; a ReLU after that is the same clip with
        both bounds raised to 0 (one pass over the picture, not two)."""
        low, high = beta - clip * ops.abs(gamma), beta + clip * ops.abs(gamma)
        return (ops.relu(low), ops.relu(high)) if self.relu else (low, high)

    def _fused(self, x, clip, offset):
        """:meth:`call` for one picture in TensorFlow: its fused batch norm over a batch of one is
        this normalisation, statistics and all, in one kernel (float32 statistics whatever ``x``'s dtype)."""
        import tensorflow as tf

        gamma, beta = ops.cast(self.gamma, "float32"), ops.cast(self.beta, "float32")
        zero = tf.zeros_like(gamma)
        y, mean, var = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=gamma, offset=beta, mean=zero, variance=zero, epsilon=self.epsilon,
            exponential_avg_factor=1.0, data_format="NHWC", is_training=True)[:3]
        if clip is None and offset is None:
            return ops.relu(y) if self.relu else y
        pixels = ops.cast(ops.shape(x)[1] * ops.shape(x)[2], "float32")
        var = var * (pixels - 1.0) / ops.maximum(pixels, 2.0)  # the op gives the unbiased variance
        if offset is not None:
            mean, var = mean + ops.cast(offset[0], "float32"), var + ops.cast(offset[1], "float32")

        def normalised(x, mean, var, scale=gamma, shift=beta):  # the same kernel with given statistics
            return tf.raw_ops.FusedBatchNormV3(x=x, scale=scale, offset=shift, mean=mean, variance=var,
                                               epsilon=self.epsilon, data_format="NHWC", is_training=False)[0]
        if clip is None:
            y = normalised(x, mean, var)
            return ops.relu(y) if self.relu else y
        # min(max(y, low), high) out of the kernel's own passes, each with its ReLU inside, and one
        # subtraction or sum: a minimum and a maximum against per-channel bounds are two slow
        # broadcasts in TensorFlow (the whole norm: 36 against 62 ms for a 1048x1048x16 map in bf16 on
        # a 2-core CPU)
        low, high = self._bounds(clip, gamma, beta)

        def above(bound, sign=1.0):  # relu(sign * (y - bound)), in one pass
            return ops.relu(normalised(x, mean, var, scale=sign * gamma, shift=sign * (beta - bound)))
        if not self.relu:  # y where it lies within the bounds, exactly, whatever they are
            return normalised(x, mean, var) - above(high) + above(low, -1.0)
        # with the ReLU, low is at least 0: low + relu(y - low) loses nothing that rounding y would
        # not, and the shift by low is the kernel once more (where low is 0, the ReLU's picture)
        ones = ops.ones_like(gamma)
        return normalised(above(low) - above(high), zero, ones - self.epsilon, scale=ones, shift=low)

    def compute_output_shape(self, input_shape):
        return _picture_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "relu": self.relu}


#: For each output row (column) parity, which rows of a 3x3 kernel over the twice-upsampled map
#: fall on the input rows at offsets -1, 0 and +1: ``_PHASES[parity, offset, kernel_row]``.
_PHASES = np.array([[[1, 0, 0], [0, 1, 1], [0, 0, 0]],
                    [[0, 0, 0], [1, 1, 0], [0, 0, 1]]], dtype="float32")


def _phase_kernel(kernel):
    """The 3x3 kernel over the input (``(3, 3, c, 4 f)``) whose ``4 f`` outputs are the 2x2 block
    (row parity, column parity, filter) that ``kernel`` (``(3, 3, c, f)``) gives on the upsampled map."""
    kernel = ops.cast(kernel, "float32")
    channels, filters = ops.shape(kernel)[2], ops.shape(kernel)[3]
    by_rows = ops.tensordot(_PHASES, kernel, axes=[[2], [0]])   # (row parity, row offset, kernel col, c, f)
    both = ops.tensordot(_PHASES, by_rows, axes=[[2], [2]])     # (col parity, col offset, row parity, row offset, c, f)
    both = ops.transpose(both, (3, 1, 4, 2, 0, 5))              # (row offset, col offset, c, row parity, col parity, f)
    return ops.reshape(both, (3, 3, channels, 4 * filters))


@_register
class UpsampleConv2D(keras.layers.Layer):
    """Nearest-neighbour upsampling x2, reflection padding by 1 and a 3x3 convolution, in one.

    The result equals that of the three layers, but the work is done at the input's resolution:
    each output pixel of a 2x2 block sees the same input pixels through its own sums of the
    kernel's taps, so one 3x3 convolution with four times the filters, followed by a rearrangement
    of its channels into 2x2 blocks, gives all four (twice as fast on a CPU: 10.3 -> 4.9 ms from
    264x264x32 to 528x528x16 in bf16). Mirroring the upsampled map by one pixel repeats its edge,
    which is symmetric padding of the input. The weights are the 3x3 kernel of the plain layers.
    """

    def __init__(self, filters: int, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(3, 3, input_shape[-1], self.filters),
                                      initializer=self.kernel_initializer, name="kernel")

    def call(self, x, training=None):
        x = mirror_pad(x, 1, symmetric=True, training=training)
        y = ops.conv(x, ops.cast(_phase_kernel(self.kernel), self.compute_dtype), padding="valid")
        return _from_blocks(y, self.filters)  # channels (row parity, col parity, f) into 2x2 blocks

    def compute_output_shape(self, s):
        grow = lambda n: None if n is None else 2 * n  # noqa: E731
        return (s[0], grow(s[1]), grow(s[2]), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def _block_taps(size: int) -> np.ndarray:
    """``taps[q, s, r, a] = 1`` where kernel row ``a`` of a ``size``-tap convolution joins output
    row ``2 i + r`` to input row ``2 (i + q) + s``: the rows of its kernel over 2x2 blocks."""
    taps = np.zeros(((size + 1) // 2, 2, 2, size), "float32")
    for q in range(taps.shape[0]):
        for s in (0, 1):
            for r in (0, 1):
                if 0 <= 2 * q + s - r < size:
                    taps[q, s, r, 2 * q + s - r] = 1.0
    return taps


def _to_blocks(x, channels):
    """``(B, H, W, C)`` with even sides -> ``(B, H/2, W/2, 4 C)``: each 2x2 block's pixels as channels
    (row in block, column in block, channel)."""
    batch, height, width = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2]
    x = ops.reshape(x, (batch, height // 2, 2, width // 2, 2, channels))
    return ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4, 5)), (batch, height // 2, width // 2, 4 * channels))


def _from_blocks(y, channels):
    """The inverse of :func:`_to_blocks`."""
    batch, height, width = ops.shape(y)[0], ops.shape(y)[1], ops.shape(y)[2]
    y = ops.reshape(y, (batch, height, width, 2, 2, channels))
    return ops.reshape(ops.transpose(y, (0, 1, 3, 2, 4, 5)), (batch, 2 * height, 2 * width, channels))


@_register
class BlockConv2D(keras.layers.Conv2D):
    """A stride-1 ``valid`` convolution (input sides even) worked out over 2x2 blocks of pixels.

    The picture's 2x2 blocks become pixels of four times the channels, a 9x9 kernel a 5x5 one
    with four times the inputs and outputs, and the outputs go back into blocks: the same sums.
    The network's last convolution (16 channels to 3, at full size) is a poor shape for a CPU's
    matrix units with 3 outputs; as 64 to 12 it takes 38 against 90 ms for a 1048 px picture
    in bf16 on a 2-core CPU with AMX. The weights are the plain layer's.
    """

    def convolution_op(self, inputs, kernel):
        settings = (self.strides, self.padding, self.dilation_rate, self.data_format)
        if settings != ((1, 1), "valid", (1, 1), "channels_last") or self.kernel_size[0] != self.kernel_size[1]:
            return super().convolution_op(inputs, kernel)  # the blocks serve the one case above
        size, (channels, filters) = self.kernel_size[0], ops.shape(kernel)[2:]
        taps = _block_taps(size)
        by_rows = ops.tensordot(taps, ops.cast(kernel, "float32"), axes=[[3], [0]])  # (q, s, r, kernel col, c, f)
        both = ops.tensordot(taps, by_rows, axes=[[3], [3]])  # (q', s', r', q, s, r, c, f) for columns and rows
        both = ops.transpose(both, (3, 0, 4, 1, 6, 5, 2, 7))   # (q, q', s, s', c, r, r', f)
        blocked = ops.reshape(both, (taps.shape[0], taps.shape[0], 4 * channels, 4 * filters))
        y = ops.conv(_to_blocks(inputs, channels), ops.cast(blocked, self.compute_dtype), padding="valid")
        return _from_blocks(y, filters)


@_register
class ReflectionPadding2D(keras.layers.Layer):
    """Pad height and width by ``pad`` pixels on each side, mirroring the picture."""

    def __init__(self, pad: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.pad = pad

    def call(self, x, training=None):
        return mirror_pad(x, self.pad, training=training)

    def compute_output_shape(self, s):
        grow = lambda n: None if n is None else n + 2 * self.pad  # noqa: E731
        return (s[0], grow(s[1]), grow(s[2]), s[3])

    def get_config(self):
        return {**super().get_config(), "pad": self.pad}


@_register
class ReflectPadToMultiple(keras.layers.Layer):
    """Pad the bottom and right edges by reflection so both sides divide by ``multiple``, and are
    at least ``minimum`` (a multiple of ``multiple``, at most 1.5x the smallest picture's side:
    one reflection must reach), for networks whose dilated layers need wider maps."""

    def __init__(self, multiple: int = MULTIPLE, minimum: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.multiple, self.minimum = multiple, minimum

    def call(self, x):
        shape = ops.shape(x)
        ph, pw = (self._side(n) - n for n in (shape[1], shape[2]))
        return ops.pad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], mode="reflect")

    def _side(self, n):
        """The padded side for a side of ``n`` (a number, or a tensor where the size is not known
        when traced)."""
        up = -(-n // self.multiple) * self.multiple
        if not self.minimum:
            return up
        return max(up, self.minimum) if isinstance(up, int) else ops.maximum(up, self.minimum)

    def compute_output_shape(self, s):
        return (s[0], *(None if n is None else self._side(n) for n in (s[1], s[2])), s[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple, **({"minimum": self.minimum} if self.minimum else {})}


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
