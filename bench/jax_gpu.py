"""Feed-forward networks on a GPU machine without TensorFlow: Keras 3 on its JAX backend.

The package is built on TensorFlow, but its transformation network and VGG19 are plain Keras 3
models, so they also run on Keras' JAX backend. This script uses that to measure, on a GPU
machine that has JAX but no TensorFlow:

1. training: Johnson et al.'s networks trained with the package's training objective
   (``objective.Objective.batch_terms``, the keras.ops code ``Trainer.losses`` runs) for a fixed
   time per style, from the same initial weights as ``styletransfer train --seed 0``;
2. inference: milliseconds per picture of a shipped network at 256/512/1024 px;
3. Gatys: milliseconds per loss-and-gradient evaluation of the package's default objective.

It runs in two halves. ``prepare`` (here, with TensorFlow and the shared data) writes a bundle:
the training photos scaled as ``feedforward.random_crop`` scales them (short side = crop size),
the style pictures' Gram matrices as the package's ``Trainer`` computes them, VGG19's weights up
to ``block5_conv1`` in float16, and the settings. ``run`` (there) reads the bundle and writes
the trained networks and the figures to ``--out``. The networks come back as ordinary ``.keras``
files that the package loads on TensorFlow; judge them with ``bench/feedforward.py --models``.

    python bench/jax_gpu.py prepare BUNDLE            # needs ../shared and TensorFlow
    KERAS_BACKEND=jax python bench/jax_gpu.py run BUNDLE --out OUT --train-seconds 110
    KERAS_BACKEND=jax python bench/jax_gpu.py run BUNDLE --out OUT2 --init OUT --learning-rate 1e-4 \
        --train-seconds 45 --no-tables             # go on from OUT's networks at a lower rate
    python bench/jax_gpu.py record OUT OUT2 --into DIR  # NAME.keras from OUT2, NAME.json from both runs

``record`` writes each network's training record as ``styletransfer train`` would (settings,
phases, loss history, time, machine, and the commands above); ``--onto FOLDER`` goes on from the
records of the networks the first run's ``--init`` came from. The bundle holds copies of the
shared photos (scaled): keep it out of the repository and delete it after use. How the shipped
networks were trained: ``styletransfer_utils/models/README.md``. The objective is the package's
own; the JAX glue around it is tested against ``Trainer.losses`` on TensorFlow
(``tests/test_bench.py``). The data differ only in that crops are drawn at random with
replacement rather than in shuffled passes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"



# ---------------------------------------------------------------------------------------------
# prepare (TensorFlow side)


def prepare(bundle: Path, data: Path, quality: int) -> None:
    from PIL import Image

    from styletransfer_utils import feedforward as ff
    from styletransfer_utils.core.objective import LOSS_TERMS
    from styletransfer_utils.device import import_tensorflow_quietly
    from styletransfer_utils.data import resolve_picture
    from styletransfer_utils.errors import ImageError
    from styletransfer_utils.core.features import FeatureExtractor, build_vgg19
    from styletransfer_utils.core.images import as_picture, load_image, preprocess, resize_to_long_side
    from styletransfer_utils.core.objective import Objective
    from styletransfer_utils.settings import Settings

    import_tensorflow_quietly()
    photos = bundle / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    meta = {"data": os.path.relpath(data, ROOT), "styles": {}, "skipped": 0}  # as the records give it
    crop = None
    grams = {}
    for name in ff.shipped_models():
        record = ff.read_record(name)
        s = ff.records.record_settings(record)
        crop = s.crop_size
        style = resize_to_long_side(as_picture(resolve_picture(record["style"]), max(s.style_size, 2048)), s.style_size)
        extractor = FeatureExtractor(s.style_layers, pooling=s.pooling, precision=s.vgg_precision())
        for layer, gram in Objective.from_settings(s).style_targets(extractor(preprocess(style))).items():
            grams[f"{name}/{layer}"] = np.asarray(gram)[0]
        for factor, targets in ff.trainer.shrunk_style_targets(extractor, style, s).items():  # as the trainer does
            for layer, gram in targets.items():
                grams[f"{name}/x{factor}/{layer}"] = np.asarray(gram)[0]
        meta["styles"][name] = {"style": record["style"], "settings": ff.records.settings_dict(s)}
    np.savez_compressed(bundle / "grams.npz", **grams)
    for i, path in enumerate(ff.find_pictures(data)):  # as PictureFolder.load + random_crop scale them
        try:
            picture = load_image(path, max_size=4 * crop, min_side=16)
        except ImageError:
            meta["skipped"] += 1
            continue
        Image.fromarray(ff.photos.scale_for_crops(picture, crop)).save(photos / f"{i:05d}.jpg", quality=quality)
    weights = {}
    for layer in build_vgg19("block5_conv1").layers:  # the ImageNet weights, as the package loads them
        if layer.weights:
            kernel, bias = layer.get_weights()
            weights[f"{layer.name}/kernel"], weights[f"{layer.name}/bias"] = kernel.astype(np.float16), bias.astype(np.float16)
    np.savez_compressed(bundle / "vgg19_f16.npz", **weights)
    g = ff.records.settings_dict(Settings())
    meta["gatys"] = {k: g[k] for k in ("content_layers", "style_layers", "content_weight", "style_weight", "tv_weight")}
    (bundle / "meta.json").write_text(json.dumps(meta, indent=1))
    total = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    print(f"bundle {bundle}: {len(list(photos.iterdir()))} photos, {total / 1e6:.1f} MB")


# ---------------------------------------------------------------------------------------------
# record: a network's training record from the runs that trained it


def _number(x: float) -> str:
    """A learning rate as one writes it on a command line: 0.001 -> 1e-3, 0.00025 -> 2.5e-4."""
    mantissa, exponent = f"{x:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def make_record(name: str, runs: list[dict], base: dict | None = None) -> dict:
    """``name``'s training record (the ``NAME.json`` of ``styletransfer train``) from the
    ``results.json`` of the ``run``s that trained it, in order, each going on from the last.

    ``base`` is the record of the network the first run started from (``--init``), if any: its
    phases, history, time and command come first. Each run adds a phase, its loss history (steps
    and seconds counted on from the phases before) and its ``run`` command to the record's.
    """
    if not runs:
        raise SystemExit("error: record needs the output folder of at least one run")
    record = json.loads(json.dumps(base)) if base else {
        "model": f"{name}.keras", "phases": [], "history": [], "steps": 0, "total_seconds": 0,
        "command": "python bench/jax_gpu.py prepare BUNDLE"}
    label = lambda k: "OUT" if k == 1 else f"OUT{k}"  # noqa: E731  (the k-th run's --out)
    for phase in record["phases"]:  # records written before phases gave their batch size
        phase.setdefault("batch_size", round(phase["images_seen"] / phase["steps"]))
    for results in runs:
        if name not in results.get("train", {}):
            raise SystemExit(f"error: a run trained no {name}: its styles are {', '.join(results.get('train', {}))}")
        run = results["train"][name]
        args = results.get("args") or {"train_seconds": round(run["seconds"]), "batch_size": run["batch_size"]}
        k = len(record["phases"]) + 1
        lr = run["settings"]["learning_rate"]
        record["command"] += (
            f" && KERAS_BACKEND=jax python bench/jax_gpu.py run BUNDLE --out {label(k)} --styles {name} "
            f"--batch-size {run['batch_size']}" + (f" --init {label(k - 1)}" if k > 1 else "")
            + (f" --learning-rate {_number(lr)}" if args.get("learning_rate") or k > 1 else "")
            + f" --train-seconds {args['train_seconds']:g} --no-tables")
        record["phases"].append({
            "learning_rate": lr, "batch_size": run["batch_size"],
            "init": f"phase {k - 1}'s network, a fresh Adam" if k > 1 else
            f"build_transformer(half_width={run['settings']['half_width']}, seed={run['settings']['seed']})",
            **{key: run[key] for key in ("steps", "images_seen", "seconds", "images_per_second", "compile_seconds",
                                         "final_losses_mean_of_last_500_steps")}})
        record["history"] += [{**h, "step": h["step"] + record["steps"],
                               "seconds": round(h["seconds"] + record["total_seconds"], 2)} for h in run["history"]]
        record["steps"] += run["steps"]
        record["total_seconds"] = round(record["total_seconds"] + run["seconds"], 1)
        for key in ("style", "data", "pictures", "skipped"):
            if key in run or key in results:
                record[key] = run.get(key, results.get(key))
        machine = results["machine"]
        if "gpu" in machine:  # (runs made before 'record' existed did not name it)
            gpu = machine["gpu"]
            record["machine"] = {"processor": f"{gpu[0]} GPU (Keras on JAX)" if gpu else "CPU (Keras on JAX)",
                                 "cpus": machine["cpus"], "gpu": gpu}
        record.update(versions=results["versions"], date=results["date"], seconds_this_session=run["seconds"],
                      images_per_second=run["images_per_second"],
                      final_losses_mean_of_last_500_steps=run["final_losses_mean_of_last_500_steps"],
                      settings={**run["settings"], "steps": record["steps"],  # the schedule's first rate
                                "learning_rate": record["phases"][0]["learning_rate"]})
    record["images_seen"] = sum(p["images_seen"] for p in record["phases"])
    missing = [key for key in ("style", "data", "pictures", "machine") if key not in record]
    if missing:
        raise SystemExit(f"error: the runs do not say {', '.join(missing)} (runs made before 'record' existed): "
                         "pass --onto the folder of the record their first run went on from")
    order = ["model", "style", "data", "pictures", "skipped", "steps", "images_seen", "seconds_this_session",
             "total_seconds", "images_per_second", "final_losses_mean_of_last_500_steps", "settings", "phases",
             "command", "machine", "versions", "date", "history"]
    return {key: record[key] for key in order if key in record}


def record(runs: list[Path], into: Path, onto: Path | None, styles) -> None:
    """Write ``into/NAME.json`` for each style of the last run and copy its ``NAME.keras`` there."""
    import shutil

    for folder in runs:
        if not (folder / "results.json").is_file():
            raise SystemExit(f"error: no results.json in {folder}: give the --out folders of 'run', in order")
    results = [json.loads((folder / "results.json").read_text()) for folder in runs]
    into.mkdir(parents=True, exist_ok=True)
    for name in styles or list(results[-1]["train"]):
        base = None
        if onto is not None:
            path = onto / f"{name}.json"
            if not path.is_file():
                raise SystemExit(f"error: no record {path} to go on from")
            base = json.loads(path.read_text())
        made = make_record(name, results, base)
        shutil.copyfile(runs[-1] / f"{name}.keras", into / f"{name}.keras")
        (into / f"{name}.json").write_text(json.dumps(made, indent=1) + "\n")
        print(f"{into / name}.keras and .json: {made['steps']} steps, {made['images_seen']} crops, "
              f"{made['total_seconds']:g} s")


# ---------------------------------------------------------------------------------------------
# run (JAX side)


class Log:
    def __init__(self, path: Path):
        self.file = open(path, "a")

    def __call__(self, *parts) -> None:
        line = " ".join(str(p) for p in parts)
        print(line, flush=True)
        self.file.write(line + "\n")
        self.file.flush()


def load_photos(folder: Path) -> list[np.ndarray]:
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    def read(p):
        with Image.open(p) as im:
            return np.asarray(im.convert("RGB"))

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(read, sorted(folder.glob("*.jpg"))))


def crops(photos, size: int, batch: int, seed: int, stop: threading.Event, depth: int = 8):
    """A thread filling a queue with batches of random crops (flipped half the time), uint8."""
    q: queue.Queue = queue.Queue(depth)

    def fill():
        rng = np.random.default_rng(seed)
        while not stop.is_set():
            out = np.empty((batch, size, size, 3), np.uint8)
            for b, i in enumerate(rng.integers(0, len(photos), batch)):
                p = photos[i]
                top, left = rng.integers(0, p.shape[0] - size + 1), rng.integers(0, p.shape[1] - size + 1)
                c = p[top: top + size, left: left + size]
                out[b] = c[:, ::-1] if rng.random() < 0.5 else c
            while not stop.is_set():
                try:
                    q.put(out, timeout=0.5)
                    break
                except queue.Full:
                    pass

    threading.Thread(target=fill, daemon=True).start()
    return q


def vgg(layers, weights: dict, dtype: str):
    """The package's feature extractor for ``layers``, with the bundle's VGG19 weights."""
    from styletransfer_utils.core.features import FeatureExtractor

    extractor = FeatureExtractor(layers, pooling="max", precision=dtype, weights=None)
    for layer in extractor.model.layers:
        if layer.weights:
            layer.set_weights([weights[f"{layer.name}/kernel"].astype(np.float32),
                               weights[f"{layer.name}/bias"].astype(np.float32)])
    return extractor


def stateless_features(extractor, vgg_vars):
    """``x -> {layer: float32 features}`` through a stateless call of the extractor's network,
    as ``jax.jit`` needs (the weights are passed in, not read from Keras variables)."""
    trainable, non_trainable = vgg_vars

    def features_of(x):
        outputs, _ = extractor.model.stateless_call(trainable, non_trainable, x, training=False)
        return extractor.select(outputs)

    return features_of


def make_losses(net, extractor, objective, shrunk=None):
    """``feedforward.Trainer.losses`` for a stateless network and extractor: the package's
    ``Objective.batch_terms`` on one batch -> (total, [total, content, style, tv]); ``shrunk``:
    the style targets at the further sizes of ``style_scales`` (:func:`training_objective`)."""

    def terms(net_vars, vgg_vars, batch, grams):
        generated, _ = net.stateless_call(*net_vars, batch, training=True)
        values = objective.batch_terms(stateless_features(extractor, vgg_vars), generated, batch, grams, shrunk)
        return values["total"], objective.stack(values)

    return terms


def training_objective(settings, name: str, grams_npz: dict):
    """``(objective, style targets)`` of ``name``'s network from the bundle's Gram matrices: the
    objective ``styletransfer train`` builds (``Objective.for_training``: relative to the style's
    size when the settings say so)."""
    from styletransfer_utils.core.objective import Objective

    layers = Objective.from_settings(settings).style_layers
    grams = {layer: np.asarray(grams_npz[f"{name}/{layer}"])[None] for layer in layers}
    return Objective.for_training(settings, grams), grams


def shrunk_targets(settings, name: str, grams_npz: dict) -> dict | None:
    """``{factor: {layer: Gram}}`` of the style picture shrunk by each further factor of the
    settings' ``style_scales`` (``Trainer.shrunk_grams``), or None for the style at one size."""
    from styletransfer_utils.core.objective import Objective

    layers = Objective.from_settings(settings).style_layers
    return {factor: {layer: np.asarray(grams_npz[f"{name}/x{factor}/{layer}"])[None] for layer in layers}
            for factor in settings.style_scales[1:]} or None


