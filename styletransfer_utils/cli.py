"""The ``styletransfer`` command.

    styletransfer CONTENT STYLE [STYLE ...] -o OUT.png [options]
    styletransfer demo [-o OUT.png] [options]
    styletransfer examples
    styletransfer train STYLE --data DIR -o MODEL.keras [options]
    styletransfer fast MODEL INPUT [INPUT ...] -o OUT
    styletransfer grade SUBMISSIONS/ [--jobs N] [-o GRADEBOOK] [--json]   (runs the learners' code)
    styletransfer exercises DIR [--nbgrader] [--force]   (the exercises for learners; an nbgrader course)

CONTENT and STYLE are picture files or names from the example catalogue (``tubingen``,
``starry_night``, ...). The options are generated from the settings dataclasses of
:mod:`styletransfer_utils.settings`, one per field (``--style-weight`` is ``style_weight``),
with the help text each field carries: a new setting is one edit there.
Bad input ends with exit status 2 and a one-line message naming the problem and the fix;
Ctrl-C stops the run and saves the best picture so far (exit status 130).

``--help``, ``examples`` and bad options answer without importing TensorFlow: each command
imports it (quietly) only once its arguments have been checked.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import shutil
import sys
import time
from pathlib import Path

from .data import is_example, picture_path, resolve_picture
from .device import import_tensorflow_quietly, onednn_for_training
from .errors import StyleTransferError
from .settings import INITS, PRECISIONS, SPIKES, Settings, TrainSettings
from .terminal import STOP, ProgressBar, stop_on_signals

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _csv(kind):
    def parse(text: str):
        items = [t.strip() for t in text.split(",") if t.strip()]
        try:
            return tuple(kind(t) for t in items)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    return parse


def add_settings_options(parser: argparse.ArgumentParser, settings_class) -> None:
    """One option per field of ``settings_class`` (``style_weight`` -> ``--style-weight``).

    Each field's ``metadata`` says everything: ``help`` (its text), ``csv`` (``str`` or
    ``float``: a comma-separated tuple), ``metavar``, ``type`` (for a field whose default is
    None) and ``none`` (how help shows a None default). Booleans become ``--x/--no-x``.
    """
    for f in dataclasses.fields(settings_class):
        meta = f.metadata
        if "help" not in meta:
            raise TypeError(f"{settings_class.__name__}.{f.name} has no help text in its field metadata")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        flag = "--" + f.name.replace("_", "-")
        kwargs = dict(dest=f.name, default=default, metavar=meta.get("metavar"))
        if default is None:
            shown = meta.get("none")
        elif isinstance(default, tuple):
            shown = ",".join(map(str, default))
        elif isinstance(default, bool):
            shown = flag if default else "--no-" + flag[2:]
        else:
            shown = default
        if isinstance(default, bool):
            kwargs.update(action=argparse.BooleanOptionalAction)
            del kwargs["metavar"]
        elif "csv" in meta:
            kwargs.update(type=_csv(meta["csv"]))
        elif meta.get("type", type(default)) is type(None):
            raise TypeError(f"{settings_class.__name__}.{f.name} defaults to None: give its type (or csv) in metadata")
        else:
            kwargs.update(type=meta.get("type", type(default)))
        text = meta["help"] if shown is None else f"{meta['help']} (default: {shown})"
        parser.add_argument(flag, help=text.replace("%", "%%"), **kwargs)


def settings_from_args(args: argparse.Namespace, settings_class=Settings):
    """The validated ``settings_class`` the parsed options describe."""
    return settings_class(**{f.name: getattr(args, f.name) for f in dataclasses.fields(settings_class)})


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="styletransfer", description="Neural style transfer (Gatys et al.) from the command line.",
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog="other commands (each has its own --help):\n"
                            "  styletransfer demo                                render an example\n"
                            "  styletransfer examples                            list the example pictures\n"
                            "  styletransfer train STYLE --data PHOTOS -o MODEL  train a feed-forward network\n"
                            "  styletransfer fast MODEL PICTURE... -o OUT        stylise with a trained network\n"
                            "  styletransfer grade SUBMISSIONS/ [-j N]          grade a class's notebooks (runs their code)\n"
                            "  styletransfer exercises DIR [--nbgrader]         the exercises for learners, without solutions")
    parser.add_argument("content", help="content picture: a file or an example name")
    parser.add_argument("styles", nargs="+", metavar="style", help="style picture(s): files or example names")
    parser.add_argument("-o", "--output", required=True, help="output picture (.png, .jpg, ...)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_settings_options(parser, Settings)
    return parser


def build_demo_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="styletransfer demo",
                     description="Stylise Tübingen as The Starry Night (or, offline, a shipped photo "
                                 "with a generated style) and write the result.")
    parser.add_argument("-o", "--output", default="styletransfer_demo.png", help="output picture")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_settings_options(parser, Settings)
    return parser


def build_train_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="styletransfer train", description="Train Johnson et al.'s feed-forward network for one "
                     "style on a folder of photos. Run the same command again to resume an interrupted run.")
    parser.add_argument("style", help="style picture: a file or an example name")
    parser.add_argument("--data", required=True, help="folder of training photos (JPEG/PNG, searched recursively)")
    parser.add_argument("-o", "--output", required=True, help="model file to write (.keras or .weights.h5)")
    parser.add_argument("--checkpoint-dir", help="where checkpoints go (default: MODEL.checkpoints next to the model)")
    parser.add_argument("--preview", help="picture to stylise for previews (default: a shipped photo)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_settings_options(parser, TrainSettings)
    return parser


def build_fast_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="styletransfer fast", description="Stylise pictures with a trained feed-forward network.")
    parser.add_argument("model", help="model file (.keras or .weights.h5) or a shipped model's name")
    parser.add_argument("inputs", nargs="+", metavar="input", help="picture files or folders")
    parser.add_argument("-o", "--output", required=True, help="output picture (one input) or folder (several)")
    parser.add_argument("--size", type=int, default=None, help="cap the long side of each picture (default: keep)")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="auto: bf16 where the hardware is fast at it")
    parser.add_argument("--preserve-colors", metavar="luminance", help="keep each picture's colours: the network "
                        "paints light and dark only (luminance; match needs a Gatys run)")
    parser.add_argument("--paint-size", type=int, default=None, metavar="PX",
                        help="paint the strokes as on a picture this large, the larger sizes adding only detail "
                        "(default: the network's training --style-size, 512 for the shipped ones; 0: one pass "
                        "at full size)")
    parser.add_argument("--spikes", default="clip", choices=SPIKES,
                        help="clip: paint over the one spot where a network puts a white or dark dab, as it paints "
                        "around it (in one pass where the network's record holds its spike statistics, else 1.1-1.35x the "
                        "time); keep: the network as it is")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    return parser


def run_transfer(content, styles, settings: Settings, output: str, quiet: bool) -> int:
    from .core.images import check_writable, save_image

    out = check_writable(output)
    import_tensorflow_quietly()
    from .gatys.run import SaveEvery, stylize

    bar = ProgressBar(enabled=not quiet)
    callbacks = [bar]
    if settings.save_every:
        callbacks.append(SaveEvery(settings.save_every, str(out.with_name(out.stem + "_step{step:05d}" + out.suffix))))
    try:
        with STOP.run():
            result = stylize(content, styles, settings, callbacks=[*callbacks, STOP])
    finally:
        bar.close()
    save_image(out, result.image)
    if result.diverged:
        fix = ("try --precision float32 (float16 overflows more easily)" if settings.precision == "mixed_float16"
               else "lower --learning-rate or the weights")
        print(f"styletransfer: warning: the loss became NaN or infinite after {result.steps} steps; saved the best "
              f"picture so far to {out}; {fix}", file=sys.stderr)
    if result.interrupted:
        print(f"interrupted after {result.steps} steps; saved the best picture so far to {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not quiet:
        print(f"saved {out} ({result.steps} steps, {result.seconds:.1f} s, loss {result.losses.get('total', 0):.4g})",
              file=sys.stderr)
    return 0


def demo_inputs():
    """Tübingen + The Starry Night when cached or downloadable, else shipped pictures."""
    from .data import example_path, generated_style, shipped_content
    from .errors import ImageError
    from .core.images import load_image

    try:
        return load_image(example_path("tubingen")), [load_image(example_path("starry_night"))], "Tübingen x The Starry Night"
    except ImageError:
        return shipped_content("chelsea"), [generated_style()], "Chelsea the cat x a generated swirl painting"


def cmd_demo(argv) -> int:
    args = build_demo_parser().parse_args(argv)
    settings = settings_from_args(args, Settings)
    content, styles, title = demo_inputs()
    if not args.quiet:
        print(f"demo: {title} at {settings.size} px, {settings.steps} steps", file=sys.stderr)
    return run_transfer(content, styles, settings, args.output, args.quiet)


def cmd_examples(argv) -> int:
    from .data import EXAMPLES, example_available

    _Parser(prog="styletransfer examples", description="List the example pictures that CONTENT and STYLE "
            "may name instead of a file (fetched once, then cached).").parse_args(argv)

    for name, ex in EXAMPLES.items():
        state = "cached" if example_available(name) else "fetched on first use"
        print(f"{name:24s} {ex.kind:8s} {ex.description} [{state}]")
    return 0


def cmd_transfer(argv) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_from_args(args, Settings)
    from .core.images import check_writable

    check_writable(args.output)
    content, *styles = [resolve_picture(ref) for ref in (args.content, *args.styles)]
    if settings.init not in INITS and not Path(settings.init).is_file():
        from .errors import SettingsError

        problem = "is a folder" if Path(settings.init).is_dir() else "no such file"
        raise SettingsError(f"--init {settings.init}: {problem}", "use content, noise or a picture's path")
    return run_transfer(content, styles, settings, args.output, args.quiet)


# -- Johnson et al.'s feed-forward network: train one per style, then stylise in one pass -----

def cmd_train(argv) -> int:
    started = time.perf_counter()  # --time-limit counts TensorFlow's import and VGG19 too
    args = build_train_parser().parse_args(argv)
    settings = settings_from_args(args, TrainSettings)
    onednn_for_training()
    import_tensorflow_quietly()
    from .feedforward.models import check_model_path
    from .feedforward.trainer import Trainer, default_checkpoint_dir

    output = check_model_path(args.output)
    style, *preview = [resolve_picture(ref) for ref in (args.style, *([args.preview] if args.preview else []))]
    ckpt = Path(args.checkpoint_dir) if args.checkpoint_dir else default_checkpoint_dir(output)
    new_folder = not ckpt.exists()
    trainer = Trainer(style, args.data, settings, checkpoint_dir=ckpt, preview=preview[0] if preview else None,
                      started=started)
    try:
        return _train(trainer, args, argv, settings, output, ckpt)
    except BaseException:
        if new_folder and not trainer.manager.checkpoints:  # failed before its first checkpoint: leave nothing
            shutil.rmtree(ckpt, ignore_errors=True)
        raise
    finally:
        trainer.close()


def _train(trainer, args, argv, settings, output: Path, ckpt: Path) -> int:
    from .feedforward.records import preview_pattern

    start, target = int(trainer.step.numpy()), trainer.target_steps
    if trainer.restored_from:
        cut = f", of the {target:,} steps --time-limit left when the run started" if target < settings.steps else ""
        print(f"resumed from step {start} ({trainer.restored_from}){cut}", file=sys.stderr)
    if start >= target:
        print(f"the checkpoint is at step {start}, the run ends at step {target}: nothing to train; "
              f"writing the model as it is (raise --steps to train on)", file=sys.stderr)
    bar = ProgressBar(enabled=not args.quiet, initial=start)
    try:
        with STOP.run():
            result = trainer.run(callbacks=[bar, STOP], preview_pattern=preview_pattern(output))
    finally:
        bar.close()
    trainer.save(output, result, style=args.style, data=args.data,
                 command=" ".join(["styletransfer", "train", *map(shlex.quote, argv)]))
    if result.skipped:
        print(f"skipped {len(result.skipped)} unreadable file(s), e.g. {next(iter(result.skipped))}: "
              f"{next(iter(result.skipped.values()))}", file=sys.stderr)
    if result.interrupted:
        print(f"interrupted at step {result.steps}; saved a checkpoint in {ckpt} and the model so far to {output}; "
              "run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not args.quiet:
        print(f"saved {output} (step {result.steps}, {result.seconds:.1f} s, {result.images_per_second:.1f} img/s)",
              file=sys.stderr)
    return 0


def cmd_fast(argv) -> int:
    from .errors import ImageError, SettingsError
    from .limits import MIN_NETWORK_SIDE

    args = build_fast_parser().parse_args(argv)
    if args.size is not None and args.size < MIN_NETWORK_SIDE:
        raise ImageError(f"--size {args.size} is too small", f"use at least {MIN_NETWORK_SIDE} pixels, or leave it out")
    if args.paint_size is not None and (args.paint_size < 0 or 0 < args.paint_size < MIN_NETWORK_SIDE):
        raise SettingsError(f"--paint-size {args.paint_size} is too small",
                            f"use at least {MIN_NETWORK_SIDE} pixels, or 0 to paint in one pass at full size")
    from .gatys.control import check_network_colors

    check_network_colors(args.preserve_colors)  # before TensorFlow's import: a typo fails in a blink
    import_tensorflow_quietly()
    from .feedforward import load_model, stylize_fast
    from .feedforward.records import trained_paint_size
    from .core.images import load_image, save_image

    paint_size = trained_paint_size(args.model) if args.paint_size is None else (args.paint_size or None)

    jobs = _fast_jobs(args.inputs, args.output)

    def load(ref):
        picture = load_image(ref, args.size, min_side=MIN_NETWORK_SIDE)
        if min(picture.shape[:2]) < MIN_NETWORK_SIDE:  # a wide picture scaled down by --size
            raise ImageError(f"{ref} is only {picture.shape[1]}x{picture.shape[0]} pixels at --size {args.size}",
                             f"use a larger --size (the short side needs at least {MIN_NETWORK_SIDE} pixels)")
        return picture

    for ref, _, named in jobs:
        if named:
            load(ref)  # a named file that cannot be read: one line, exit 2, nothing written
    model = load_model(args.model, precision=args.precision)
    skipped = done = 0
    try:
        with STOP.run():
            for ref, out, named in jobs:
                try:
                    picture = load(ref)
                except ImageError as exc:
                    if named:
                        raise
                    skipped += 1
                    if not args.quiet:
                        print(f"styletransfer: skipped {exc}", file=sys.stderr)
                    continue
                try:
                    out.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise ImageError(f"cannot create the output folder {out.parent} ({exc.strerror or exc})",
                                     "choose a folder you can write to with -o") from None
                # save_image is atomic: an interrupted picture leaves no file
                save_image(out, stylize_fast(model, picture, preserve_colors=args.preserve_colors, paint_size=paint_size,
                                              spikes=args.spikes))
                done += 1
                if not args.quiet:
                    print(f"{ref} -> {out}", file=sys.stderr)
                STOP()  # Ctrl-C during a picture: stop after it
    except KeyboardInterrupt:
        print(f"styletransfer fast: interrupted; {done} of {len(jobs)} picture(s) were saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    if skipped and not args.quiet:
        print(f"skipped {skipped} unreadable file(s)", file=sys.stderr)
    return 0


def _fast_jobs(inputs, output) -> list[tuple[Path, Path, bool]]:
    """(input, output, named on the command line) for each picture ``fast`` is to stylise.

    One input file writes to ``output``; several inputs or a folder write NAME.png into the
    folder ``output`` (a folder's subfolders are kept). Two inputs that would get the same output
    (``x.jpg`` and ``x.png``) are told apart by their suffix (``x_jpg.png``, ``x_png.png``), and
    an output that would replace one of the inputs is refused.
    """
    from .errors import ImageError
    from .feedforward import find_pictures
    from .core.images import SAVE_FORMATS, check_writable

    inputs = [ref if Path(ref).is_dir() else picture_path(ref) for ref in inputs]  # example names too
    if len(inputs) == 1 and not Path(inputs[0]).is_dir():
        jobs = [(Path(inputs[0]), check_writable(output), True)]
    else:
        out_dir = Path(output)
        if out_dir.suffix.lower() in SAVE_FORMATS or out_dir.is_file():
            raise ImageError(f"several pictures but the output {out_dir} is not a folder", "give a folder with -o")
        planned = []  # (input, output name relative to out_dir, named)
        for ref in map(Path, inputs):
            if ref.is_dir():
                planned += [(p, p.relative_to(ref), False) for p in find_pictures(ref, tuple(SAVE_FORMATS))]
            else:
                planned.append((ref, Path(ref.name), True))
        stems = {}
        for _, rel, _ in planned:
            stems.setdefault(rel.with_suffix(""), []).append(rel)
        jobs = []
        for ref, rel, named in planned:
            same = stems[rel.with_suffix("")]
            tag = "" if len(same) == 1 else "_" + rel.suffix.lower().lstrip(".")
            name = rel.with_name(rel.stem + tag + ".png")
            jobs.append((ref, out_dir / name, named))
        outputs = [out for _, out, _ in jobs]
        if len(set(outputs)) < len(outputs):
            twice = next(o for o in outputs if outputs.count(o) > 1)
            raise ImageError(f"two inputs would both be written to {twice}", "stylise them into separate folders")
    sources = {ref.resolve(): ref for ref, _, _ in jobs}
    for ref, out, _ in jobs:
        if out.resolve() in sources:
            raise ImageError(f"{out} would replace the input picture {sources[out.resolve()]}",
                             "give another output with -o")
    return jobs


def cmd_grade(argv) -> int:
    from .lessons.gradebook import main as grade

    return grade(argv, parser_class=_Parser, progress_bar=lambda enabled: ProgressBar(enabled, unit="notebook"))


def cmd_exercises(argv) -> int:
    from .lessons.handout import main as exercises

    return exercises(argv, parser_class=_Parser)


COMMANDS = {"demo": cmd_demo, "examples": cmd_examples, "train": cmd_train, "fast": cmd_fast, "grade": cmd_grade,
            "exercises": cmd_exercises}


def _as_options(exc: StyleTransferError) -> str:
    """The message, with a leading setting's name written as its option (``size is 0`` -> ``--size is 0``)."""
    from .errors import SettingsError

    text = str(exc)
    name = text.split(" ", 1)[0]
    fields = {f.name for f in (*dataclasses.fields(Settings), *dataclasses.fields(TrainSettings))}
    if isinstance(exc, SettingsError) and name in fields:
        return "--" + name.replace("_", "-") + text[len(name):]
    return text


def _suggest_command(word: str) -> None:
    """A first argument that is neither a file nor an example but close to a command: say so."""
    import difflib

    if is_example(word) or Path(word).suffix:
        return
    close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.6)
    if close:
        raise StyleTransferError(f"{word}: no such file, example or command", f"did you mean 'styletransfer {close[0]}'?")


def main(argv=None) -> int:
    """The ``styletransfer`` command. ``argv=None`` means a real process: Ctrl-C and SIGTERM then
    stop a run at its next step (:class:`~.terminal.StopRequest`)."""
    if argv is None:
        stop_on_signals()
    argv = list(sys.argv[1:] if argv is None else argv)
    # a content picture may be called "train"; a folder of that name is no picture, so no clash
    command = COMMANDS.get(argv[0]) if argv and not Path(argv[0]).is_file() else None
    try:  # each command imports TensorFlow (quietly) once its arguments are checked: Ctrl-C then is 130 too
        if command is None and argv and not Path(argv[0]).exists():
            _suggest_command(argv[0])
        return command(argv[1:]) if command else cmd_transfer(argv)
    except StyleTransferError as exc:
        print(f"styletransfer: error: {_as_options(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print("styletransfer: error: out of memory; use a smaller --size", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("styletransfer: interrupted before the optimisation started; nothing saved", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
