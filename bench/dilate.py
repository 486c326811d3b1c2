"""Experiment: a network with dilated residual blocks, made from a trained one, to fine-tune.

Measured on 2026-12-07 (``bench/RESULTS.md``, "Dilated residual blocks"): each residual block's
two 3x3 convolutions get their taps spaced ``rate`` pixels apart at a quarter of the picture's
resolution, with the weights of the network they come from. That widens what the network sees
(its receptive field) from about 109 to 157 px at rates 1,2,2,2,1, for the same operations. Then
``styletransfer train --init`` fine-tunes it, and keeps the dilations (a network trained from a
dilated one is dilated too)::

    python bench/dilate.py starry_night --dilations 1,2,2,2,1 -o starry_dilated_start.keras
    styletransfer train starry_night --data ../shared/datasets/imagenet-samples -o starry_dilated.keras \\
        --init starry_dilated_start.keras ...   # the network's own settings (its record's command)

A dilated network is saved as ``.keras`` only: a weights file would load without its dilations.
"""

from __future__ import annotations

import argparse
import sys

from styletransfer_utils import feedforward as ff
from styletransfer_utils.errors import StyleTransferError
from styletransfer_utils.feedforward.network import build_transformer, network_width


def dilated_copy(model, dilations):
    """``model``'s weights in a network of its width whose residual blocks have ``dilations``."""
    twin = build_transformer(width=network_width(model), precision="float32", dilations=dilations)
    twin.set_weights(model.get_weights())
    return twin


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a shipped network's name or a model file")
    parser.add_argument("--dilations", default="1,2,2,2,1", help="one rate per residual block, 1 or 2")
    parser.add_argument("-o", "--output", required=True, help="the new network (NAME.keras)")
    args = parser.parse_args(argv)
    try:
        rates = tuple(int(r) for r in args.dilations.split(","))
    except ValueError:
        parser.error(f"--dilations {args.dilations!r} is not a list of whole numbers: give e.g. 1,2,2,2,1")
    try:
        path = ff.save_model(dilated_copy(ff.load_model(args.model), rates), args.output)
    except StyleTransferError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: {args.model} with dilations {','.join(map(str, rates))}; fine-tune it with "
          f"'styletransfer train STYLE --init {path} ...'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
