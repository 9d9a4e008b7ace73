"""The ``lineage`` app, its shared options and how a command opens the store and reports an error.

Command modules register on :data:`app`; this module imports none of them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from lineage.config import Settings
from lineage.errors import LineageError, NotFound
from lineage.graph.store import Store

#: The metavar of a flag: nothing, where typer would show "<bool>" for an option that takes no value.
FLAG = ""


class _HelpFlag:
    """Shows ``--help`` as the flag it is: typer gives click's own help option the metavar "<bool>"."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = FLAG
        return option


class _Group(_HelpFlag, TyperGroup):
    pass


class _Command(_HelpFlag, TyperCommand):
    pass


class CommandGroup(typer.Typer):
    """A typer app whose groups and commands all show ``--help`` without a value."""

    def __init__(self, *, help: str, **kwargs: Any) -> None:
        super().__init__(cls=_Group, no_args_is_help=True, help=help, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


app = CommandGroup(
    add_completion=False, help="Graph lineage for product recalls: who is affected, and where it came from."
)


out = Console()


err = Console(stderr=True)


F = TypeVar("F", bound=Callable[..., Any])


JsonOpt = Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print JSON for scripts.")]


MaxNodesOpt = Annotated[int | None, typer.Option(help="Node limit (default from settings).")]


TimeoutOpt = Annotated[float | None, typer.Option(help="Time limit in seconds (default from settings).")]


ByOpt = Annotated[str | None, typer.Option("--by", help="Who (default: this machine's account).")]


EvidenceOpt = Annotated[
    bool,
    typer.Option(
        "--evidence", metavar=FLAG, help="Also list the event and document ids it rests on, oldest first."
    ),
]


def _print_version(asked: bool) -> None:
    if asked:
        from lineage import __version__

        print(f"lineage {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            metavar=FLAG,
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Graph lineage for product recalls: who is affected, and where it came from."""


def acting(by: str | None) -> str:
    """Who the audit log names for a command: the person given with ``--by``, with this machine's
    account beside it (or the account alone)."""
    from lineage.graph.audit import local_actor

    return f"{by} ({local_actor()})" if by else local_actor()


def settings() -> Settings:
    try:
        return Settings()
    except ValidationError as e:
        raise LineageError(f"invalid settings: {e}") from e


@contextmanager
def opened() -> Iterator[Store]:
    with Store.open(settings()) as store:
        yield store


def run_safely(fn: Callable[[], None]) -> None:
    try:
        fn()
    except NotFound as e:
        err.print(f"[bold red]error:[/] {e}{_empty_hint()}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1) from None
    except LineageError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1) from None


def _empty_hint() -> str:
    """After a miss: if the database holds nothing at all, where it is and what to do."""
    try:
        with opened() as store:
            if not store.run("admin_graph_empty")[0]["empty"]:
                return ""
    except LineageError:
        return ""
    current = settings()
    where = current.data_dir if current.engine == "falkordb" else current.db_uri
    return (
        f"\nthe database ({where}) is empty: load data with `lineage load FILES...`, or point "
        "LINEAGE_DATA_DIR (or LINEAGE_DB_URI) at the one that holds your lineage"
    )


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def make_window(start: str | None, end: str | None) -> Any:
    from lineage.graph.scope import window_between

    return window_between(start, end, prefix="--")
