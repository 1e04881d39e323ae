"""Exceptions shared by the CLI subcommands."""


class UserError(Exception):
    """A problem with the user's input; printed as one line on stderr, exit code ``code``."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code
