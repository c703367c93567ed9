"""Errors a user can act on. The CLI maps them to one line and an exit code."""


class NnlabError(Exception):
    """Base class: the message is shown to the user as is, on one line."""

    exit_code = 1


class ConfigError(NnlabError):
    """Bad config, bad override or bad usage: exit code 2, nothing written."""

    exit_code = 2


class DataError(NnlabError):
    """A dataset is missing, corrupt or cannot be downloaded: exit code 2."""

    exit_code = 2


class StoreError(NnlabError):
    """Results could not be written (a full disk, a read-only folder): exit 1, nothing partial left."""


def store_error(exc: OSError, what: str) -> StoreError:
    where = f" {exc.filename}" if exc.filename else ""
    return StoreError(f"cannot write {what}:{where} {exc.strerror or exc} (nothing partial was left)")
