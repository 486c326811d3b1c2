"""One exception type for every problem a user can fix.

Each message is a single line that names the problem and the fix, so the command-line tool
can print it as is and exit with status 2 instead of showing a traceback.
"""


class StyleTransferError(ValueError):
    """A problem with the user's input or set-up, with a one-line explanation and fix."""

    def __init__(self, problem: str, fix: str | None = None):
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem}; {fix}" if fix else problem)


class ImageError(StyleTransferError):
    """A picture that cannot be read, is too small, too large, or cannot be written."""


class WeightsError(StyleTransferError):
    """The VGG19 ImageNet weights cannot be found or fetched."""


class SettingsError(StyleTransferError):
    """A setting with a value outside its allowed range (negative weights, unknown layers...)."""


class ModelError(StyleTransferError):
    """A transformation-network file that is missing, of the wrong kind, or unreadable."""


class DataError(StyleTransferError):
    """A training folder that is missing, empty, or holds no readable pictures."""
