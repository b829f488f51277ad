"""The one exception type the library raises for bad input; the CLI prints its message."""


class HopcapError(ValueError):
    """Invalid option, impossible request or unreadable file. ``str(err)`` is a one-line message."""
