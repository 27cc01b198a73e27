"""The one exception hierarchy of pairflow.

Every error pairflow raises on purpose derives from `PairflowError`; its docstring is the default
message. Errors that come from bad input carry the place they were found (a JSON pointer or an
expression column) so that a user can fix the input without reading a traceback.
"""

from __future__ import annotations


class PairflowError(Exception):
    """An error in pairflow."""

    exit_code: int = 1

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InputError(PairflowError):
    """The input is not valid."""

    exit_code = 2


class DefinitionError(InputError):
    """The workflow definition is not valid.

    `issues` holds every problem found, each as (JSON pointer, message).
    """

    def __init__(self, issues: list[tuple[str, str]], source: str = "") -> None:
        self.issues = issues
        self.source = source
        first = issues[0] if issues else ("", "invalid definition")
        prefix = f"{source}: " if source else ""
        super().__init__(f"{prefix}{first[0] or '/'}: {first[1]}")

    def lines(self) -> list[str]:
        prefix = f"{self.source}: " if self.source else ""
        return [f"{prefix}{pointer or '/'}: {message}" for pointer, message in self.issues]


class ExpressionError(InputError):
    """The expression is not valid."""

    def __init__(self, message: str, expression: str = "", column: int | None = None) -> None:
        self.expression = expression
        self.column = column
        self.cause = message
        where = f" at column {column}" if column is not None else ""
        shown = f" in '{expression}'" if expression else ""
        super().__init__(f"{message}{where}{shown}")

    def caret(self) -> str:
        """The expression with a caret under the failing column (1-based)."""
        if self.column is None:
            return self.expression
        return f"{self.expression}\n{' ' * (self.column - 1)}^"


class ExpressionSyntaxError(ExpressionError):
    """The expression cannot be parsed."""


class ExpressionEvaluationError(ExpressionError):
    """The expression cannot be evaluated (bad argument, missing property, unknown reference)."""


class ExpressionLimitError(ExpressionEvaluationError):
    """The expression exceeded a bound on depth, size or time."""


class ParameterError(InputError):
    """A parameter value is missing or of the wrong type."""


class StoreError(PairflowError):
    """The store failed."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached."""


class RunNotFoundError(InputError):
    """No run has that id."""


class ActionFailure(PairflowError):
    """An action failed; `code` is the Logic Apps error code shown in its record."""

    def __init__(self, message: str, code: str = "ActionFailed") -> None:
        self.code = code
        super().__init__(message)


class DuplicateRunError(StoreError):
    """A run with that id exists already."""


class MetaConflictError(StoreError):
    """The stored document changed since it was read (compare-and-set failed)."""
