"""The FSMA 204 sortable spreadsheet: a traced EPCIS chain row by row, the same rows as CSV and XLSX,
the dates asked for, what the records lack named, and the export over HTTP and on the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from apiserver import serve
from conftest import short_tmpdir
from openpyxl import load_workbook
from test_embedded_server import cli
from test_epcis import CHAIN, FARM, LETTUCE, PACKER, PALLET, SALAD, SHOP, document
from test_loading import write_jsonl

from lineage.graph.engines.embedded_server import EmbeddedServer
from lineage.graph.gs1 import canonical
from lineage.graph.model import Label, NodeRef, parse_ref
from lineage.graph.scope import window_between
from lineage.graph.store import Store
from lineage.interchange.fsma import COLUMNS, CteRow, fsma204
from lineage.interchange.fsma_sheet import to_csv, to_xlsx
from lineage.loading.load import load

FARM_SITE = "urn:epc:id:sgln:0614141.00001.0"
PACKER_SITE = "urn:epc:id:sgln:0614142.00001.0"


def located(chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The test chain with where the lettuce was harvested and packed, and where it was cut."""
    where = {"urn:uuid:e1": FARM_SITE, "urn:uuid:e5": PACKER_SITE}
    return [{**e, "bizLocation": {"id": where[e["eventID"]]}} if e["eventID"] in where else e for e in chain]


def row(r: CteRow) -> tuple[Any, ...]:
    return (
        r.cte,
        r.time,
        r.traceability_lot_code,
        r.traceability_lot_code_source,
        r.product_description,
        r.quantity,
        r.unit_of_measure,
        r.location,
        r.immediate_previous_source,
        r.immediate_subsequent_recipient,
        r.foods_used,
        r.reference_document_type,
        r.reference_document_number,
    )


@pytest.fixture
def chain(store: Store, tmp_path: Path) -> Store:
    store.clear()
    load(store, [document(tmp_path, located(CHAIN))])
    return store


def test_the_chain_is_one_row_per_critical_tracking_event(chain: Store) -> None:
    lettuce, salad = canonical(LETTUCE), canonical(SALAD)
    farm_site, packer_site = canonical(FARM_SITE), canonical(PACKER_SITE)
    farm, packer, shop = canonical(FARM), canonical(PACKER), canonical(SHOP)
    romaine = "Romaine lettuce (00614141123452)"
    report = fsma204(chain, NodeRef(Label.BATCH, salad))
    assert [row(r) for r in report.rows] == [
        # harvested and packed with its lot code at the farm
        (
            "Initial packing",
            "2026-05-01T04:00:00Z",
            lettuce,
            farm_site,
            romaine,
            1000,
            "kg",
            farm_site,
            None,
            None,
            None,
            "EPCIS ObjectEvent",
            "urn:uuid:e1",
        ),
        # on a pallet from the farm to the packer, under a despatch advice
        (
            "Shipping",
            "2026-05-01T07:00:00Z",
            lettuce,
            farm_site,
            romaine,
            1000,
            "kg",
            farm,
            None,
            packer,
            None,
            "despatch advice",
            "urn:example:desadv:D1",
        ),
        (
            "Receiving",
            "2026-05-02T05:00:00Z",
            lettuce,
            farm_site,
            romaine,
            1000,
            "kg",
            packer,
            farm,
            None,
            None,
            "despatch advice",
            "urn:example:desadv:D1",
        ),
        # cut into salad: a new lot code, naming the food used
        (
            "Transformation",
            "2026-05-02T08:00:00Z",
            salad,
            packer_site,
            "GTIN 00614142543211",
            800,
            "kg",
            packer_site,
            None,
            None,
            f"{lettuce} ({romaine}, 1000 kg)",
            "EPCIS TransformationEvent",
            "urn:uuid:e5",
        ),
        # and shipped to the shop (no business transaction: the event is the record)
        (
            "Shipping",
            "2026-05-03T03:00:00Z",
            salad,
            packer_site,
            "GTIN 00614142543211",
            800,
            "kg",
            packer,
            None,
            shop,
            None,
            "EPCIS event",
            "urn:uuid:e6",
        ),
    ]
    assert [r.date for r in report.rows] == [
        "2026-05-01",
        "2026-05-01",
        "2026-05-02",
        "2026-05-02",
        "2026-05-03",
    ]
    assert all(r.missing == [] for r in report.rows)
    assert report.rows[1].lineage_record.endswith(f" on {canonical(PALLET)}")  # found inside the pallet
    # From the first lot the same chain, forward and backward alike.
    assert [row(r) for r in fsma204(chain, NodeRef(Label.BATCH, lettuce)).rows] == [
        row(r) for r in report.rows
    ]
    # Only the lettuce's own history going backward from it: not the salad it became.
    upstream = fsma204(chain, NodeRef(Label.BATCH, lettuce), direction="backward").rows
    assert {r.traceability_lot_code for r in upstream} == {lettuce}


