"""Benchmark: the feed-forward networks against the default Gatys picture, by the multi-scale measure.

For held-out photos (BSDS500, never in the networks' training folder) and each shipped network,
at each size (512 and 1024 px by default):

* ``network``: the network's picture, as ``styletransfer fast`` makes it (above 640 px, painted at
  512 px too: ``stylize_fast``'s pyramid, with its spikes clipped), and above 640 px
  ``network, one pass``, without the pyramid; with ``--spikes-kept``, also ``network, spikes kept``
  (``--spikes keep``: the network's own dabs);
* ``Gatys``: the package's default Gatys picture of the same photo and style (coarse-to-fine,
  the style picture at the network's training ``style_size``), the reference;

scored with :mod:`styletransfer_utils.measure.quality` (style and content scores, lower is better). It
prints each score and the network's ratio to Gatys': the target is at most 1.25x for both.

With ``--objective-weights``, it also runs Gatys at one size from the photo (as a network sees a
photo: no coarse-to-fine schedule, ``--objective-steps`` L-BFGS evaluations) on the network's own
training objective at each given style weight, and on the project's default objective. Those
pictures are what each objective asks for, and a network trained on it comes at best near its
picture: so they say which objective and weight could reach the target at all. This part runs
on a CPU; the training itself needs a GPU (``bench/jax_gpu.py``).

    python bench/network_quality.py                                   # 512 and 1024 px, one photo per network
    python bench/network_quality.py --sizes 512 --objective-weights 2e-4,1e-3,5e-3
    python bench/network_quality.py --models the_scream,new/the_scream.keras --same-photos --by-layer \
        --out bench/out/scream_candidates      # where each network's gap lies: by evaluation size and layer

With ``--training-photos N`` it also scores N photos of the networks' own training folder
(marked ``(trained on)``): a network as far from Gatys' picture there as on held-out photos has
not learnt its photos (it underfits), and more photos would not help it.

With ``--by-layer`` it also prints, under each picture's scores, its style error at each of the
measure's evaluation sizes and at each style layer (mean over the sizes), beside the Gatys
picture's: a network short of the target at conv2_1 and conv3_1 lacks the painting's fine strokes,
one short at every size and layer lacks more. The JSON rows keep these always.

Pictures, the rows (``network_quality.json``) and a contact sheet go to ``bench/out/network_quality/``
(``--out``) for you to look at; they stay out of the repository.

``--gatys-steps N`` makes the Gatys pictures with N evaluations instead of the default run's: a
weaker reference, for a trial of the script (the tests use it), not for the targets.

With ``--reference DIR`` the Gatys pictures come from an earlier run's ``--out`` folder where it
made them (the same style, style size, photo and size), instead of being made anew: most of a
run's time on a CPU (18 of 20 minutes for two networks on two photos at 512 and 1024 px on a 2-core
AVX2 CPU). A saved picture is rounded to whole levels, which moves a ratio by up to 0.01x. Their
times in the table are the earlier run's.

    python bench/network_quality.py --models new.keras --same-photos --photos 2 --reference bench/out/network_quality \
        --out bench/out/new
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from feedforward import held_out_photos, short, style_picture, training_photos  # noqa: E402  (bench/feedforward.py)

from styletransfer_utils import feedforward as ff  # noqa: E402
from styletransfer_utils.device import processor_name, resolve_precision  # noqa: E402
from styletransfer_utils.core.images import load_image, resize_to_long_side, save_image, show_grid  # noqa: E402
from styletransfer_utils.gatys import StyleTransfer, stylize  # noqa: E402
from styletransfer_utils.lessons.visualize import paper_name  # noqa: E402
from styletransfer_utils.measure.quality import STYLE_LAYERS, score  # noqa: E402
from styletransfer_utils.settings import Settings  # noqa: E402

OUT = ROOT / "bench" / "out" / "network_quality"
TARGET = 1.25
GATYS = "Gatys (default)"  #: the reference picture's method name


def timed(make):
    """``(make(), seconds it took)``."""
    start = time.perf_counter()
    picture = make()
    return picture, time.perf_counter() - start


def slug(method: str) -> str:
    """``"objective, weight 0.001"`` -> ``"objective_weight_0.001"``: a file-name part."""
    return "_".join(method.replace(",", "").replace("(", "").replace(")", "").split())


def breakdown(s, reference=None) -> str:
    """Two indented lines: a :class:`~styletransfer_utils.measure.quality.Score`'s style error at each
    evaluation size and at each style layer, each with the reference's in brackets when given."""
    def cell(mine: float, ref: float | None) -> str:
        return f"{mine:.3f}" + ("" if ref is None else f" ({ref:.3f})")

    def theirs(table: str, key):
        return None if reference is None else getattr(reference, table)[key]

    sizes = "  ".join(f"{size} px {cell(v, theirs('style_by_size', size))}" for size, v in s.style_by_size.items())
    layers = "  ".join(f"{paper_name(name)} {cell(s.style_by_layer[name], theirs('style_by_layer', name))}"
                       for name in STYLE_LAYERS)
    return f"{'':34s}   by size: {sizes}\n{'':34s}   by layer: {layers}"


