"""Training records: how a network was made, written next to it as ``NAME.json``.

A record holds the command, settings, data, steps, time, machine and final losses; it makes a
model reproducible, lets ``train`` add up the time of resumed sessions, and tells the benchmarks
which objective a shipped network was trained on.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from ..device import processor_name
from ..files import atomic_path
from ..core.objective import LOSS_TERMS
from ..settings import TrainSettings
from ..errors import SettingsError
from .models import PAINT_SIZE, model_base, record_path, shipped_models


def flag_value(value) -> str:
    """A setting's value as a command line writes it: ``a,b`` for lists, ``None`` as ``none``."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "none" if value is None else str(value)


def settings_dict(settings) -> dict:
    """A settings dataclass as a JSON-ready dict (tuples become lists), as training records store it."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(settings).items()}


def preview_pattern(output) -> str:
    """File names of the previews of a model: ``my_style_preview_step000500.png``, ..."""
    base = model_base(output)
    return str(base.with_name(base.name + "_preview_step{step:06d}.png"))


def read_record(output) -> dict | None:
    """The training record next to a model file (or of a shipped model's name), or ``None``."""
    ref = Path(output)
    if not ref.exists() and str(output).lower().replace("-", "_") in shipped_models():
        ref = shipped_models()[str(output).lower().replace("-", "_")]
    path = record_path(ref)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def trained_paint_size(model_ref) -> int:
    """The paint size of a model file or shipped name: the ``style_size`` its training record
    gives (a network trained with ``--style-size 256`` paints for 256 px pictures), else
    :data:`~.models.PAINT_SIZE`."""
    record = read_record(model_ref)
    try:  # TrainSettings checks style_size, and gives its default where the record has none
        return record_settings(record).style_size if record else PAINT_SIZE
    except (KeyError, TypeError, SettingsError):  # a record without settings, or with a bad one
        return PAINT_SIZE


#: What a record or checkpoint written before a setting existed was trained with: the absolute
#: errors before relative losses, the squared style term at a constant rate before those options, the
#: style at one size before ``style_scales`` (in the records' JSON form: a list), all their steps
#: before ``time_limit``.
BEFORE_THE_OPTION = {"relative_losses": False, "style_error": "squared", "final_learning_rate": None,
                     "style_scales": [1], "time_limit": 0.0}


def record_settings(record: dict) -> TrainSettings:
    """The :class:`TrainSettings` a training record was made with."""
    fields = {f.name for f in dataclasses.fields(TrainSettings)}
    saved = {**BEFORE_THE_OPTION, **record["settings"]}
    for kind in ("content", "style"):  # and those written before layer weights, on equal weights
        if saved.get(f"{kind}_layers"):
            saved.setdefault(f"{kind}_layer_weights", [1.0] * len(saved[f"{kind}_layers"]))
    return TrainSettings(**{k: tuple(v) if isinstance(v, list) else v
                            for k, v in saved.items() if k in fields})


def write_record(output, result, settings: TrainSettings, *, style: str, data, pictures: int,
                 command: str | None = None, spikes: dict | None = None, planned_steps: int | None = None) -> Path:
    """Write how a model was trained (settings, data, steps, time, machine, losses) next to it.

    The record makes a model reproducible: ``styletransfer train`` writes it, the shipped models
    carry theirs, and the benchmarks read the loss settings from it. When a run resumes, the time
    of the earlier sessions (from the previous record) is added to ``total_seconds``. ``spikes``
    (:func:`~.models.measure_spikes`) lets ``fast`` clip the network's spikes in one pass. Where
    the time limit cut the run to ``planned_steps``, the settings say those steps (what the
    learning rate's schedule ran over, so that ``--steps N --time-limit 0`` makes the same run
    anywhere) and ``steps_asked`` says the steps asked for. ``width`` is the network's own
    (:func:`~.network.network_width`): a network fine-tuned from a quarter-width one is quarter
    width whatever its ``half_width`` setting says.
    """
    import keras
    import tensorflow as tf

    from .network import largest_dilation, network_dilations, network_width

    path = record_path(output)
    asked = settings.steps
    if planned_steps and planned_steps < asked:
        settings = settings.replace(steps=planned_steps)
    previous = read_record(output) or {}
    earlier = previous.get("total_seconds", 0.0) if previous.get("steps", 0) == result.start_step > 0 else 0.0
    tail = result.history[-50:]
    final = ({k: float(np.mean([h[k] for h in tail])) for k in LOSS_TERMS} if tail
             else previous.get("final_losses_mean_of_last_50_steps", {}))
    record = {
        "model": Path(output).name,
        "style": str(style),
        "data": str(data),
        "pictures": pictures,
        "skipped": len(result.skipped),
        "width": network_width(result.model),
        **({"dilations": list(network_dilations(result.model))} if largest_dilation(result.model) > 1 else {}),
        "steps": result.steps,
        **({"steps_asked": asked} if asked != settings.steps else {}),
        "images_seen": result.steps * settings.batch_size,
        "seconds_this_session": round(result.seconds, 1),
        "total_seconds": round(earlier + result.seconds, 1),
        "images_per_second": round(result.images_per_second, 2),
        "final_losses_mean_of_last_50_steps": final,
        # the layer weights as trained, so that the record still says them if the defaults change
        "settings": {**settings_dict(settings), "content_layer_weights": list(settings.content_weights().values()),
                     "style_layer_weights": list(settings.layer_weights().values())},
        "command": command,
        "machine": {"processor": processor_name(), "cpus": os.cpu_count(),
                    "gpu": [d.name for d in tf.config.list_physical_devices("GPU")]},
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    if spikes:
        record["spike_statistics"] = spikes
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1) + "\n")
    return path