def test_the_dates_asked_for_bound_the_events(chain: Store) -> None:
    source = parse_ref(SALAD)  # a GS1 key alone names the lot
    asked = fsma204(chain, source, window_between("2026-05-02T00:00:00Z", "2026-05-03T00:00:00Z"))
    assert [(r.cte, r.date) for r in asked.rows] == [
        ("Receiving", "2026-05-02"),
        ("Transformation", "2026-05-02"),
    ]
    assert (asked.start, asked.end) == ("2026-05-02T00:00:00Z", "2026-05-03T00:00:00Z")
    since = fsma204(chain, source, window_between("2026-05-03T00:00:00Z", None))
    assert [r.cte for r in since.rows] == ["Shipping"] and since.end is None


def test_csv_and_xlsx_hold_the_same_rows(chain: Store) -> None:
    report = fsma204(chain, NodeRef(Label.BATCH, canonical(SALAD)))
    from_csv = list(csv.reader(io.StringIO(to_csv(report))))
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    sheet = book["FSMA 204"]
    from_xlsx = [["" if v is None else str(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert from_csv[0] == [heading for _, heading in COLUMNS] == from_xlsx[0]
    assert len(from_csv) == len(report.rows) + 1
    assert from_csv == from_xlsx
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(COLUMNS)).column_letter}{len(report.rows) + 1}"
    assert sheet.freeze_panes == "A2"
    assert isinstance(sheet.cell(2, 7).value, int)  # quantities are numbers, to sort and add up
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["Traceability records for"] == f"Batch:{canonical(SALAD)}" and about["Rows"] == 5


def test_what_the_records_lack_is_named_and_a_formula_stays_text(store: Store, tmp_path: Path) -> None:
    store.clear()
    rows = [
        {"kind": "Supplier", "uid": "S1", "name": '=HYPERLINK("http://evil")'},
        {"kind": "MaterialLot", "uid": "L1", "material": "spinach", "quantity": 50, "unit": "kg"},
        {"kind": "SUPPLIED", "from": "S1", "to": "L1"},
        {"kind": "Batch", "uid": "B1", "product": "salad mix"},
        {
            "kind": "CONSUMED_BY",
            "from": "L1",
            "to": "B1",
            "from_label": "MaterialLot",
            "quantity": 50,
            "unit": "kg",
        },
    ]
    load(store, [write_jsonl(tmp_path / "plain.jsonl", rows)])
    report = fsma204(store, NodeRef(Label.MATERIAL_LOT, "L1"))
    transformation, receiving = report.rows  # undated rows are still listed, by lot code
    assert receiving.cte == "Receiving" and transformation.cte == "Transformation"
    assert receiving.missing == [
        "Location of the event",
        "Event date",
        "Reference document type",
        "Reference document number",
    ]
    assert "Quantity" in transformation.missing and "Event date" in transformation.missing
    assert transformation.reference_document_number == "B1"  # the batch is its own work order
    assert transformation.foods_used == "L1 (spinach, 50 kg)"
    cells = list(csv.reader(io.StringIO(to_csv(report))))
    assert cells[2][4].startswith("'=HYPERLINK")  # the supplier's name, inert in a spreadsheet
    sheet = load_workbook(io.BytesIO(to_xlsx(report)))["FSMA 204"]
    assert sheet.cell(3, 5).value.startswith("'=") and sheet.cell(3, 5).data_type == "s"


def test_the_export_over_http_is_audited() -> None:
    with serve(firm_location="Fjord Dairy AS, Industrivegen 1, Hamar, +47 62 00 00 00") as api:
        with api.client("viewer") as viewer:
            asked = {"source": "MaterialLot:L-4471", "format": "xlsx", "by": "Kari QA"}
            got = viewer.get("/export/fsma204", params=asked)
            assert got.status_code == 200, got.text
            assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
            assert 'filename="fsma204-L-4471.xlsx"' in got.headers["content-disposition"]
            sheet = load_workbook(io.BytesIO(got.content))["FSMA 204"]
            cells = list(sheet.iter_rows(values_only=True))[1:]
            assert cells[0][0:1] + cells[0][3:4] == ("Receiving", "L-4471")
            assert cells[0][8] == "Fjord Dairy AS, Industrivegen 1, Hamar, +47 62 00 00 00"
            lots = {c[3] for c in cells}
            assert {"L-4471", "B-1001", "B-2001", "B-3001"} <= lots
            as_csv = viewer.get("/export/fsma204", params={"source": "MaterialLot:L-4471"})
            assert as_csv.headers["content-type"].startswith("text/csv")
            assert len(list(csv.reader(io.StringIO(as_csv.text)))) == len(cells) + 1
            unknown = viewer.get("/export/fsma204", params={"source": "Sale:SA-01", "direction": "forward"})
            assert unknown.status_code == 422 and "no forward trace starts from a Sale" in unknown.text
            missing = viewer.get("/export/fsma204", params={"source": "MaterialLot:NOPE"})
            assert missing.status_code == 404
        with api.client("admin") as admin:
            entries = admin.get("/audit", params={"limit": 500}).json()["entries"]
            exports = [e for e in entries if e["action"] == "export.fsma204"]
            assert len(exports) == 2 and all(e["subject"] == "MaterialLot:L-4471" for e in exports)
            [asked_by] = [e for e in exports if "Kari QA" in e["who"]]
            assert asked_by["counts"] == {"rows": len(cells)} and asked_by["detail"].endswith("xlsx")


def test_the_command_writes_the_spreadsheet(tmp_path: Path) -> None:
    data = short_tmpdir("lin-fsma-")
    try:
        assert cli(data, "load", str(document(tmp_path, located(CHAIN)))).returncode == 0
        done = cli(data, "export", "fsma204", SALAD, "--format", "xlsx", "--out", str(tmp_path / "out.xlsx"))
        assert done.returncode == 0, done.stderr
        assert "5 rows (0 missing key data elements) written to" in done.stdout
        assert load_workbook(tmp_path / "out.xlsx")["FSMA 204"].max_row == 6
        printed = cli(data, "export", "fsma204", f"Batch:{LETTUCE}", "--from", "2026-05-03")
        assert printed.returncode == 0, printed.stderr
        [heading, shipped] = list(csv.reader(io.StringIO(printed.stdout)))
        assert heading[0] == "Critical tracking event" and shipped[0] == "Shipping"
        refused = cli(data, "export", "fsma204", f"Batch:{LETTUCE}", "--format", "pdf")
        assert refused.returncode != 0 and "'pdf' is not one of csv, xlsx" in refused.stderr
    finally:
        EmbeddedServer(data).stop()
