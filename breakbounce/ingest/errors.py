"""The one exception type of the ingester: a problem with the user's input, shown as one line."""

from __future__ import annotations


class IngestError(Exception):
    """Bad or unusable input (corrupt file, unresolvable symbol, wrong schema...).

    The message is a single line that names the offending file; ``breakbounce ingest`` prints it and
    exits with code 2. Nothing is written to Bronze for the file that raised it.
    """