def train(name, meta, grams_npz, photos, vgg_weights, seconds, batch, out, log, init=None, learning_rate=None,
          decay_at=None, decay_to=0.1):
    """Train ``name``'s network for ``seconds``; with ``decay_at`` (a fraction of the seconds), the
    learning rate drops to ``decay_to`` times its value from then on, in the same run and with the
    same Adam moments (the rate is one of the optimiser's variables, passed to the compiled step)."""
    import jax
    import keras

    from styletransfer_utils import feedforward as ff
    from styletransfer_utils.core.objective import LOSS_TERMS
    from styletransfer_utils.core.objective import Objective

    s = ff.records.record_settings(meta["styles"][name])
    if learning_rate:
        s = s.replace(learning_rate=learning_rate)
    policy = "mixed_bfloat16"
    keras.utils.set_random_seed(s.seed or 0)
    net = ff.build_transformer(half_width=s.half_width, precision=policy, seed=s.seed)
    if init is not None:  # go on from a trained network (a fresh optimiser)
        net.set_weights(ff.load_model(init / f"{name}.keras").get_weights())
        log(f"  {name}: starting from {init / f'{name}.keras'}")
    objective, grams = training_objective(s, name, grams_npz)
    extractor = vgg(objective.layers, vgg_weights, policy)
    optimizer = keras.optimizers.Adam(learning_rate=s.learning_rate)
    optimizer.build(net.trainable_variables)
    terms = make_losses(net, extractor, objective, shrunk_targets(s, name, grams_npz))
    vgg_vars = ([v.value for v in extractor.model.trainable_variables], [v.value for v in extractor.model.non_trainable_variables])

    @jax.jit
    def step(nt, nn, opt_vars, batch):
        batch = batch.astype("float32")
        grad_fn = jax.value_and_grad(lambda t: terms((t, nn), vgg_vars, batch, grams), has_aux=True)
        (_, values), grads = grad_fn(nt)
        nt, opt_vars = optimizer.stateless_apply(opt_vars, grads, nt)
        return nt, opt_vars, values

    nt = [v.value for v in net.trainable_variables]
    nn = [v.value for v in net.non_trainable_variables]
    opt_vars = [v.value for v in optimizer.variables]
    stop = threading.Event()
    batches = crops(photos, s.crop_size, batch, seed=s.seed or 0, stop=stop)
    history, pending = [], []
    t0 = time.perf_counter()
    nt, opt_vars, values = step(nt, nn, opt_vars, jax.numpy.asarray(batches.get()))
    values.block_until_ready()
    compile_s = time.perf_counter() - t0
    log(f"  {name}: compiled and ran step 1 in {compile_s:.1f} s")
    steps, t1 = 1, time.perf_counter()
    rate_index = [v.path for v in optimizer.variables].index(optimizer._learning_rate.path)
    decayed_at = None
    try:
        while time.perf_counter() - t1 < seconds:
            if decay_at is not None and decayed_at is None and time.perf_counter() - t1 >= decay_at * seconds:
                opt_vars[rate_index] = jax.numpy.asarray(s.learning_rate * decay_to, opt_vars[rate_index].dtype)
                decayed_at = steps
                log(f"  {name}: step {steps}: learning rate {s.learning_rate:g} -> {s.learning_rate * decay_to:g}")
            nt, opt_vars, values = step(nt, nn, opt_vars, jax.numpy.asarray(batches.get()))
            steps += 1
            pending.append(values)
            if steps % 100 == 0:
                rows = np.asarray(jax.device_get(pending))
                pending = []
                elapsed = time.perf_counter() - t1
                history.append({"step": steps, "seconds": round(elapsed, 2),
                                **{k: float(v) for k, v in zip(LOSS_TERMS, rows.mean(axis=0))}})
                if steps % 1000 == 0:
                    h = history[-1]
                    log(f"  {name}: step {steps}, {elapsed:.0f} s, {(steps - 1) * batch / elapsed:.0f} img/s, "
                        f"total {h['total']:.4g} content {h['content']:.4g} style {h['style']:.4g} tv {h['tv']:.4g}")
    finally:
        stop.set()
        seconds_run = time.perf_counter() - t1
        for v, value in zip(net.trainable_variables, nt):
            v.assign(value)
        ff.save_model(net, out / f"{name}.keras")
    rate = (steps - 1) * batch / seconds_run
    tail = history[-5:]  # the last 500 steps
    final = {k: float(np.mean([h[k] for h in tail])) for k in LOSS_TERMS} if tail else {}
    log(f"  {name}: {steps} steps of {batch} in {seconds_run:.0f} s ({rate:.0f} img/s), saved {name}.keras; "
        f"last 500 steps: " + ", ".join(f"{k} {v:.4g}" for k, v in final.items()))
    settings = {**ff.records.settings_dict(s), "steps": steps, "batch_size": batch, "precision": policy}
    if decayed_at is not None:
        settings["learning_rate_schedule"] = (f"{s.learning_rate:g} for steps 1-{decayed_at - 1}, "
                                              f"then {s.learning_rate * decay_to:g}")
    return {"init": None if init is None else str(init / f"{name}.keras"), "steps": steps, "batch_size": batch,
            "images_seen": steps * batch, "seconds": round(seconds_run, 1), "compile_seconds": round(compile_s, 1), "images_per_second": round(rate, 1),
            "final_losses_mean_of_last_500_steps": final, "settings": settings, "history": history}


