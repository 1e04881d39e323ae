"""Exceptions shared by the CLI subcommands."""


class UserError(Exception):
    """A problem with the user's input; printed as one line on stderr, exit code ``code``.

    ``details`` are optional extra lines printed under it (e.g. a few offending rows)."""

    def __init__(self, message: str, code: int = 2, details: list[str] | None = None):
        super().__init__(message)
        self.code = code
        self.details = list(details or [])


class BronzeError(UserError):
    """Bad, incomplete or missing Bronze input (exit code 2). ``str()`` is a one-line message naming
    the date / file / column; ``details`` are extra lines (e.g. up to five offending rows)."""

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message, code=2, details=details)
