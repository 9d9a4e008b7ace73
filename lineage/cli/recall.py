"""``lineage recall ...``, ``lineage drill`` and ``lineage audit ...``: the recall workflow on the
command line, over the same library calls as the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table

from lineage.cli.app import (
    FLAG,
    ByOpt,
    CommandGroup,
    JsonOpt,
    acting,
    app,
    emit_json,
    err,
    opened,
    out,
    run_safely,
)
from lineage.errors import InvalidRequest
from lineage.graph import audit
from lineage.graph.audit import local_actor
from lineage.recall import completion, drill, holds, notices, recalls

recall_app = CommandGroup(help="Recalls: from a scope to a closed recall.")
app.add_typer(recall_app, name="recall")
audit_app = CommandGroup(help="The audit log of every write.")
app.add_typer(audit_app, name="audit")

UidArg = Annotated[str, typer.Argument(help="The recall's uid.")]


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], given: dict[str, Any]) -> M:
    """Options into the library's request model; what it refuses, named by option."""
    try:
        return model.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as e:
        said = (f"{'.'.join(map(str, x['loc'])) or model.__name__}: {x['msg']}" for x in e.errors())
        raise InvalidRequest("; ".join(said)) from None


def _print_recall(r: recalls.Recall) -> None:
    out.print(f"[bold]{r.uid}[/] {r.state}: {r.strategy} recall of {r.source['label']}:{r.source['uid']}")
    level = r.level + (f" (computed {r.level_computed}; {r.level_reason})" if r.level_reason else "")
    late = r.past_deadline()
    out.print(
        f"  product: {r.product}\n  level: {level}\n  owner: {r.owner}, deadline {r.deadline}"
        + (" [bold red]OVERDUE[/]" if late else ""),
        highlight=False,
    )
    if r.scope is not None:
        s = r.scope
        left = f", {s.left_out} left out by targeting" if s.left_out else ""
        reached = f"{len(s.customers)} customers in {', '.join(s.regions) or 'no region'}{left}"
        out.print(
            f"  scope: {len(s.batches)} batches, {len(s.shipments)} shipments, {reached}", highlight=False
        )
    if r.pending is not None and not r.pending.empty:
        added, removed = _listed(r.pending.added), _listed(r.pending.removed)
        out.print(
            f"  [yellow]pending change[/]: added {added}; removed {removed} (lineage recall accept {r.uid})",
            highlight=False,
        )
    for c in r.history:
        out.print(f"  {c.at} {c.by}: {c.what}", highlight=False)


@recall_app.command("create")
def recall_create(
    source: Annotated[str, typer.Argument(help="Label:uid of the source, e.g. MaterialLot:L-4471.")],
    reason: Annotated[str, typer.Option(help="Why (for the record).")],
    risk: Annotated[str, typer.Option(help="The risk in plain words, as customers will read it.")],
    owner: Annotated[str, typer.Option(help="Who runs the recall.")],
    deadline: Annotated[str, typer.Option(help="When customers must have acted (ISO-8601).")],
    strategy: Annotated[str, typer.Option(help="full, targeted or selective_replacement.")] = "full",
    region: Annotated[list[str] | None, typer.Option(help="Targeted: a region (repeat).")] = None,
    customer: Annotated[list[str] | None, typer.Option(help="Targeted: a customer (repeat).")] = None,
    safety: Annotated[
        bool, typer.Option("--safety/--no-safety", metavar=FLAG, help="A health or safety risk.")
    ] = True,
    remedy: Annotated[str | None, typer.Option(help="return, destroy, replace or repair.")] = None,
    level: Annotated[str | None, typer.Option(help="Override the level: national, regional, local.")] = None,
    level_reason: Annotated[str | None, typer.Option(help="Why the level is overridden.")] = None,
    window_from: Annotated[str | None, typer.Option("--from", help="Machine/operator window start.")] = None,
    window_to: Annotated[str | None, typer.Option("--to", help="Machine/operator window end.")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", metavar=FLAG, help="Take a deadline already past (a recall recorded afterwards)."
        ),
    ] = False,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open a draft recall over a forward scope."""

    def go() -> None:
        given = dict(
            source=source, reason=reason, risk=risk, owner=owner, deadline=deadline, strategy=strategy
        )
        given |= dict(regions=region or [], customers=customer or [], safety=safety, remedy=remedy)
        given |= dict(level=level, level_reason=level_reason, window_from=window_from, window_to=window_to)
        given |= dict(force=force)
        request = _validated(recalls.RecallRequest, given)
        with opened() as store:
            r = recalls.create(store, request, acting(by))
        if as_json:
            emit_json(r.model_dump(mode="json"))
        else:
            _print_recall(r)

    run_safely(go)


@recall_app.command("list")
def recall_list(as_json: JsonOpt = False) -> None:
    """Every recall in brief."""

    def go() -> None:
        with opened() as store:
            found = recalls.listing(store)
        if as_json:
            emit_json([r.model_dump(mode="json") for r in found])
            return
        table = Table(
            "uid", "state", "strategy", "level", "source", "owner", "deadline", title_justify="left"
        )
        for r in found:
            table.add_row(r.uid, r.state, r.strategy, r.level, r.source, r.owner, (r.deadline or "")[:10])
        out.print(table)

    run_safely(go)


def _listed(by_kind: dict[str, list[str]]) -> str:
    """``batches B-1009, B-1010; shipments SH-9``, or ``nothing``."""
    return "; ".join(f"{kind} {', '.join(uids)}" for kind, uids in by_kind.items() if uids) or "nothing"


@recall_app.command("show")
def recall_show(uid: UidArg, as_json: JsonOpt = False) -> None:
    """A recall: decision, scope, pending change, history."""

    def go() -> None:
        with opened() as store:
            r = recalls.get(store, uid)
        if as_json:
            emit_json(r.model_dump(mode="json"))
        else:
            _print_recall(r)

    run_safely(go)


def _transition(fn: recalls.Transition, uid: str, by: str | None, as_json: bool) -> None:
    def go() -> None:
        with opened() as store:
            r = fn(store, uid, acting(by))
        if as_json:
            emit_json(r.model_dump(mode="json"))
        else:
            _print_recall(r)

    run_safely(go)


@recall_app.command("activate")
def recall_activate(uid: UidArg, by: ByOpt = None, as_json: JsonOpt = False) -> None:
    """Freeze the scope and put its stock on hold: at the plant, at customers, and the source lot."""
    _transition(recalls.activate, uid, by, as_json)


@recall_app.command("accept")
def recall_accept(uid: UidArg, by: ByOpt = None, as_json: JsonOpt = False) -> None:
    """Take the pending change (what data loaded since adds) into an active recall; holds follow."""
    _transition(recalls.accept_pending, uid, by, as_json)


@recall_app.command("close")
def recall_close(
    uid: UidArg,
    note: Annotated[str, typer.Option(help="Why the recall is done (required).")],
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close an active recall; what is still open is recorded with it."""
    _transition(lambda store, u, who: completion.close(store, u, who, note), uid, by, as_json)


