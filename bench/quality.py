"""Quality benchmark: how close Gatys renders come to the paper's look, by the multi-scale measure.

For Tübingen with each painting, at 512 px, it runs four recipes through the command line, each
in a fresh process (wall time and peak memory are those of the whole command):

* ``default``: the package's defaults (coarse-to-fine);
* ``single``: the defaults before coarse-to-fine (one size, 120 evaluations from the content, the
  paper's layers);
* ``reference``: the reference Torch recipe run by our code: one size, from noise, 1,000 L-BFGS
  evaluations, a style-heavy weight, the paper's layers;
* ``paper``: the default with the paper's layers instead: content at conv4_2 only, the five style
  layers alike, style weight 7 (the default until 2026-12-05, which pasted portraits' eyes).

and scores each with :mod:`styletransfer_utils.measure.quality` (style and content scores, lower is
better; the loss-neutral sliced score, since the style score compares Gram matrices and so favours
the ``gram`` loss; and the pasted score, how much of the painting's objects the picture holds: for
Picasso's self-portrait 0.64 painted in the manner alone, 0.8 with its eye pasted; compare it
between pictures of one painting, since its level depends on the painting). The reference Torch implementation's own outputs score 0.260/1.00 (Starry Night),
0.282/0.725 (Shipwreck) and 0.283/0.815 (The Scream). It writes a contact sheet of the renders to
``bench/out/quality/`` for you to look at; the inputs and renders stay out of the repository.

    python bench/quality.py                                   # the four recipes, three paintings
    python bench/quality.py --paintings starry_night --recipes default,single
    python bench/quality.py --recipe try="--style-weight 30 --init noise"   # a variant of your own
    python bench/quality.py --memory 1024,2048      # the default at high resolution: time, peak memory
    python bench/quality.py --recipes default --then 898f436   # beside the default of an older commit
    python bench/quality.py --figurative --recipes default     # portraits, where objects get pasted
    python bench/quality.py --losses                # the five style losses (notebook 08 at full size)

``--losses`` runs notebook 08's recipe (the default schedule, with the paper's layers alike and
style weight 7) once per style loss (``--style-loss``): ``gram`` (Gram matrices), ``meanstd``,
``w2``, ``histogram`` and ``sliced``, on Tübingen with The Starry Night and with Picasso's 1907
self-portrait, a texture-like and a figurative painting.

``--then COMMIT`` adds the recipe ``then``: the default command as it was at ``COMMIT``, run by
that commit's own code (a git worktree under ``bench/out/``), in the same run as the others, so
"how much faster than before" is measured on one machine at one time.

``--memory`` is where ``gatys.run.MEMORY_BASE`` and ``MEMORY_PER_PIXEL`` (the estimate that refuses
a size which cannot fit) come from: it prints the peak of each size beside that estimate.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gatys import find_picture, peak_rss_run  # noqa: E402  (bench/gatys.py: a CLI run in a fresh process)

from styletransfer_utils.device import processor_name, resolve_precision  # noqa: E402
from styletransfer_utils.core.images import load_image, show_grid  # noqa: E402
from styletransfer_utils.measure.quality import pasted, score, sliced_score  # noqa: E402

OUT = ROOT / "bench" / "out" / "quality"
PAINTINGS = ("starry_night", "the_scream", "shipwreck")
#: The paper's layers, all alike (the package's defaults weigh conv5_1 at 0.3 and add conv5_2 for content).
PAPER_LAYERS = ["--content-layers", "conv4_2", "--style-layer-weights", "1,1,1,1,1"]
RECIPES = {
    "default": [],
    "single": [*PAPER_LAYERS, "--sizes", "512", "--steps", "120", "--init", "content", "--no-relative-losses",
               "--style-weight", "5e-4", "--tv-weight", "1e-3"],
    "reference": [*PAPER_LAYERS, "--sizes", "512", "--steps", "1000", "--init", "noise", "--seed", "0", "--no-relative-losses",
                  "--style-weight", "1e-2", "--tv-weight", "1e-3"],
    # The default before 2026-12-05: the paper's layers alike, which pasted a portrait's eyes into the photo
    # (bench/RESULTS.md, "Paint the manner, not the objects").
    "paper": [*PAPER_LAYERS, "--style-weight", "7"],
}
#: Photo and figurative painting: the default pasted Picasso's eye over the first, a face with eyes
#: onto the tower of the second, Escher's mirror sphere and his figure into the third (bench/RESULTS.md,
#: "Paint the manner, not the objects").
FIGURATIVE = (("tubingen.jpg", "picasso_selfport1907"), ("hoovertowernight.jpg", "woman-with-hat-matisse"),
              ("tubingen.jpg", "escher_sphere"))
#: One recipe per style loss (``--losses``), with notebook 08's settings, the ``paper`` recipe: the default before
#: conv5_1 was turned down, which would hide the pasted eyes that notebook looks at.
LOSS_RECIPES = {name: [*RECIPES["paper"], "--style-loss", name] for name in ("gram", "meanstd", "w2", "histogram", "sliced")}
LOSS_PAINTINGS = ("starry_night", "picasso_selfport1907")
REFERENCE_TORCH = {"starry_night": (0.260, 1.00), "shipwreck": (0.282, 0.725), "the_scream": (0.283, 0.815)}


def painting_file(name: str) -> Path:
    for candidate in (f"{name}.jpg", f"{name.replace('_', '-')}.jpg", f"{name}.png"):
        try:
            return find_picture(candidate)
        except Exception:  # noqa: BLE001 - try the next spelling
            continue
    raise SystemExit(f"error: no picture for painting {name!r} in ../shared/images or the Keras cache")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paintings", default=",".join(PAINTINGS))
    parser.add_argument("--recipes", default=",".join(RECIPES), help="names among "
                        + ", ".join([*RECIPES, *LOSS_RECIPES]) + " (reference: 1,000 evaluations at 512 px, about an hour per painting on a 2-core CPU)")
    parser.add_argument("--recipe", action="append", default=[], metavar="NAME=OPTIONS",
                        help="an extra recipe: command-line options of styletransfer")
    parser.add_argument("--then", metavar="COMMIT", help="also run the default command of this older commit, "
                        "with its own code")
    parser.add_argument("--figurative", action="store_true", help="the figurative pairs (" + ", ".join(
                        f"{c} x {p}" for c, p in FIGURATIVE) + ") instead of Tübingen with --paintings")
    parser.add_argument("--losses", action="store_true", help="notebook 08's recipe with each style loss, on "
                        + " and ".join(LOSS_PAINTINGS) + " (instead of --recipes and --paintings)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--memory", help="comma-separated sizes: run the default at each (Tübingen x The Starry "
                        "Night) for its wall time and peak memory, beside the estimate, instead of the comparison")
    parser.add_argument("--precision", default="auto", help="with --memory: the command's --precision")
    args = parser.parse_args()
    if args.precision != "auto" and not args.memory:
        parser.error("--precision applies to --memory only; give a recipe's precision in --recipe NAME=OPTIONS")
    args.out = args.out.resolve()  # the "then" recipe runs from its own folder
    if args.memory:
        return high_resolution([int(n) for n in args.memory.split(",")], args.out, resolve_precision(args.precision))
    known = {**RECIPES, **LOSS_RECIPES}
    if args.losses:
        args.recipes, args.paintings = ",".join(LOSS_RECIPES), ",".join(LOSS_PAINTINGS)
    names = [name for name in args.recipes.split(",") if name]
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"no recipe {unknown[0]!r}: use names among {', '.join(known)}, or --recipe NAME=OPTIONS")
    recipes = {name: known[name] for name in names}
    for extra in args.recipe:
        name, _, options = extra.partition("=")
        recipes[name] = shlex.split(options)
    roots = {}  # recipe -> the checkout whose code runs it (none: this one)
    if args.then:
        recipes["then"], roots["then"] = [], checkout(args.then)
    args.out.mkdir(parents=True, exist_ok=True)
    pairs = FIGURATIVE if args.figurative else [("tubingen.jpg", p) for p in args.paintings.split(",")]
    print(f"machine: {processor_name()}, {os.cpu_count()} cores; precision here: {resolve_precision('auto')}; "
          f"size {args.size}")
    print(f"{'painting':14} {'recipe':10} {'style':>7} {'content':>8} {'sliced':>7} {'pasted':>7} {'wall s':>7} "
          f"{'peak GB':>8}")
    rows, pictures, titles = [], [], []
    for photo, painting in pairs:
        content, style = find_picture(photo), painting_file(painting)
        for name, options in recipes.items():
            out = args.out / f"{Path(photo).stem}_{painting}_{name}.png"
            wall, peak, rc = peak_rss_run([str(content), str(style), "-o", str(out), "-q", "--size", str(args.size),
                                           *options], roots.get(name))
            if rc != 0:
                print(f"{painting:14} {name:10} failed (exit {rc})")
                continue
            s, neutral, objects = score(out, content, style), sliced_score(out, style), pasted(out, style)
            rows.append({"photo": photo, "painting": painting, "recipe": name, "options": options, "style": s.style,
                         "content": s.content, "sliced": neutral, "pasted": objects, "wall_s": wall, "peak_gb": peak,
                         "style_by_size": s.style_by_size, "style_by_layer": s.style_by_layer})
            print(f"{painting:14} {name:10} {s.style:7.3f} {s.content:8.3f} {neutral:7.3f} {objects:7.3f} {wall:7.1f} "
                  f"{peak:8.2f}", flush=True)
            pictures.append(load_image(out))
            titles.append(f"{painting} / {name}\nstyle {s.style:.3f} content {s.content:.3f} "
                          f"sliced {neutral:.3f} pasted {objects:.2f}, {wall:.0f} s")
        if painting in REFERENCE_TORCH:
            print(f"{painting:14} {'torch ref':10} {REFERENCE_TORCH[painting][0]:7.3f} {REFERENCE_TORCH[painting][1]:8.3f}")
    (args.out / f"results_{time.strftime('%Y%m%d_%H%M%S')}.json").write_text(json.dumps(rows, indent=1))
    if pictures:
        show_grid(pictures, titles, columns=len(recipes), size=4.5).savefig(args.out / "contact_sheet.png", dpi=80)
        print(f"contact sheet: {args.out / 'contact_sheet.png'}")


def checkout(commit: str) -> Path:
    """A worktree of ``commit`` under ``bench/out/`` (made once), whose package the ``then`` recipe runs."""
    tree = OUT.parent / f"then-{commit}"
    if not (tree / "styletransfer_utils").is_dir():
        made = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-f", str(tree), commit],
                              capture_output=True, text=True)
        if made.returncode != 0:
            raise SystemExit(f"error: no worktree of {commit}: {made.stderr.strip()}")
    return tree


def high_resolution(sizes, out_dir: Path, precision: str) -> None:
    from styletransfer_utils.device import available_memory_bytes
    from styletransfer_utils.core.images import resize_to_long_side
    from styletransfer_utils.gatys.run import estimated_peak_bytes
    from styletransfer_utils.gatys.schedule import schedule
    from styletransfer_utils.settings import Settings

    out_dir.mkdir(parents=True, exist_ok=True)
    content, style = find_picture("tubingen.jpg"), find_picture("starry_night.jpg")
    print(f"machine: {processor_name()}, {os.cpu_count()} cores; precision {precision}; "
          f"free memory {available_memory_bytes() / 2**30:.1f} GB")
    print(f"{'size':>6} {'schedule (size x evaluations)':44} {'wall s':>7} {'peak GB':>8} {'estimate GB':>12} {'style':>6}")
    picture = load_image(content)
    for size in sizes:
        out = out_dir / f"tubingen_starry_night_{size}_{precision}.png"
        wall, peak, rc = peak_rss_run([str(content), str(style), "-o", str(out), "-q", "--size", str(size),
                                       "--precision", precision])
        h, w = resize_to_long_side(picture, size).shape[:2]
        estimate = estimated_peak_bytes(h, w) / 2**30
        plan = " ".join(f"{s}x{n}" for s, n in schedule(Settings(size=size), min(h, w) / max(h, w)))
        quality = f"{score(out, content, style).style:6.3f}" if rc == 0 else f"exit {rc}"
        print(f"{size:6d} {plan:44} {wall:7.1f} {peak:8.2f} {estimate:12.2f} {quality}", flush=True)


if __name__ == "__main__":
    main()
