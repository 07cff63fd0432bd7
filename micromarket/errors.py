"""Errors with messages meant for users. The CLI prints them without a traceback."""


class MicromarketError(Exception):
    """Base class: the message names the problem and, where possible, the fix."""

    exit_code = 1


class InputError(MicromarketError):
    """Bad input from the user (task text, feedback, flags)."""

    exit_code = 2


class CardError(InputError):
    """A malformed specialist card; the message names the field."""


class DuplicateSpecialistError(InputError):
    """A specialist id that is already registered."""


class UnknownSpecialistError(InputError):
    """A specialist id that is not registered."""


class UnknownRunError(InputError):
    """A run id that the ledger does not know."""


class IndexLockedError(MicromarketError):
    """Another process is writing the same Chroma directory."""


class IndexMismatchError(MicromarketError):
    """The index was built with another embedding model or dimension."""


class SpecialistCallError(MicromarketError):
    """A specialist call failed (error, crash or protocol violation)."""

    def __init__(self, message: str, *, kind: str = "error", transient: bool = False):
        super().__init__(message)
        self.kind = kind  # "error" | "timeout" | "quarantined" | "schema"
        self.transient = transient


class QuarantinedError(SpecialistCallError):
    """The specialist is quarantined; approve it to call it again."""

    def __init__(self, message: str):
        super().__init__(message, kind="quarantined")
