"""The loss functions of Gatys et al. (2016), written in ``keras.ops``.

Lesson: ``notebooks/03_content_and_style_losses.ipynb``.

Notation (the paper's): a layer with ``N`` feature maps of ``M = H * W`` positions each gives
a matrix ``F`` of shape ``(M, N)`` for the generated picture and ``P`` for the content picture.
All functions take float32 tensors of shape ``(B, H, W, N)`` (a batch of ``B`` pictures; Gatys'
method has ``B = 1``) and return float32 scalars. Being ``keras.ops``, they run on any Keras 3
backend: TensorFlow here, JAX on a GPU machine without TensorFlow.

Normalisations are chosen so the default weights work at every image size:

* content loss is the *mean* squared difference, ``1/(M N) * sum (F - P)^2``;
* the Gram matrix is divided by ``M``: ``G = F^T F / M``, so it does not grow with the picture;
* the style loss per layer is ``1/(4 N^2) * sum (G - A)^2``, which equals the paper's
  ``E_l = 1/(4 N^2 M^2) * sum (F^T F - S^T S)^2`` exactly (averaged over a batch);
* total variation is the mean squared difference of neighbouring pixels.

The style losses besides Gram's (``Settings.style_loss``), each of one picture's features
``(1, H, W, N)`` against a style's targets, over the whole picture or a mask's region:

* ``meanstd``: each channel's mean and standard deviation (Li et al. 2017), :func:`mean_std_loss`;
* ``w2``: the Wasserstein-2 distance of Gaussians fitted to the features, :func:`wasserstein_style_loss`;
* ``histogram``: each channel's histogram (Risser et al. 2017), :func:`histogram_loss`;
* ``sliced``: the sliced Wasserstein distance (Heitz et al. 2021), :func:`sliced_wasserstein_loss`.

Their targets, blends and relative sizes are in :mod:`.style_targets`; :mod:`.objective`
combines all of these into the whole objective, for Gatys and for training alike.
"""

from __future__ import annotations

import numpy as np

from ..device import import_tensorflow_quietly

import_tensorflow_quietly()  # Keras imports TensorFlow, whose C++ start-up lines would reach the terminal
from keras import ops  # noqa: E402


def _f32(x):
    return ops.cast(ops.convert_to_tensor(x), "float32")


def content_loss(features, target):
    """Mean squared difference of two feature maps: ``1/(M N) * sum (F - P)^2``.

    The paper uses ``1/2 * sum (F - P)^2``; ours is that divided by ``M N / 2``, which keeps the
    value (and so the content weight) independent of the picture's size.
    """
    return ops.mean(ops.square(_f32(features) - _f32(target)))


def gram_matrix(features, *, normalize: bool = True, dtype: str = "float32"):
    """Gram matrix of feature maps: ``G[i, j] = sum_k F[k, i] F[k, j]`` (divided by ``M``).

    ``features`` has shape ``(B, H, W, N)``; the result has shape ``(B, N, N)``, float32. With
    ``normalize`` (the default) it is divided by the number of positions ``M = H * W``.
    ``dtype="bfloat16"`` multiplies in bf16 (on CPUs with bf16 units and on GPUs the sums are
    accumulated in float32, each entry of the result rounded to bf16): about twice as fast on CPUs
    with AMX, and its gradient within 0.4% of float32's (measured at 512 px on conv1_1 ... conv5_1).
    TensorFlow's own kernels on a CPU without bf16 units (AVX2 alone) round more, 0.3% of G on
    random maps, and are not faster: there ``precision="auto"`` keeps float32.
    """
    features = ops.convert_to_tensor(features)
    shape = ops.shape(features)
    positions = ops.cast(shape[1] * shape[2], "float32") if normalize else 1.0
    flat = ops.reshape(ops.cast(features, dtype), (shape[0], -1, shape[3]))
    held = ops.stop_gradient(flat)
    half = ops.cast(ops.matmul(ops.transpose(held, (0, 2, 1)), flat), "float32") / positions
    # half's value is G = F^T F; its gradient is F U alone, one product, where autodiff of F^T F makes
    # two and transposes F twice (the style part of an evaluation at 512 px, bf16 on an AMX CPU:
    # 45 -> 18 ms). half + half^T - G has G's value and the whole gradient, F (U + U^T). Written so,
    # not as a custom gradient: under tf.function each trace of one registers a gradient function
    # for good, and that kept every run's graph alive (about 30 MB per run).
    return half + ops.transpose(half, (0, 2, 1)) - ops.stop_gradient(half)


