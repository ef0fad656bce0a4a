"""uabot: turns human-rights Urgent Actions into letters that get written."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("uabot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
