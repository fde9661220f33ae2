"""Decord's error types. A framepipe error raised through the compat layer is an instance of
DECORDError and of the framepipe error it was (framepipe.OutOfRangeError is also an
IndexError, framepipe.ConfigError a ValueError)."""
import functools

import framepipe


class DECORDError(Exception):
    """Any error the Decord layer reports."""


class DECORDLimitReachedError(DECORDError):
    """More concealed (recovered) frames than ``fault_tol`` allows."""


@functools.lru_cache(maxsize=None)
def _twin(kind):
    return type(kind.__name__, (DECORDError, kind), {"__module__": __name__})


def translate(fn):
    """Calls fn, re-raising a framepipe error as its DECORDError twin."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DECORDError:
            raise
        except framepipe.Error as e:
            raise _twin(type(e))(*e.args) from e
    return call