def layer_style_loss(features, target_gram, *, dtype: str = "float32"):
    """Style loss of one layer: ``1/(4 N^2) * sum (G - A)^2`` with ``G = gram_matrix(features)``.

    ``target_gram`` is the (normalised) Gram matrix of the style picture at that layer, of shape
    ``(1, N, N)`` or ``(N, N)``; for a batch the loss is the mean over its pictures. ``dtype`` is
    the Gram matrix's multiplication's (see :func:`gram_matrix`).
    """
    gram = gram_matrix(features, dtype=dtype)
    shape = ops.shape(gram)
    channels, batch = ops.cast(shape[-1], "float32"), ops.cast(shape[0], "float32")
    return ops.sum(ops.square(gram - _f32(target_gram))) / (4.0 * channels**2) / batch


def relative_gram_error(features, target_gram, *, dtype: str = "float32"):
    """Relative Gram error of one layer, ``||G - A||_F / ||A||_F``, averaged over the batch's pictures.

    The project's quality measure scores style by it (:mod:`~styletransfer_utils.measure.quality`).
    As a loss (``TrainSettings.style_error="norm"``) its gradient does not grow with the error, as
    :func:`layer_style_loss`'s does: no layer drowns the others.
    """
    gram = gram_matrix(features, dtype=dtype)
    target = _f32(target_gram)
    errors = ops.sqrt(ops.sum(ops.square(gram - target), axis=(-2, -1)) + 1e-12)
    return ops.mean(errors) / ops.sqrt(ops.sum(ops.square(target)))


def guided_gram_matrix(features, masks):
    """Gram matrices over regions (Gatys et al. 2017's guided Gram matrices): one per mask.

    ``features`` has shape ``(1, H, W, N)`` and ``masks`` ``(S, H, W)`` (values in ``[0, 1]``,
    at the layer's resolution). Region ``s`` gives ``sum_k m_k^2 F_k F_k^T / sum_k m_k^2``: the
    masked features' Gram matrix, normalised by the region's size, so a full mask gives
    :func:`gram_matrix`. The result has shape ``(S, N, N)``.
    """
    features, masks = _f32(features), _f32(masks)
    weighted = masks[..., None] * features  # (S, H, W, N)
    gram = ops.einsum("shwi,shwj->sij", weighted, weighted)
    area = ops.sum(ops.square(masks), axis=(1, 2))
    return gram / ops.maximum(area, 1e-6)[:, None, None]


def guided_style_loss(features, target_grams, masks, weights):
    """Style loss of one layer with one region per style: ``sum_s w_s/(4 N^2) sum (G_s - A_s)^2``.

    ``G_s`` is the :func:`guided_gram_matrix` of ``features`` under mask ``s``, ``A_s`` the Gram
    matrix of style ``s`` (``target_grams`` has shape ``(S, N, N)``), ``weights`` shape ``(S,)``.
    """
    grams = guided_gram_matrix(features, masks)
    channels = ops.cast(ops.shape(grams)[-1], "float32")
    per_style = ops.sum(ops.square(grams - _f32(target_grams)), axis=(1, 2)) / (4.0 * channels**2)
    return ops.sum(_f32(weights) * per_style)


def _flat(features):
    """``(1, H, W, N)`` (or a batch, whose pictures are pooled) -> ``(M, N)`` float32."""
    features = _f32(features)
    return ops.reshape(features, (-1, ops.shape(features)[-1]))


def _position_weights(flat, mask):
    """Each position's weight, ``(M, 1)``: the mask squared, as in :func:`guided_gram_matrix` (so
    a region's second moment is its guided Gram matrix), or one everywhere for ``mask=None``."""
    if mask is None:
        return ops.ones_like(flat[:, :1])
    return ops.reshape(ops.square(_f32(mask)), (-1, 1))


def _region_mean(features, mask):
    """``(flat, weights, total, mean)``: the ``(M, N)`` features, each position's weight (see
    :func:`_position_weights`), their sum and the weighted mean ``(N,)`` of the region."""
    flat = _flat(features)
    weights = _position_weights(flat, mask)
    total = ops.maximum(ops.sum(weights), 1e-6)
    return flat, weights, total, ops.sum(weights * flat, axis=0) / total