def saved_references(folder: Path) -> dict:
    """The Gatys pictures an earlier run saved in ``folder``: ``(style, style size, photo name, size) ->
    (picture file, seconds it took)``. Each file is read only when its key comes up."""
    rows_file = folder / "network_quality.json"
    if not rows_file.is_file():
        raise SystemExit(f"--reference {folder}: no network_quality.json there; give the --out folder of "
                         "an earlier run of this script")
    found = {}
    for row in json.loads(rows_file.read_text()):
        if row["method"] == GATYS and "style_picture" in row and (folder / row["file"]).is_file():
            key = (row["style_picture"], row["style_size"], row["photo"], row["size"])
            found[key] = (folder / row["file"], row["seconds"])
    if not found:
        raise SystemExit(f"--reference {folder}: none of its rows names a saved Gatys picture (a run "
                         "before --reference existed?); run once without --reference")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_steps = Settings().steps
    parser.add_argument("--sizes", default="512,1024", help="comma-separated long sides")
    parser.add_argument("--models", default=",".join(ff.shipped_models()),
                        help="comma-separated shipped names or model files (each with its training record beside it)")
    parser.add_argument("--photos", type=int, default=1, help="held-out photos per network")
    parser.add_argument("--training-photos", type=int, default=0, help="also this many photos of the networks' "
                        "training folder, the same for every network: scores as far from Gatys' there as on the "
                        "held-out photos mean the networks have not learnt their own photos (underfitting)")
    parser.add_argument("--same-photos", action="store_true", help="the same photos for every network (to "
                        "compare two networks of one style; each Gatys picture is made once)")
    parser.add_argument("--objective-weights", default="", help="comma-separated style weights of the "
                        "training objective to run Gatys on (at the first size)")
    parser.add_argument("--objective-steps", type=int, default=300)
    parser.add_argument("--gatys-steps", type=int, default=default_steps, help="L-BFGS evaluations of the "
                        "Gatys reference (default: the default run's); fewer make a weaker reference, for a trial run")
    parser.add_argument("--spikes-kept", action="store_true", help="also the network with its spikes kept "
                        "(styletransfer fast --spikes keep)")
    parser.add_argument("--by-layer", action="store_true", help="also print each picture's style error by "
                        "evaluation size and by layer, beside the Gatys picture's")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder for the pictures, rows and contact sheet "
                        f"(default: {OUT.relative_to(ROOT)})")
    parser.add_argument("--reference", type=Path, help="an earlier run's --out folder: take the Gatys "
                        "pictures it made from there instead of making them anew")
    args = parser.parse_args()
    if args.gatys_steps < 1:
        parser.error(f"--gatys-steps is {args.gatys_steps}: give at least 1 evaluation")
    sizes = [int(s) for s in args.sizes.split(",")]
    weights = [float(w) for w in args.objective_weights.split(",") if w]
    models = [m for m in args.models.split(",") if m]
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {processor_name()}, {os.cpu_count()} CPUs; precision here: {resolve_precision('auto')}")
    if args.gatys_steps != default_steps:
        print(f"the Gatys pictures take {args.gatys_steps} evaluations, not the default's {default_steps}: "
              "a weaker reference than the targets mean")
    records = {name: ff.read_record(name) for name in models}
    # a label per model; two of one style (the shipped network and a candidate file) get numbered,
    # so that their pictures do not overwrite each other
    bases = [short(name) for name in models]
    labels = {name: base if bases.count(base) == 1 else f"{base}#{bases[:i + 1].count(base)}"
              for i, (name, base) in enumerate(zip(models, bases))}
    training_folder = next(iter(records.values()))["data"]
    photos = held_out_photos(args.photos * (1 if args.same_photos else len(models)), training_folder)
    seen = training_photos(args.training_photos, training_folder)
    # Gatys, the network, its one pass above 640 px, then the objectives' pictures
    columns = 2 + args.spikes_kept + any(ff.models.paints_a_pyramid(size) for size in sizes) + (
        1 + len(weights) if weights else 0)
    # (style, style size, photo name, size) -> (picture, seconds): each made once, or read from --reference
    saved = saved_references(args.reference) if args.reference else {}
    gatys_done = {}
    width = 56 if seen else 34  # ImageNet's file names are long
    print(f"\n{'network / photo':{width}s} {'size':>5s} {'method':22s} {'style':>7s} {'content':>8s} "
          f"{'x Gatys':>8s} {'x Gatys':>8s} {'time':>8s}")
    rows, sheet, titles = [], [], []
    for i, name in enumerate(models):
        trained = ff.records.record_settings(records[name])
        style = resize_to_long_side(style_picture(records[name]["style"]), trained.style_size)
        model = ff.load_model(name, precision="auto")
        first = 0 if args.same_photos else i * args.photos
        for photo_path in photos[first:first + args.photos] + seen:
            for size in sizes:
                photo = resize_to_long_side(load_image(photo_path), size)
                tag = f"{labels[name].replace('#', '_')}_{photo_path.stem}_{size}"
                key = (records[name]["style"], trained.style_size, photo_path.name, size)
                if key not in gatys_done:
                    reference = Settings(size=size, steps=args.gatys_steps)
                    gatys_done[key] = ((load_image(saved[key][0]), saved[key][1]) if key in saved
                                       else timed(lambda: stylize(photo, [style], reference).image))
                pictures = {GATYS: gatys_done[key], "network": timed(lambda: ff.stylize_fast(model, photo))}
                if args.spikes_kept:
                    pictures["network, spikes kept"] = timed(lambda: ff.stylize_fast(model, photo, spikes="keep"))
                if ff.models.paints_a_pyramid(size):  # what the pyramid adds over one pass
                    pictures["network, one pass"] = timed(lambda: ff.stylize_fast(model, photo, paint_size=None))
                if size == sizes[0] and weights:
                    # the project's own objective (relative losses, conv1_1 ... conv5_1) at one size from
                    # the photo, as a network would see it: no coarse-to-fine schedule
                    one_size = Settings(size=size, sizes=(size,), init="content", steps=args.objective_steps)
                    pictures["default objective, one size"] = timed(lambda: stylize(photo, [style], one_size).image)
                    for weight in weights:
                        settings = ff.gatys_settings(trained, style_weight=weight, size=size, sizes=(size,),
                                                     steps=args.objective_steps, precision="auto")
                        pictures[f"objective, weight {weight:g}"] = timed(
                            lambda: StyleTransfer(photo, [style], settings).run().image)
                scores = {method: score(image, photo, style) for method, (image, _) in pictures.items()}
                reference = scores[GATYS]
                label = f"{labels[name]} / {photo_path.name}{' (trained on)' if photo_path in seen else ''}"
                for method, (image, seconds) in pictures.items():
                    s, file = scores[method], f"{tag}_{slug(method)}.png"
                    save_image(out / file, image)
                    print(f"{label:{width}s} {size:5d} {method:22s} {s.style:7.3f} {s.content:8.3f} "
                          f"{s.style / reference.style:8.2f} {s.content / reference.content:8.2f} {seconds:7.2f}s",
                          flush=True)
                    if args.by_layer:
                        print(breakdown(s, None if method == GATYS else reference))
                    label = ""
                    rows.append({"model": name, "photo": photo_path.name, "trained_on": photo_path in seen,
                                 "size": size, "method": method, "file": file,
                                 "style_picture": records[name]["style"], "style_size": trained.style_size,
                                 "style": s.style, "content": s.content, "seconds": seconds,
                                 "style_ratio": s.style / reference.style,
                                 "content_ratio": s.content / reference.content,
                                 "style_by_size": {str(k): v for k, v in s.style_by_size.items()},
                                 "style_by_layer": s.style_by_layer})
                    sheet.append(resize_to_long_side(image, 512))
                    titles.append(f"{labels[name]} {size} px: {method}")
                for _ in range(columns - len(pictures)):  # one row of the sheet per photo and size
                    sheet.append(np.full_like(sheet[-1], 255.0))
                    titles.append("")
    print(f"\ntarget: the network's style and content scores at most {TARGET}x the default Gatys picture's")
    (out / "network_quality.json").write_text(json.dumps(rows, indent=1))
    show_grid(sheet, titles, columns=columns, size=4.5).savefig(out / "contact_sheet.png", dpi=80)
    print(f"pictures and a contact sheet in {out}")


if __name__ == "__main__":
    main()
