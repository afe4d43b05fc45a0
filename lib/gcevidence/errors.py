"""The toolkit's exceptions; each carries what the user needs to fix the problem.

Every error maps to an exit status of the command line contract (docs/evidence-pack.md §1):
2 for bad usage or input (nothing written), 3 for incomplete evidence (no pack sealed).
"""

from __future__ import annotations


class GcEvidenceError(Exception):
    """Base of every error the toolkit raises on purpose."""

    exit_status = 1

    def __reduce__(self):
        # Rebuilt from its attributes rather than by calling __init__ again (subclasses take
        # other arguments): a phase run in a child process (isolate.py) raises it here as it was.
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(cls: type, args: tuple, state: dict) -> GcEvidenceError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InputError(GcEvidenceError):
    """Bad params, HR roster or other user input: names the file, the field and the value."""

    exit_status = 2

    def __init__(self, file: str, field: str, value: object, problem: str, fix: str = ""):
        self.file, self.field, self.value, self.problem, self.fix = file, field, value, problem, fix
        text = f"{file}: {field}={value!r}: {problem}"
        super().__init__(f"{text}; {fix}" if fix else text)


class CatalogError(InputError):
    """A catalog data file (checks, frameworks, baselines) is wrong: names file, key path, value."""


class UsageError(GcEvidenceError):
    """The command line itself is wrong, or the environment lacks something required."""

    exit_status = 2


class IncompleteEvidence(GcEvidenceError):
    """The evidence could not be collected completely; no pack may be sealed."""

    exit_status = 3


class ApiError(IncompleteEvidence):
    """The Genesys Cloud API answered with an error the client could not recover from."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        code: str = "",
        message: str = "",
        fix: str = "",
    ):
        self.method, self.path, self.status, self.code, self.message = (
            method,
            path,
            status,
            code,
            message,
        )
        where = f"{method} {path}"
        what = f"HTTP {status}" if status is not None else "no response"
        detail = f" {code}" if code else ""
        text = f"{where}: {what}{detail}: {message}".rstrip(": ")
        super().__init__(f"{text}; {fix}" if fix else text)


class AuthenticationError(ApiError):
    """The OAuth client could not obtain a token (wrong id, secret or region)."""


class CredentialsRejected(AuthenticationError):
    """The login host refused the OAuth client (wrong id, secret or region): fix the config.

    Exit status 2, not 3: retrying cannot help, and nothing was written.
    """

    exit_status = 2


class PermissionDenied(ApiError):
    """403: the OAuth client lacks a permission; checks that need it are not_evaluable."""

    def __init__(self, method: str, path: str, permission: str, message: str = ""):
        self.permission = permission
        super().__init__(
            method,
            path,
            403,
            "missing.any.permissions",
            message,
            fix=f"grant the OAuth client's role the permission {permission}",
        )


class IncompletePagination(IncompleteEvidence):
    """A listing returned fewer (or more) items than the API's own count."""


class AuditQueryFailed(IncompleteEvidence):
    """An asynchronous audit query ended Failed/Cancelled or did not finish in time."""

    def __init__(self, transaction_id: str, state: str, detail: str = ""):
        self.transaction_id, self.state = transaction_id, state
        super().__init__(
            f"audit query {transaction_id} ended {state}{': ' + detail if detail else ''}; "
            "re-run later or shorten period.days"
        )


class RenderError(IncompleteEvidence):
    """A notebook could not be executed or rendered: the evidence cannot be written up."""


class PackError(GcEvidenceError):
    """A pack could not be written, verified or published."""