def feature_moments(features, mask=None):
    """Mean ``(N,)`` and second moment ``F^T F / M`` ``(N, N)`` of one picture's feature maps
    (``features`` of shape ``(1, H, W, N)``): what :func:`wasserstein_style_loss` compares. With a
    ``mask`` ``(H, W)``, the moments of its region (positions weighted by the mask squared)."""
    if mask is None:
        features = _f32(features)
        flat = ops.reshape(features, (-1, ops.shape(features)[-1]))
        return ops.mean(flat, axis=0), gram_matrix(features)[0]
    flat, weights, total, mean = _region_mean(features, mask)
    return mean, ops.matmul(ops.transpose(weights * flat), flat) / total


def mean_std_loss(features, mean, std, mask=None):
    """Li et al. (2017)'s batch-normalisation statistics loss: ``1/N sum_i (mu_i - m_i)^2 + (sigma_i - s_i)^2``.

    ``mu`` and ``sigma`` are the mean and standard deviation of each of the ``N`` channels over the
    positions of ``features`` ``(1, H, W, N)`` (of a ``mask``'s region, weighted as in
    :func:`feature_moments`); ``mean`` and ``std`` ``(N,)`` are the style's. What AdaIN matches
    too. ``sigma`` is ``sqrt(variance + 1e-8)``, so its gradient stays finite on a flat channel.
    """
    flat, weights, total, mu = _region_mean(features, mask)
    variance = ops.sum(weights * ops.square(flat - mu), axis=0) / total
    sigma = ops.sqrt(variance + 1e-8)
    return ops.mean(ops.square(mu - _f32(mean)) + ops.square(sigma - _f32(std)))


def wasserstein_style_loss(features, mean, cov_root, cov_trace, mask=None):
    """Squared Wasserstein-2 distance between Gaussians fitted to two sets of features, per channel.

    ``features`` ``(1, H, W, N)`` (a ``mask``'s region of them) give mean ``mu`` and covariance
    ``C``; the style is given by its mean, the symmetric square root of its covariance
    ``S = C_s^(1/2)`` and ``tr C_s`` (computed once, in NumPy). The distance is
    ``|mu - mu_s|^2 + tr C + tr C_s - 2 tr (S C S)^(1/2)``, divided by ``N``: where the Gram loss
    matches the second moments only, this matches mean and covariance as distributions do
    (Kolkin et al. 2019; Mroueh 2019; crowsonkb/style-transfer-pytorch). ``(S C S)^(1/2)``'s trace
    is the sum of the square roots of its eigenvalues (``ops.eigh``), which are clipped at a small
    floor so the gradient stays finite where the features have no variance.
    """
    mu, second = feature_moments(features, mask)
    cov = second - ops.einsum("i,j->ij", mu, mu)
    root = _f32(cov_root)
    middle = ops.matmul(ops.matmul(root, cov), root)
    eigenvalues = ops.eigh((middle + ops.transpose(middle)) / 2.0)[0]
    cross = ops.sum(ops.sqrt(ops.maximum(eigenvalues, 1e-8)))
    channels = ops.cast(ops.shape(cov)[-1], "float32")
    distance = ops.sum(ops.square(mu - _f32(mean))) + ops.trace(cov) + _f32(cov_trace) - 2.0 * cross
    return distance / channels


def quantiles_at(quantiles, levels):
    """A quantile function sampled at ``K`` even levels ``(k + 1/2) / K`` (``quantiles`` ``(K, P)``,
    one column per channel or projection, each sorted) read at ``levels`` in ``[0, 1]`` (``(L,)``
    for every column alike, or ``(L, P)``), by linear interpolation: a target of any count
    resampled to the output's."""
    quantiles = _f32(quantiles)
    count = ops.shape(quantiles)[0]
    where = ops.clip(_f32(levels) * ops.cast(count, "float32") - 0.5, 0.0, ops.cast(count - 1, "float32"))
    low = ops.floor(where)
    frac = where - low
    low = ops.cast(low, "int32")
    high = ops.minimum(low + 1, count - 1)
    if len(ops.shape(where)) == 1:
        return ops.take(quantiles, low, axis=0) * (1.0 - frac[:, None]) + ops.take(quantiles, high, axis=0) * frac[:, None]
    return (ops.take_along_axis(quantiles, low, axis=0) * (1.0 - frac)
            + ops.take_along_axis(quantiles, high, axis=0) * frac)