@recall_app.command("holds")
def recall_holds(
    uid: Annotated[str | None, typer.Argument(help="The recall (all recalls if left out).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Holds with the batch or lot held, location, quantity and state."""

    def go() -> None:
        with opened() as store:
            found = holds.holds(store, uid)
        if as_json:
            emit_json([h.model_dump(mode="json") for h in found])
            return
        table = Table("hold", "recall", "held", "location", "quantity", "status", title_justify="left")
        for h in found:
            amount = "unknown" if h.quantity is None else f"{h.quantity:g} {h.unit or ''}"
            table.add_row(h.uid, h.recall, h.held, h.location, amount, h.status)
        out.print(table)

    run_safely(go)


@recall_app.command("release")
def recall_release(
    hold: Annotated[str, typer.Argument(help="The hold's uid (H-...).")],
    reason: Annotated[str, typer.Option(help="Why the stock may move (required).")],
    by: ByOpt = None,
) -> None:
    """Release one hold, with a reason."""

    def go() -> None:
        with opened() as store:
            h = holds.release(store, hold, acting(by), reason)
        out.print(f"{h.uid} released: {h.held} at {h.location} ({h.release_reason})", highlight=False)

    run_safely(go)


@recall_app.command("notices")
def recall_notices(
    uid: UidArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the notices and the CSV list.")],
) -> None:
    """Write a notice per customer (Markdown and HTML) and the notification list (CSV)."""

    def go() -> None:
        with opened() as store:
            recall, scope = recalls.scope(store, uid)
        out_dir.mkdir(parents=True, exist_ok=True)
        made = notices.notices(recall, scope)
        for n in made:
            name = notices.file_stem(n.customer)
            (out_dir / f"{uid}-{name}.md").write_text(n.markdown, encoding="utf-8")
            (out_dir / f"{uid}-{name}.html").write_text(n.html, encoding="utf-8")
        (out_dir / f"{uid}-notifications.csv").write_text(
            notices.notification_csv(recall, scope), encoding="utf-8"
        )
        unreachable = [n.customer for n in made if n.channel == "none"]
        out.print(f"{len(made)} notice(s) and {uid}-notifications.csv written to {out_dir}", highlight=False)
        if unreachable:
            err.print(f"[yellow]no contact on record for {', '.join(unreachable)}[/]")

    run_safely(go)


@recall_app.command("followup")
def recall_followup(
    uid: UidArg,
    customer: Annotated[str, typer.Argument(help="The customer's uid.")],
    action: Annotated[
        str, typer.Argument(help="notified, acknowledged, returned, destroyed, corrected, withdrawn.")
    ],
    quantity: Annotated[float | None, typer.Option(help="For returned, destroyed, corrected.")] = None,
    unit: Annotated[str | None, typer.Option(help="Default: the unit the customer received.")] = None,
    at: Annotated[str | None, typer.Option(help="When it happened (ISO-8601; default now).")] = None,
    channel: Annotated[str | None, typer.Option(help="For notified: email, phone, post.")] = None,
    note: Annotated[str | None, typer.Option()] = None,
    replaces: Annotated[
        str | None,
        typer.Option(help="The uid of an earlier follow-up this one corrects (withdrawn: takes it back)."),
    ] = None,
    by: ByOpt = None,
) -> None:
    """Record what happened with one customer of an active recall, or correct an earlier record."""

    def go() -> None:
        given = dict(
            action=action, quantity=quantity, unit=unit, at=at, channel=channel, note=note, replaces=replaces
        )
        request = _validated(completion.FollowupRequest, given)
        with opened() as store:
            done = completion.record_action(store, uid, customer, request, acting(by))
        amount = f" {done.quantity:g} {done.unit}" if done.quantity is not None else ""
        out.print(f"{done.uid}: {customer} {done.action}{amount} at {done.at}", highlight=False)

    run_safely(go)


def _figures_table(title: str, figures: list[completion.Figures]) -> Table:
    columns = ("group", "customers", "notified", "coverage", "accounted / affected")
    table = Table(*columns, title=title, title_justify="left")
    for f in figures:
        coverage = "-" if f.coverage is None else f"{f.coverage:.0%}"
        table.add_row(f.group, str(f.customers), str(f.notified), coverage, completion.amount_text(f.amounts))
    return table


@recall_app.command("effectiveness")
def recall_effectiveness(uid: UidArg, as_json: JsonOpt = False) -> None:
    """Notification coverage and completion, overall, by region and by level of the chain."""

    def go() -> None:
        with opened() as store:
            e = completion.effectiveness(store, uid)
        if as_json:
            emit_json(e.model_dump(mode="json"))
            return
        if e.overdue:
            late = [c.uid for c in e.customers if c.overdue]
            out.print(
                f"[bold red]OVERDUE[/]: deadline {e.deadline}; not done: {', '.join(late)}", highlight=False
            )
        out.print(_figures_table("Overall", [e.overall]))
        out.print(_figures_table("By region", e.by_region))
        out.print(_figures_table("By level of the chain", e.by_level))
        for h in e.held_at_plant:
            out.print(f"on hold at the plant: {h['quantity']:g} {h['unit']}", highlight=False)

    run_safely(go)


@recall_app.command("report")
def recall_report(
    uid: UidArg,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the report here (.md or .json).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The closing report: scope, actions, completion figures and open items."""

    def go() -> None:
        with opened() as store:
            report = completion.closing_report(store, uid)
        as_data = as_json or (out_file is not None and out_file.suffix == ".json")
        text = report.model_dump_json(indent=2) + "\n" if as_data else completion.report_markdown(report)
        if out_file is None:
            out.print(text, markup=False, highlight=False)
        else:
            out_file.write_text(text, encoding="utf-8")
            out.print(f"report written to {out_file}", highlight=False)

    run_safely(go)


@app.command("drill")
def drill_command(
    lot: Annotated[str, typer.Argument(help="The material lot's uid.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write drill-<lot>.md and .json here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A mock recall drill: the lot's full scope, mass balance and notification list, timed."""

    def go() -> None:
        with opened() as store:
            report = drill.drill(store, lot, local_actor())
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            stem = notices.file_stem(lot)
            (out_dir / f"drill-{stem}.md").write_text(drill.to_markdown(report), encoding="utf-8")
            (out_dir / f"drill-{stem}.json").write_text(drill.to_json(report), encoding="utf-8")
        if as_json:
            emit_json(report.model_dump(mode="json"))
            return
        if out_dir is None:
            out.print(drill.to_markdown(report), markup=False, highlight=False)
        unbalanced = ", ".join(report.mass_balance.unbalanced) or "none"
        found = f"{len(report.scope.batches)} batches, {len(report.notification_list)} customers"
        out.print(
            f"drill of {lot}: {report.seconds:.3f} s; {found}; unbalanced: {unbalanced}", highlight=False
        )

    run_safely(go)


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Walk the hash chain; name the first entry that was altered or removed (exit 1 if any)."""

    def go() -> None:
        with opened() as store:
            v = audit.verify(store)
        if as_json:
            emit_json(v.model_dump(mode="json"))
        elif v.ok:
            out.print(f"audit log intact: {v.entries} entries; head {v.head}", highlight=False)
        else:
            err.print(f"[bold red]audit log broken[/] at entry {v.first_bad}: {v.problem}", highlight=False)
        if not v.ok:
            raise typer.Exit(1)

    run_safely(go)


@audit_app.command("list")
def audit_list(
    after: Annotated[int, typer.Option(help="Entries numbered after this.")] = 0,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Entries of the audit log, oldest first."""

    def go() -> None:
        with opened() as store:
            found = audit.page(store, after, limit)
        if as_json:
            emit_json(found.model_dump(mode="json"))
            return
        table = Table("#", "at", "who", "action", "subject", "counts", title_justify="left")
        for e in found.entries:
            counts = ", ".join(f"{k} {v}" for k, v in e.counts.items())
            table.add_row(str(e.seq), e.at, e.who, e.action, e.subject, counts)
        out.print(table)
        if found.next_after is not None:
            out.print(f"more: --after {found.next_after}", highlight=False)

    run_safely(go)
