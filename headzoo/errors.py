"""Errors raised by headzoo.

Every error derives from :class:`HeadzooError`, and most also inherit the
built-in exception that fits (``ValueError``, ``LookupError``, ``OSError``), so
``except ValueError`` keeps working for code that does not know headzoo. Each
message quotes the offending value and says how to fix it; the CLI prints it
on one line.
"""

from __future__ import annotations


class HeadzooError(Exception):
    """Base class of every error headzoo raises on purpose."""


class HeadFormatError(HeadzooError, ValueError):
    """A head file or config is missing, unreadable, corrupt or of an unknown format."""


class UnsafeFileError(HeadzooError, ValueError):
    """A pickle-based file (``.bin``, ``.pt``, ``.pkl``...) was found where a head should be."""


class HeadMismatchError(HeadzooError, ValueError):
    """A head does not fit a model: tensor names, shapes, labels or backbone differ."""


class BackboneMismatchError(HeadMismatchError):
    """A head was trained on a different backbone than the model it is applied to."""


class LabelMismatchError(HeadMismatchError):
    """The head's labels and the model's labels are different sets."""


class HeadExistsError(HeadzooError, FileExistsError):
    """Saving would overwrite an existing head and ``overwrite`` was not given."""


class HeadNotFoundError(HeadzooError, LookupError):
    """No head is known for a (task, backbone) pair, path or repo id."""


class BackboneError(HeadzooError, ValueError):
    """A backbone id or path cannot be resolved or loaded."""


class TaskNotFoundError(HeadzooError, LookupError):
    """A task name is not in the registry."""


class DataError(HeadzooError, ValueError):
    """Training or evaluation data is missing, malformed or inconsistent."""


class ConfigError(HeadzooError, ValueError):
    """An argument or hyperparameter has an invalid value."""


class HubError(HeadzooError, OSError):
    """A Hub operation failed (auth, network, missing repo or revision)."""


class HubUnreachableError(HubError, ConnectionError):
    """The Hub cannot be reached: no network, a wrong ``HF_ENDPOINT``, or ``HF_HUB_OFFLINE=1``."""


class InvalidNameError(HeadzooError, ValueError):
    """A repo id, task or zoo name is invalid or would escape its directory."""


class PoolingConfigError(HeadzooError, ValueError):
    """A checkpoint's declared sentence embedding (``modules.json``, pooling config) is missing, damaged or unknown."""


class HeadKindError(HeadMismatchError):
    """A head reads another feature than the model offers (``sentence-embedding`` vs ``sequence-classification``)."""
