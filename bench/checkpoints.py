"""Benchmark: what more training buys. Scores a training run's checkpoints on held-out photos.

For each checkpoint (a prefix such as ``run.keras.checkpoints/ckpt-2000``) or model file, prints
the mean content, style and total loss of its results on ``--photos`` BSDS500 photos at
``--size`` px, under the training objective of ``--record`` (a shipped model's name or a model
file with its ``.json`` training record), all measured by the float32 evaluator
(:func:`styletransfer_utils.feedforward.objective`). With ``--average`` it scores one network
instead: the mean of the listed checkpoints' weights (a cheap way to smooth out the noise of the
last steps).

The photos are spread over BSDS500 and offset from those of ``bench/feedforward.py``, so the
two benchmarks never score on the same photos. The checkpoint manager keeps only the last two
checkpoints of a run: copy them aside while it trains to score its whole history.

Usage: ``python bench/checkpoints.py --record shipwreck RUN/ckpt-1000 RUN/ckpt-2000 ... [--average]``
(``RUN`` is a training run's checkpoint folder, ``MODEL.keras.checkpoints`` by default)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from styletransfer_utils.device import import_tensorflow_quietly

import_tensorflow_quietly()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from styletransfer_utils import feedforward as ff  # noqa: E402
from styletransfer_utils import ModelError  # noqa: E402
from styletransfer_utils.data import resolve_picture  # noqa: E402
from styletransfer_utils.core.images import load_image, resize_to_long_side  # noqa: E402
from feedforward import held_out_photos  # noqa: E402  (bench/feedforward.py, beside this file)

tf.get_logger().setLevel("ERROR")  # objective() traces once per photo: the retracing notes are expected


def validation_photos(count: int, size: int, training_folder: str) -> list[tuple[str, np.ndarray]]:
    """``count`` held-out BSDS500 photos at ``size`` px, half a stride away from feedforward.py's."""
    photos = held_out_photos(count, training_folder, half_stride=True)
    return [(p.stem, resize_to_long_side(load_image(p), size)) for p in photos]


def network(ref: str, half_width: bool):
    """A model file, a shipped model's name or a checkpoint prefix, as a float32 network."""
    if ref.lower().endswith(ff.models.MODEL_SUFFIXES) or ref in ff.shipped_models():
        try:
            return ff.load_model(ref)
        except ModelError as err:
            raise SystemExit(f"checkpoints.py: error: {err}") from None
    if not tf.io.gfile.glob(ref + ".index"):
        raise SystemExit(f"checkpoints.py: error: {ref}: no such checkpoint, model file or shipped model; "
                         "give DIR/ckpt-N (a prefix of DIR/ckpt-N.index), a .keras file or one of "
                         + ", ".join(ff.shipped_models()))
    model = ff.build_transformer(half_width=half_width, precision="float32", seed=0)
    tf.train.Checkpoint(model=model).restore(ref).expect_partial()
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="checkpoint prefixes (DIR/ckpt-N), model files or shipped model names")
    parser.add_argument("--record", required=True, help="shipped model name or model file whose training record "
                        "gives the objective (style, weights, layers, width)")
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--average", action="store_true", help="score the mean of the checkpoints' weights instead")
    args = parser.parse_args()
    record = ff.read_record(args.record)
    if record is None:
        raise SystemExit(f"no training record for {args.record}")
    settings = ff.records.record_settings(record)
    style = resolve_picture(record["style"])
    photos = validation_photos(args.photos, args.size, record["data"])
    print(f"objective of {args.record} ({record['style']}); {len(photos)} held-out photos at {args.size} px: "
          + " ".join(stem for stem, _ in photos))
    print(f"{'network':50s} {'total':>10s} {'content':>10s} {'style':>10s}   (means over the photos)")
    models = [(ref, network(ref, settings.half_width)) for ref in args.checkpoints]
    if args.average:
        weights = [m.get_weights() for _, m in models]
        mean = ff.build_transformer(half_width=settings.half_width, precision="float32", seed=0)
        mean.set_weights([np.mean(layer, axis=0) for layer in zip(*weights)])
        models = [(f"mean of {len(weights)}: " + ", ".join(Path(ref).name for ref in args.checkpoints), mean)]
    for label, model in models:
        terms = [ff.objective(ff.stylize_fast(model, photo), photo, style, settings) for _, photo in photos]
        m = {k: float(np.mean([t[k] for t in terms])) for k in ("total", "content", "style")}
        print(f"{label:50s} {m['total']:10.4g} {m['content']:10.4g} {m['style']:10.4g}", flush=True)


if __name__ == "__main__":
    main()