def timed(fn, *args, repeat: int = 10) -> float:
    """Median milliseconds of ``fn(*args)`` after two warm-up calls (result ready on the device)."""
    import jax

    for _ in range(2):
        jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def inference_table(sizes, log) -> dict:
    import jax
    import jax.numpy as jnp

    from styletransfer_utils import feedforward as ff
    from styletransfer_utils.core.objective import LOSS_TERMS

    rows = {}
    nets = [("shipwreck (half)", ff.load_model("shipwreck", precision=p), p) for p in ("float32", "mixed_bfloat16")]
    nets += [("full width (untrained)", ff.build_transformer(half_width=False, precision=p, seed=0), p)
             for p in ("float32", "mixed_bfloat16")]
    log(f"{'network':24} {'precision':16} " + " ".join(f"{n:>6}px" for n in sizes) + "   (ms, on device; end to end)")
    for label, net, precision in nets:
        tv = [v.value for v in net.trainable_variables]
        nv = [v.value for v in net.non_trainable_variables]
        fn = jax.jit(lambda t, x: net.stateless_call(t, nv, x, training=False)[0])
        cells, ends = [], []
        for n in sizes:
            picture = np.random.default_rng(n).uniform(0, 255, (1, n, n, 3)).astype(np.float32)
            on_device = jnp.asarray(picture)
            ms = timed(fn, tv, on_device)
            end = timed(lambda p: np.asarray(fn(tv, jnp.asarray(p))), picture)
            cells.append(ms)
            ends.append(end)
            rows[f"{label}|{precision}|{n}"] = {"device_ms": round(ms, 2), "end_to_end_ms": round(end, 2)}
        log(f"{label:24} {precision:16} " + " ".join(f"{c:8.2f}" for c in cells) + "   ; "
            + " ".join(f"{e:.2f}" for e in ends))
    return rows


