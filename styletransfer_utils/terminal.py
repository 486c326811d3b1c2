"""What a command shows while it runs, and how it stops: the progress bar, and Ctrl-C or SIGTERM
asking a run to stop at its next step (it then saves what it has)."""

from __future__ import annotations

import contextlib
import sys


class StopRequest:
    """Ctrl-C and SIGTERM during a run: the run stops at its next step and saves what it has.

    The signal handler only notes the request; the run's own callback (this object, called after
    each step) raises ``KeyboardInterrupt``. So the exception never starts inside a library's code,
    where it could leave a lock held (the progress bar's, for one) and hang the exit. Outside a
    run, or at a second signal, it is raised at once, as Python does.
    """

    def __init__(self):
        self.running = self.requested = False

    def handler(self, signum=None, frame=None) -> None:
        if self.running and not self.requested:
            self.requested = True
            return
        raise KeyboardInterrupt

    def __call__(self, progress=None) -> None:
        if self.requested:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def run(self):
        """Within this block a signal asks the run to stop (this object must be one of its callbacks)."""
        self.running, self.requested = True, False
        try:
            yield self
        finally:
            self.running = False


STOP = StopRequest()


class ProgressBar:
    """The progress callback of every command: a tqdm bar with the step, the loss terms and the
    time left; for training (a progress with ``images_per_second``) also the speed and the
    unreadable photos skipped so far; for grading (a progress with ``text``), that text.
    ``initial``: the step a resumed run starts from."""

    def __init__(self, enabled: bool = True, initial: int = 0, unit: str = "step"):
        self.enabled, self.initial, self.unit, self.bar = enabled, initial, unit, None

    def __call__(self, progress) -> None:
        if self.bar is None:  # drawn at the first step, with the run's own total: an error before it stays one line
            from tqdm.auto import tqdm

            self.bar = tqdm(total=progress.steps, initial=self.initial, unit=self.unit, disable=not self.enabled,
                            dynamic_ncols=True, file=sys.stderr)
        if getattr(progress, "note", None):  # shown with -q too: the run changed course
            self.bar.write(progress.note, file=sys.stderr)
        if progress.steps != self.bar.total:  # a time limit cut the run's steps
            self.bar.total = progress.steps
        if not hasattr(progress, "losses"):
            self.bar.set_postfix_str(progress.text, refresh=False)
            self.bar.update(1)
            return
        losses = progress.losses
        text = (f"loss={losses['total']:.4g} content={losses['content']:.3g} style={losses['style']:.3g} "
                f"tv={losses['tv']:.3g}")
        if getattr(progress, "size", None):
            text = f"{progress.size}px " + text
        if hasattr(progress, "images_per_second"):
            text += f" {progress.images_per_second:.1f} img/s skipped={progress.skipped}"
        self.bar.set_postfix_str(text, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def stop_on_signals() -> None:
    """Ctrl-C and SIGTERM (``kill``, a scheduler's time limit) go to :data:`STOP`: a run stops at
    its next step and saves what there is."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(sig) is not signal.SIG_IGN:  # a background job ignores Ctrl-C: so do we
                signal.signal(sig, STOP.handler)
