"""EPCIS out: the events a trace or a period rests on, as an EPCIS 2.0 document in JSON-LD and in
XML, read back into the same graph; by the library, the CLI and the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from apiserver import serve
from test_embedded_server import cli
from test_epcis import CHAIN, FIXTURES, LETTUCE, SALAD, VALID, document
from test_epcis_xml import graph

from lineage.errors import InvalidRequest
from lineage.graph.gs1 import canonical
from lineage.graph.model import OPEN_END, OPEN_START, Label, NodeRef
from lineage.graph.scope import Window
from lineage.graph.store import Store
from lineage.interchange.epcis.export import export
from lineage.loading.load import load
from lineage.loading.validate import validate

ALL_TIME = Window(start=OPEN_START, end=OPEN_END)


@pytest.mark.parametrize("fmt", ["jsonld", "xml"])
@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_every_standard_document_goes_out_and_comes_back_the_same_graph(
    store: Store, tmp_path: Path, path: Path, fmt: str
) -> None:
    store.clear()
    load(store, [path])
    count, content, name = export(store, None, "both", ALL_TIME, fmt, "test")  # type: ignore[arg-type]
    assert count >= 1 and name.endswith(f".{fmt}")
    again = tmp_path / name
    again.write_bytes(content)
    assert graph(validate([again])) == graph(validate([path]))


def test_a_trace_goes_out_with_what_it_rests_on_only(store: Store, tmp_path: Path) -> None:
    store.clear()
    load(store, [document(tmp_path, CHAIN), FIXTURES / "valid" / "ObjectEvent.json"])  # and an unrelated one
    salad = NodeRef(Label.BATCH, canonical(SALAD))
    for fmt in ("jsonld", "xml"):
        count, content, name = export(store, salad, "backward", None, fmt, "test")  # type: ignore[arg-type]
        sent = tmp_path / name
        sent.write_bytes(content)
        assert count == 6
        assert graph(validate([sent])) == graph(validate([document(tmp_path, CHAIN)]))
    lettuce = NodeRef(Label.BATCH, canonical(LETTUCE))
    window = Window(start=0, end=1_777_700_000_000)  # 2026-05-02T05:33Z: the first four events
    count, _, _ = export(store, lettuce, "forward", window, "jsonld", "test")
    assert count == 4
    with pytest.raises(InvalidRequest, match="give a source, or a period"):
        export(store, None, "both", None, "jsonld", "test")


def test_the_cli_sends_a_trace_that_another_lineage_reads_back(tmp_path: Path) -> None:
    sender, receiver = tmp_path / "sender", tmp_path / "receiver"
    assert cli(sender, "load", str(document(tmp_path, CHAIN))).returncode == 0
    out = tmp_path / "for-the-retailer.xml"
    done = cli(
        sender,
        "export",
        "epcis",
        canonical(SALAD),
        "--direction",
        "backward",
        "--format",
        "xml",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert "6 event(s) written" in done.stdout and out.read_text().startswith("<?xml")
    assert cli(receiver, "load", str(out)).returncode == 0
    traced = cli(receiver, "trace", "backward", "Batch", canonical(SALAD), "--json")
    assert traced.returncode == 0, traced.stderr
    assert canonical(LETTUCE) in traced.stdout
    audit = cli(sender, "audit", "list", "--json")
    assert "export.epcis" in audit.stdout
    refused = cli(sender, "export", "epcis", "--format", "pdf")
    assert refused.returncode != 0 and "--format" in refused.stderr


def test_the_api_sends_a_period_as_json_ld_or_xml(tmp_path: Path) -> None:
    with serve(demo=False) as api, api.client("editor") as editor:
        chain = document(tmp_path, CHAIN).read_bytes()
        assert editor.post(
            "/ingest", content=chain, headers={"Content-Type": "application/ld+json"}
        ).is_success
        period = {"from": "2026-05-01T00:00:00Z", "to": "2026-05-04T00:00:00Z"}
        for fmt, media in (("jsonld", "application/ld+json"), ("xml", "application/xml")):
            got = editor.get("/export/epcis", params={**period, "format": fmt})
            assert got.status_code == 200, got.text
            assert got.headers["content-type"].startswith(media)
            assert "attachment" in got.headers["content-disposition"]
            sent = tmp_path / f"period.{fmt}"
            sent.write_bytes(got.content)
            assert graph(validate([sent])) == graph(validate([document(tmp_path, CHAIN)]))
        traced = editor.get(
            "/export/epcis", params={"source": f"Batch:{canonical(SALAD)}", "direction": "backward"}
        )
        assert traced.status_code == 200 and traced.json()["epcisBody"]["eventList"]
        assert editor.get("/export/epcis").status_code == 422