def gatys_eval_table(meta, vgg_weights, sizes, log) -> dict:
    """Milliseconds per evaluation of the default Gatys objective and its gradient (image input)."""
    import jax
    import jax.numpy as jnp

    from styletransfer_utils.core.objective import Objective
    from styletransfer_utils.settings import Settings

    objective = Objective.from_settings(Settings(**meta["gatys"]))
    rows = {}
    for policy in ("float32", "mixed_bfloat16"):
        extractor = vgg(objective.layers, vgg_weights, policy)
        features_of = stateless_features(extractor, ([v.value for v in extractor.model.trainable_variables],
                                                     [v.value for v in extractor.model.non_trainable_variables]))

        def total(x, content_targets, style_targets):
            return objective.terms(features_of(x[None]), content_targets, style_targets, x[None])["total"]

        fn = jax.jit(jax.value_and_grad(total))
        for n in sizes:
            x = jnp.asarray(np.random.default_rng(n).normal(0, 50, (n, n, 3)).astype(np.float32))
            feats = features_of(x[None])  # the targets' shapes
            content_targets = {name: jnp.zeros(feats[name].shape) for name in objective.content_layers}
            style_targets = {name: jnp.zeros((1,) + feats[name].shape[-1:] * 2) for name in objective.style_layers}
            ms = timed(fn, x, content_targets, style_targets)
            rows[f"{policy}|{n}"] = round(ms, 2)
            log(f"  Gatys evaluation {policy:16} {n:5d}x{n}: {ms:8.2f} ms  (x200 = {ms * 200 / 1000:.2f} s)")
    return rows