def _matching_loss(values, quantiles, mask=None):
    """Each column of ``values`` ``(M, P)`` against the target distribution ``quantiles`` (see
    :func:`quantiles_at`): the squared 1-D Wasserstein-2 distance, averaged over the columns.

    This is Risser et al. (2017)'s ``||F - R(F)||^2 / M`` with ``R(F)`` the histogram-matched
    values, outside the gradient: ``R`` gives the value of rank ``r`` the target's quantile at
    level ``(r + 1/2) / M`` (with a ``mask``, at the middle of its share of the cumulative weight,
    each position weighted by the mask squared), so the same sum is taken over the sorted values
    against the target's quantiles, with one sort (instead of sorting and putting back).

    Without a mask the columns are sorted as rows (``ops.sort`` along the last axis, whose gradient
    puts each rank's back in place): the same value and gradient as gathering by ``argsort``, in less
    memory, since the gather builds 64-bit index grids as large as the features (a sliced run at 512 px
    peaked at 2.89 GB instead of 3.35).
    """
    count = ops.shape(values)[0]
    if mask is None:
        ranked = ops.sort(ops.transpose(values), axis=-1)
        levels = (ops.cast(ops.arange(count), "float32") + 0.5) / ops.cast(count, "float32")
        return ops.mean(ops.square(ranked - ops.stop_gradient(ops.transpose(quantiles_at(quantiles, levels)))))
    order = ops.argsort(ops.stop_gradient(values), axis=0)
    ranked = ops.take_along_axis(values, order, axis=0)
    weights = ops.take_along_axis(ops.broadcast_to(_position_weights(values, mask), ops.shape(values)), order, axis=0)
    total = ops.maximum(ops.sum(weights, axis=0), 1e-6)
    levels = (ops.cumsum(weights, axis=0) - weights / 2.0) / total
    error = weights * ops.square(ranked - ops.stop_gradient(quantiles_at(quantiles, levels)))
    return ops.mean(ops.sum(error, axis=0) / total)


def histogram_loss(features, quantiles, mask=None):
    """Risser et al. (2017)'s histogram loss: ``||F - R(F)||^2 / (M N)``, where ``R(F)`` is ``F``
    with each channel histogram-matched to the style's (outside the gradient; see
    :func:`_matching_loss`). ``quantiles`` ``(K, N)``: each channel's sorted values, or a blend's.
    Its value is each channel's squared 1-D Wasserstein-2 distance, averaged over the channels."""
    return _matching_loss(_flat(features), quantiles, mask)


def sliced_wasserstein_loss(features, directions, quantiles, mask=None):
    """Heitz et al. (2021)'s sliced Wasserstein loss: the features projected on ``P`` unit
    directions (``directions`` ``(N, P)``), each projection's sorted values compared with the
    style's (``quantiles`` ``(K, P)``, the style's projections sorted) resampled to the same count:
    the squared 1-D Wasserstein-2 distances, averaged over the directions."""
    return _matching_loss(ops.matmul(_flat(features), _f32(directions)), quantiles, mask)


def style_loss(features: dict, target_grams: dict, layer_weights: dict):
    """Weighted sum of per-layer style losses: ``sum_l w_l * E_l``.

    ``features`` and ``target_grams`` map layer names to tensors; ``layer_weights`` maps the
    style layers to their weights ``w_l`` (only those layers are used).
    """
    total = 0.0
    for name, weight in layer_weights.items():
        total = total + weight * layer_style_loss(features[name], target_grams[name])
    return ops.convert_to_tensor(total, "float32")


def total_variation_loss(image):
    """Mean squared difference between neighbouring pixels, down and across.

    ``image`` has shape ``(B, H, W, C)``. Penalising it smooths high-frequency noise.
    """
    image = _f32(image)
    down = ops.mean(ops.square(image[:, 1:, :, :] - image[:, :-1, :, :]))
    across = ops.mean(ops.square(image[:, :, 1:, :] - image[:, :, :-1, :]))
    return down + across


def matrix_power(matrix: np.ndarray, power: float, floor: float = 0.0) -> np.ndarray:
    """``matrix ** power`` of a symmetric matrix (``0.5``: its symmetric square root), its
    eigenvalues clipped at ``floor`` first (``floor > 0`` for a negative power)."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.clip(values, floor, None) ** power) @ vectors.T
