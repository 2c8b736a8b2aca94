"""One error hierarchy for everything a user can get wrong.

A `NewsgenError` names the file and line it is about, so the CLI can print
`path:line: message` without a traceback. `Diagnostics` collects every problem of
one build so that all of them are reported together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class NewsgenError(Exception):
    """A problem in the user's content, configuration or command line."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        return format_location(self.path, self.line, self.message)


class ConfigError(NewsgenError):
    """`site.toml` is missing, malformed or holds a value of the wrong kind."""


class ContentError(NewsgenError):
    """A news item or standing page breaks the content contract."""


class TemplateError(NewsgenError):
    """A template does not compile or fails while rendering."""


class BuildFailed(NewsgenError):
    """The build stopped; `problems` holds every error found."""

    def __init__(self, problems: list["Problem"]):
        self.problems = problems
        self.error_count = sum(1 for p in problems if p.severity == "error")
        super().__init__(f"the build failed with {self.error_count} error{'s' if self.error_count != 1 else ''}")


def format_location(path: str | None, line: int | None, message: str) -> str:
    if path is None:
        return message
    if line is None:
        return f"{path}: {message}"
    return f"{path}:{line}: {message}"


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        message = self.message if self.severity == "error" else f"warning: {self.message}"
        return format_location(self.path or None, self.line or None, message)


@dataclass
class Diagnostics:
    """Errors and warnings of one build, in the order they were found."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        self.problems.append(Problem(str(path or ""), line or 0, message, "error"))

    def warning(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        self.problems.append(Problem(str(path or ""), line or 0, message, "warning"))

    def add(self, exc: NewsgenError) -> None:
        self.error(exc.message, exc.path, exc.line)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise BuildFailed(sorted(self.problems))