def run(bundle: Path, out: Path, train_seconds: float, batch: int, styles, sizes, deadline: float, *,
        init=None, learning_rate=None, decay_at=None, decay_to=0.1, tables: bool = True) -> None:
    import jax
    import keras

    out.mkdir(parents=True, exist_ok=True)
    log = Log(out / "log.txt")
    results = {"machine": {"devices": [str(d) for d in jax.devices()], "cpus": os.cpu_count(),
                           "gpu": [d.device_kind for d in jax.devices() if d.platform == "gpu"]},
               "versions": {"python": platform.python_version(), "jax": jax.__version__, "keras": keras.__version__,
                            "backend": keras.backend.backend()},
               "date": time.strftime("%Y-%m-%d", time.gmtime()), "train": {}}
    log("devices:", results["machine"]["devices"], "| versions:", results["versions"])
    meta = json.loads((bundle / "meta.json").read_text())
    results.update(data=meta["data"], skipped=meta["skipped"],
                   args={"train_seconds": train_seconds, "batch_size": batch, "init": None if init is None else str(init),
                         "learning_rate": learning_rate, "decay_at": decay_at, "decay_to": decay_to})
    grams = dict(np.load(bundle / "grams.npz"))
    vgg_weights = dict(np.load(bundle / "vgg19_f16.npz"))
    t = time.perf_counter()
    photos = load_photos(bundle / "photos")
    log(f"{len(photos)} training photos loaded in {time.perf_counter() - t:.1f} s")
    results["pictures"] = len(photos)
    save = lambda: (out / "results.json").write_text(json.dumps(results, indent=1))  # noqa: E731
    log(f"\n1. training, {train_seconds:.0f} s per style, batch {batch}, mixed_bfloat16")
    for name in styles:
        if time.time() + train_seconds + 45 > deadline:
            log(f"  {name}: skipped, too little time left")
            continue
        try:
            results["train"][name] = {"style": meta["styles"][name]["style"],
                                      **train(name, meta, grams, photos, vgg_weights, train_seconds, batch, out, log,
                                              init, learning_rate, decay_at, decay_to)}
        except Exception as exc:  # keep the other styles and tables
            log(f"  {name}: failed: {type(exc).__name__}: {exc}")
        save()
    table_runs = [("2. inference, ms per picture (batch 1, square, median of 10)", "inference",
                   lambda: inference_table(sizes, log)),
                  ("3. Gatys: one evaluation of the default objective and its gradient", "gatys",
                   lambda: gatys_eval_table(meta, vgg_weights, sizes, log))]
    for title, key, fn in table_runs if tables else []:
        log("\n" + title)
        if time.time() + 40 > deadline:
            log("  skipped, too little time left")
            continue
        try:
            results[key] = fn()
        except Exception as exc:
            log(f"  failed: {type(exc).__name__}: {exc}")
        save()
    log("done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="write the bundle (TensorFlow, shared data)")
    p.add_argument("bundle", type=Path)
    p.add_argument("--data", type=Path, default=SHARED / "datasets" / "imagenet-samples")
    p.add_argument("--quality", type=int, default=85, help="JPEG quality of the scaled photos")
    r = sub.add_parser("run", help="train and time on Keras' JAX backend")
    r.add_argument("bundle", type=Path)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--train-seconds", type=float, default=120)
    r.add_argument("--batch-size", type=int, default=8)
    r.add_argument("--styles", default="shipwreck,the_scream,starry_night")
    r.add_argument("--sizes", default="256,512,1024")
    r.add_argument("--budget", type=float, default=540, help="seconds the whole run may take")
    r.add_argument("--init", type=Path, help="folder of NAME.keras networks to go on training from")
    r.add_argument("--learning-rate", type=float, help="instead of the one in the style's settings")
    r.add_argument("--decay-at", type=float, help="fraction of --train-seconds after which the rate drops")
    r.add_argument("--decay-to", type=float, default=0.1, help="factor the rate drops by at --decay-at")
    r.add_argument("--no-tables", action="store_true", help="train only: skip the inference and Gatys tables")
    c = sub.add_parser("record", help="a network's NAME.keras and training record NAME.json from its runs")
    c.add_argument("runs", type=Path, nargs="+", help="the runs' --out folders, in the order they ran")
    c.add_argument("--into", type=Path, required=True, help="where NAME.keras and NAME.json go")
    c.add_argument("--onto", type=Path, help="folder of the records the first run's --init networks came with")
    c.add_argument("--styles", help="comma-separated (default: every style of the last run)")
    args = parser.parse_args()
    if args.command == "prepare":
        from styletransfer_utils.errors import StyleTransferError

        try:
            prepare(args.bundle, args.data, args.quality)
        except StyleTransferError as exc:  # a style picture that cannot be fetched, bad weights, ...
            raise SystemExit(f"error: {exc}") from None
    elif args.command == "record":
        record(args.runs, args.into, args.onto, [s for s in (args.styles or "").split(",") if s])
    else:
        if not (args.bundle / "meta.json").is_file():
            raise SystemExit(f"error: no bundle in {args.bundle}: make one with "
                             f"`python bench/jax_gpu.py prepare {args.bundle}` (needs TensorFlow and ../shared)")
        if os.environ.setdefault("KERAS_BACKEND", "jax") != "jax":
            raise SystemExit("error: run needs Keras' JAX backend: set KERAS_BACKEND=jax")
        import importlib.util

        if importlib.util.find_spec("jax") is None:
            raise SystemExit("error: run needs JAX: pip install jax (jax[cuda13] on an NVIDIA GPU)")
        run(args.bundle, args.out, args.train_seconds, args.batch_size, [s for s in args.styles.split(",") if s],
            [int(n) for n in args.sizes.split(",")], time.time() + args.budget, init=args.init,
            learning_rate=args.learning_rate, decay_at=args.decay_at, decay_to=args.decay_to,
            tables=not args.no_tables)


if __name__ == "__main__":
    main()
