"""The loss functions of Gatys et al. (2016), as pure TensorFlow functions.

Lesson: ``notebooks/03_content_and_style_losses.ipynb``.

Notation (the paper's): a layer with ``N`` feature maps of ``M = H * W`` positions each gives
a matrix ``F`` of shape ``(M, N)`` for the generated picture and ``P`` for the content picture.
All functions take float32 tensors of shape ``(1, H, W, N)`` (or ``(B, H, W, N)`` where noted)
and return float32 scalars.

Normalisations are chosen so the default weights work at every image size:

* content loss is the *mean* squared difference, ``1/(M N) * sum (F - P)^2``;
* the Gram matrix is divided by ``M``: ``G = F^T F / M``, so it does not grow with the picture;
* the style loss per layer is ``1/(4 N^2) * sum (G - A)^2``, which equals the paper's
  ``E_l = 1/(4 N^2 M^2) * sum (F^T F - S^T S)^2`` exactly;
* total variation is the mean squared difference of neighbouring pixels.
"""

from __future__ import annotations

from . import import_tensorflow_quietly

import_tensorflow_quietly()  # its C++ start-up lines would reach the terminal
import tensorflow as tf  # noqa: E402


def content_loss(features, target):
    """Mean squared difference of two feature maps: ``1/(M N) * sum (F - P)^2``.

    The paper uses ``1/2 * sum (F - P)^2``; ours is that divided by ``M N / 2``, which keeps the
    value (and so the content weight) independent of the picture's size.
    """
    features = tf.convert_to_tensor(features, tf.float32)
    target = tf.convert_to_tensor(target, tf.float32)
    return tf.reduce_mean(tf.square(features - target))


def gram_matrix(features, *, normalize: bool = True):
    """Gram matrix of feature maps: ``G[i, j] = sum_k F[k, i] F[k, j]`` (divided by ``M``).

    ``features`` has shape ``(B, H, W, N)``; the result has shape ``(B, N, N)``. With
    ``normalize`` (the default) it is divided by the number of positions ``M = H * W``.
    """
    features = tf.convert_to_tensor(features, tf.float32)
    gram = tf.einsum("bhwi,bhwj->bij", features, features)
    if normalize:
        shape = tf.shape(features)
        gram = gram / tf.cast(shape[1] * shape[2], tf.float32)
    return gram


def layer_style_loss(features, target_gram):
    """Style loss of one layer: ``1/(4 N^2) * sum (G - A)^2`` with ``G = gram_matrix(features)``.

    ``target_gram`` is the (normalised) Gram matrix of the style picture at that layer.
    """
    gram = gram_matrix(features)
    channels = tf.cast(tf.shape(gram)[-1], tf.float32)
    return tf.reduce_sum(tf.square(gram - tf.convert_to_tensor(target_gram, tf.float32))) / (4.0 * channels**2)


def style_loss(features: dict, target_grams: dict, layer_weights: dict):
    """Weighted sum of per-layer style losses: ``sum_l w_l * E_l``.

    ``features`` and ``target_grams`` map layer names to tensors; ``layer_weights`` maps the
    style layers to their weights ``w_l`` (only those layers are used).
    """
    total = tf.constant(0.0, tf.float32)
    for name, weight in layer_weights.items():
        total += weight * layer_style_loss(features[name], target_grams[name])
    return total


def total_variation_loss(image):
    """Mean squared difference between neighbouring pixels, down and across.

    ``image`` has shape ``(B, H, W, C)``. Penalising it smooths high-frequency noise.
    """
    image = tf.convert_to_tensor(image, tf.float32)
    down = tf.reduce_mean(tf.square(image[:, 1:, :, :] - image[:, :-1, :, :]))
    across = tf.reduce_mean(tf.square(image[:, :, 1:, :] - image[:, :, :-1, :]))
    return down + across
