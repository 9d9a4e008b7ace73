"""The investigation view in a real browser: Debian's Chromium driven by Playwright, against a real
``lineage serve`` with API keys on. Every test fails if the page asks any host but the API's own,
or if the page raises a script error."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import networkx as nx
import pytest
from apiserver import KEYS, Api, serve

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "ui-demo-scope.png"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} (`make test` installs Debian's package)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-sync",
                "--disable-background-networking",  # else it calls out to Google's hosts, refused here
                "--disable-component-update",
            ],
        )
        yield launched
        launched.close()


class View:
    """One browser tab on the view, recording every request to another host and every script error."""

    def __init__(self, browser: Any, api: Api, key: str | None = KEYS["viewer"]) -> None:
        self.api = api
        self.context = browser.new_context(accept_downloads=True, viewport={"width": 1500, "height": 900})
        if key:
            self.context.add_init_script(f"sessionStorage.setItem('lineage-key', '{key}')")
        self.foreign: list[str] = []
        self.context.route("**/*", self._guard)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{api.url}/ui/")
        self.page.wait_for_function(
            "() => window.lineageView && Object.keys(window.lineageView.kinds).length"
        )

    def _guard(self, route: Any) -> None:
        if route.request.url.startswith(self.api.url + "/"):
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def choose(self, uid: str) -> None:
        self.page.fill("#search", uid)
        self.page.click(f'#hits li[data-uid="{uid}"]')

    def run(self, direction: str) -> None:
        self.page.click(f"#run-{direction}")
        self.page.wait_for_function(
            "() => /relationships/.test(document.getElementById('status').textContent)"
        )

    def drawn(self, selector: str = "node") -> list[dict[str, Any]]:
        return self.page.evaluate(f"() => window.lineageView.cy.elements('{selector}').map(e => e.data())")

    def listed(self) -> list[list[str]]:
        return self.page.eval_on_selector_all(
            "#list tbody tr[data-id]", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )

    def click_node(self, node_id: str) -> None:
        """A real mouse click where the node is drawn on the canvas."""
        box = self.page.locator("#graph").bounding_box()
        point = self.page.evaluate(
            "id => window.lineageView.cy.getElementById(id).renderedPosition()", node_id
        )
        self.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])

    def download(self, button: str) -> bytes:
        with self.page.expect_download() as info:
            self.page.click(button)
        return Path(info.value.path()).read_bytes()

    def close(self) -> None:
        self.context.close()
        assert self.foreign == [], f"the page asked other hosts: {self.foreign}"
        assert self.errors == [], f"script errors: {self.errors}"


@pytest.fixture
def view(browser: Any, api: Api) -> Iterator[View]:
    opened = View(browser, api)
    yield opened
    opened.close()


def affected_customers(viewer: httpx.Client, lot: str) -> set[str]:
    body = viewer.get(f"/lots/{lot}/affected").json()
    return {c["uid"] for region in body["regions"] for c in region["customers"]}


def test_the_demo_bad_lot_drawn_listed_explained_and_exported(view: View, viewer: httpx.Client) -> None:
    expected = affected_customers(viewer, "L-4471")
    page = viewer.get("/scope/forward", params={"label": "MaterialLot", "uid": "L-4471"}).json()
    assert len(expected) >= 3

    view.choose("L-4471")
    assert view.page.is_disabled("#run-backward") is False  # a lot can be traced both ways
    view.run("forward")
    nodes = view.drawn()
    assert {n["uid"] for n in nodes if n["kind"] == "Customer"} == expected
    assert {n["id"] for n in nodes} == {f"{n['label']}:{n['uid']}" for n in page["nodes"]} | {
        "MaterialLot:L-4471"
    }
    source = view.page.evaluate("() => window.lineageView.cy.nodes('.source').map(n => n.id())")
    assert source == ["MaterialLot:L-4471"]
    quantities = {(e["source"], e["target"]): e["qty"] for e in view.drawn("edge")}
    assert quantities[("MaterialLot:L-4471", "Batch:B-1001")] == "200 kg"
    rows = view.listed()
    assert {r[1] for r in rows if r[0] == "Customer"} == expected
    assert len(rows) == page["total"]

    # A click on a customer explains it: the why-path drawn in the picture is the API's.
    view.click_node("Customer:C-RET-N1")
    view.page.wait_for_function("() => /^Why: /.test(document.querySelector('#details .why').textContent)")
    why = viewer.get("/why", params={"source": "MaterialLot:L-4471", "target": "Customer:C-RET-N1"}).json()
    lit = {n["id"] for n in view.drawn("node.why")}
    assert lit == {f"{n['label']}:{n['uid']}" for n in why["nodes"]}
    assert len(view.drawn("edge.why")) == len(why["edges"])
    assert why["description"] in view.page.text_content("#details .why")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    view.page.screenshot(path=str(SCREENSHOT))

    # Sorted by uid, descending, and exported as the list shows it.
    view.page.click('#list th[data-key="uid"]')
    view.page.click('#list th[data-key="uid"]')
    shown = view.listed()
    assert [r[1] for r in shown] == sorted((r[1] for r in shown), reverse=True)
    exported = list(csv.reader(io.StringIO(view.download("#export-csv").decode())))
    assert exported[0] == ["kind", "uid", "name", "depth", "region"]
    assert exported[1:] == shown


def test_kind_filters_hide_nodes_and_list_rows(view: View) -> None:
    view.choose("L-4471")
    view.run("forward")
    view.page.uncheck('#kinds input[data-kind="Sale"]')
    hidden = view.page.evaluate(
        "() => window.lineageView.cy.nodes('[kind = \"Sale\"]').filter(n => n.visible()).length"
    )
    assert hidden == 0
    assert view.listed() and all(r[0] != "Sale" for r in view.listed())


def test_a_complaint_traced_back_and_a_node_expanded(view: View, viewer: httpx.Client) -> None:
    view.choose("CP-02")
    assert view.page.is_disabled("#run-forward")
    view.run("backward")
    trace = viewer.get("/scope/backward", params={"label": "Complaint", "uid": "CP-02"}).json()
    assert {n["id"] for n in view.drawn()} == {f"{n['label']}:{n['uid']}" for n in trace["nodes"]} | {
        "Complaint:CP-02"
    }
    before = len(view.drawn())
    batch = next(n["uid"] for n in trace["nodes"] if n["label"] == "Batch")
    view.click_node(f"Batch:{batch}")
    view.page.click("text=Expand neighbours")
    view.page.wait_for_function(f"() => window.lineageView.cy.nodes().length > {before}")
    detail = viewer.get(f"/nodes/Batch/{batch}").json()
    drawn = {n["id"] for n in view.drawn()}
    assert {f"{n['label']}:{n['uid']}" for n in detail["neighbours"]} <= drawn


def test_a_machine_over_a_window_and_a_node_dragged(view: View, viewer: httpx.Client) -> None:
    window = {"from": "2026-03-02T11:00:00Z", "to": "2026-03-02T12:00:00Z"}
    expected = viewer.get("/scope/forward", params={"label": "Machine", "uid": "M-FILL3", **window}).json()
    whole = viewer.get("/scope/forward", params={"label": "Machine", "uid": "M-FILL3"}).json()
    assert expected["total"] < whole["total"]  # the window matters
    view.choose("M-FILL3")
    view.page.fill("#from", "2026-03-02T11:00:00")
    view.page.fill("#to", "2026-03-02T12:00:00")
    view.run("forward")
    drawn = {n["id"] for n in view.drawn()}
    assert drawn == {f"{n['label']}:{n['uid']}" for n in expected["nodes"]} | {"Machine:M-FILL3"}

    # Drag a node with the mouse: it moves, its relationships follow.
    node = next(n for n in sorted(drawn) if n.startswith("Batch:"))
    before = view.page.evaluate("id => window.lineageView.cy.getElementById(id).position()", node)
    box = view.page.locator("#graph").bounding_box()
    at = view.page.evaluate("id => window.lineageView.cy.getElementById(id).renderedPosition()", node)
    view.page.mouse.move(box["x"] + at["x"], box["y"] + at["y"])
    view.page.mouse.down()
    view.page.mouse.move(box["x"] + at["x"] + 80, box["y"] + at["y"] + 60, steps=8)
    view.page.mouse.up()
    after = view.page.evaluate("id => window.lineageView.cy.getElementById(id).position()", node)
    assert after["x"] > before["x"] and after["y"] > before["y"]


def test_picture_and_graph_exports(view: View) -> None:
    view.choose("L-4471")
    view.run("forward")
    drawn = {n["id"] for n in view.drawn()}
    assert view.download("#export-png")[:8] == b"\x89PNG\r\n\x1a\n"
    svg = ET.fromstring(view.download("#export-svg"))
    titles = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")}
    assert drawn <= titles
    graphml = nx.read_graphml(io.BytesIO(view.download("#export-graphml")))
    assert set(graphml.nodes) == drawn
    assert graphml.nodes["MaterialLot:L-4471"]["source"] is True
    gexf = nx.read_gexf(io.BytesIO(view.download("#export-gexf")))
    assert set(gexf.nodes) == drawn
    cyjs = nx.cytoscape_graph(json.loads(view.download("#export-cyjs")))
    assert set(cyjs.nodes) == drawn and cyjs.number_of_edges() == graphml.number_of_edges()


def test_without_a_key_the_page_asks_for_one(browser: Any, api: Api) -> None:
    view = View(browser, api, key=None)
    try:
        view.page.wait_for_selector("#key-box:not([hidden])")
        view.page.fill("#search", "L-44")
        view.page.wait_for_selector("#error:not([hidden])")
        assert re.search("key", view.page.text_content("#error") or "", re.I)
        view.page.fill("#key", KEYS["viewer"])
        view.page.dispatch_event("#key", "change")
        view.choose("L-4471")
        view.run("forward")
        assert len(view.drawn()) > 10
    finally:
        view.close()


def test_a_complaint_taken_in_signalled_and_its_suspects_drawn(
    browser: Any, api: Api, viewer: httpx.Client
) -> None:
    view = View(browser, api, key=KEYS["editor"])
    try:
        page = view.page
        page.click("#complaints summary")
        page.wait_for_selector("#signals li")
        page.select_option("#intake select[name=channel]", "web")
        page.fill("#intake input[name=category]", "illness")
        page.fill("#intake input[name=batch]", "B-2001")
        page.fill("#intake input[name=customer]", "C-RET-N1")
        page.fill("#intake input[name=received_at]", "2026-03-09T08:00:00")
        page.fill("#intake textarea[name=description]", "stomach ache after eating")
        page.click("#intake-send")
        page.wait_for_function("() => document.getElementById('intake-result').dataset.uid")
        uid = page.get_attribute("#intake-result", "data-uid")
        stored = viewer.get(f"/nodes/Complaint/{uid}").json()["properties"]
        assert (stored["category"], stored["batch_code"], stored["received_at"]) == (
            "illness",
            "B-2001",
            "2026-03-09T08:00:00Z",
        )
        assert "verified" in page.text_content("#intake-result") and "safety" in page.text_content(
            "#intake-result"
        )
        # "Any safety complaint" (the default rules, level 3) raised a signal, listed with its uid.
        signal = next(s for s in viewer.get("/signals").json() if s["complaints"] == [uid])
        page.wait_for_selector(f'#signals li.level-3[data-uid="{signal["uid"]}"]')

        page.fill("#analysis input[name=complaints]", f"CP-01 CP-02 {uid}")
        page.click("#analyse")
        page.wait_for_selector("#suspects li[data-id]")
        page.wait_for_function("() => /suspects/.test(document.getElementById('status').textContent)")
        expected = viewer.post("/analysis/common-cause", json={"complaints": ["CP-01", "CP-02", uid]}).json()
        top = [f"{s['label']}:{s['uid']}" for s in expected["suspects"][:10]]
        listed = page.eval_on_selector_all("#suspects li[data-id]", "items => items.map(i => i.dataset.id)")
        assert listed == top
        # Every upstream suspect is drawn, ringed and numbered by its rank; the complaint batches are the sources.
        ringed = {d["id"]: d["rank"] for d in view.drawn("node.suspect")}
        upstream = {f"{s['label']}:{s['uid']}" for s in expected["suspects"][:10] if s["basis"] == "batches"}
        assert set(ringed) == upstream and all(top[rank - 1] == id_ for id_, rank in ringed.items())
        assert {d["uid"] for d in view.drawn("node.source")} == set(expected["complaint_batches"])

        page.click(f'#signals li[data-uid="{signal["uid"]}"] button')
        page.wait_for_function("() => /^1 complaint/.test(document.getElementById('status').textContent)")
        assert {d["uid"] for d in view.drawn("node.source")} == {"B-2001"}
    finally:
        view.close()


@pytest.fixture(scope="module")
def spread(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A distribution network whose supplier reaches some 2,500 nodes: past the grouping threshold."""
    from lineage.samples.shapes import generate_distribution

    data = tmp_path_factory.mktemp("spread") / "data"
    generate_distribution(data, 3000, seed=5)
    with serve(data=data) as running:
        yield running


def test_a_big_scope_opens_in_groups_that_expand(browser: Any, spread: Api) -> None:
    view = View(browser, spread)
    try:
        with spread.client() as client:
            regions = {
                n["properties"]["region"]
                for page in _pages(client, "/scope/forward", label="Supplier", uid="DS0")
                for n in page["nodes"]
                if n["label"] == "Customer"
            }
            total = client.get("/scope/forward", params={"label": "Supplier", "uid": "DS0"}).json()["total"]
        view.choose("DS0")
        view.run("forward")
        assert total > 1000
        groups = view.drawn("node.cluster")
        customers = [g for g in groups if g["kind"] == "Customer"]
        assert {g["text"].split("\n")[1] for g in customers} == regions
        assert sum(g["count"] for g in groups) + len(view.drawn("node[^count]")) == total + 1
        assert len(view.drawn()) < total / 5
        assert len(view.listed()) == total  # the list holds every node, grouped or not
        group = max(customers, key=lambda g: g["count"])
        view.click_node(group["id"])
        view.page.click("text=Expand group")
        view.page.wait_for_function(f"() => !window.lineageView.cy.getElementById('{group['id']}').length")
        members = [n for n in view.drawn() if n["kind"] == "Customer" and "count" not in n]
        assert len(members) == group["count"]
        view.page.click(f'#list tr[data-id="{members[0]["id"]}"]')  # found by the list, as drawn far off
        view.page.click("text=Collapse group")
        view.page.wait_for_function(
            f"() => window.lineageView.cy.getElementById('{group['id']}').length === 1"
        )
        assert not [n for n in view.drawn() if n["kind"] == "Customer" and "count" not in n]
    finally:
        view.close()


def _pages(client: httpx.Client, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = client.get(
            path, params={**params, "limit": 10000, **({"cursor": cursor} if cursor else {})}
        ).json()
        yield page
        cursor = page["next_cursor"]
        if cursor is None:
            return


def test_a_recall_opened_activated_and_followed_in_the_view(
    browser: Any, api: Api, viewer: httpx.Client
) -> None:
    """A coordinator opens a recall of the chosen lot, activates it, sees its holds (the lot's own
    among them) and progress as the API gives them, and draws its scope."""
    view = View(browser, api, key=KEYS["editor"])
    try:
        view.choose("L-4471")
        view.page.click("#recalls summary")
        form = "#recall-new"
        view.page.fill(f"{form} [name=reason]", "retained sample positive for Salmonella")
        view.page.fill(f"{form} [name=risk]", "May make you ill: do not eat it.")
        view.page.fill(f"{form} [name=owner]", "QA Anna Berg")
        ahead = datetime.now(UTC) + timedelta(days=90)  # a deadline already past is refused
        view.page.fill(f"{form} [name=deadline]", f"{ahead.date()}T12:00:00")
        before = len(viewer.get("/recalls").json())
        view.page.click("#recall-open")  # who opens it is missing: the form is not sent
        assert view.page.eval_on_selector(f"{form} [name=by]", "e => e.validity.valueMissing")
        assert len(viewer.get("/recalls").json()) == before
        view.page.fill(f"{form} [name=by]", "Anna")
        view.page.click("#recall-open")
        view.page.wait_for_function("() => document.querySelector('#recall').dataset.state === 'draft'")
        uid = view.page.get_attribute("#recall", "data-uid")
        assert uid and view.page.is_visible(f'#recall-list li[data-uid="{uid}"]')
        assert view.page.text_content("#recall h3").startswith(f"{uid}: draft")

        view.page.click("#recall button:has-text('Activate')")
        view.page.wait_for_function("() => document.querySelector('#recall').dataset.state === 'active'")
        holds = viewer.get(f"/recalls/{uid}/holds").json()
        shown = view.page.eval_on_selector_all("#recall-holds li", "items => items.map(i => i.textContent)")
        assert len(shown) == len(holds) and any(
            text.startswith("lot L-4471 at Hamar: 780 kg") for text in shown
        )
        assert {h["batch"] for h in holds if h["batch"]} <= {
            t.split()[1] for t in shown if t.startswith("batch")
        }
        overall = viewer.get(f"/recalls/{uid}/effectiveness").json()["overall"]
        progress = f"0 of {overall['customers']} customer(s) notified"
        assert progress in view.page.text_content("#recall dl")
        assert "active" in view.page.get_attribute(f'#recall-list li[data-uid="{uid}"]', "class")

        view.page.click("#recall button:has-text('Draw its scope')")
        view.page.wait_for_function(
            "() => /relationships/.test(document.getElementById('status').textContent)"
        )
        drawn = {n["uid"] for n in view.drawn() if n["kind"] == "Customer"}
        assert drawn == affected_customers(viewer, "L-4471")
    finally:
        view.close()


def test_with_no_keys_the_view_writes_from_its_own_origin_and_a_foreign_page_cannot(
    browser: Any, tmp_path: Path
) -> None:
    """Chromium sends the Origin itself: the view's own write passes, a form posted by a page of
    another origin (a "simple" request, no preflight) is refused and leaves nothing behind."""
    record = '{"kind":"Supplier","uid":"%s","name":"from a page"}\n'
    post = """async ([url, body]) => {
        const form = new FormData();
        form.append('files', new Blob([body], {type: 'application/x-ndjson'}), 'a.jsonl');
        const answer = await fetch(url + '/ingest', {method: 'POST', body: form, mode: 'no-cors'});
        return answer.type === 'opaque' ? 'opaque' : answer.status;
    }"""
    with serve(keys=False) as open_api:
        view = View(browser, open_api, key=None)
        try:
            assert view.page.evaluate(post, [open_api.url, record % "SUP-FROM-VIEW"]) == 200
        finally:
            view.close()

        # Another site on this machine (a dev server, a local app), served for real: Chromium does
        # not block its requests to loopback as it does a public site's, so the API's check is what
        # stops it.
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
        (tmp_path / "index.html").write_text("<p>cats</p>")
        site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=site.serve_forever, daemon=True).start()
        attacker = browser.new_context()
        try:
            page = attacker.new_page()
            page.goto(f"http://localhost:{site.server_address[1]}/")
            assert page.evaluate(post, [open_api.url, record % "SUP-FROM-EVIL"]) == "opaque"
        finally:
            attacker.close()
            site.shutdown()
            site.server_close()
        with httpx.Client(base_url=open_api.url, timeout=30) as client:
            assert client.get("/nodes/Supplier/SUP-FROM-VIEW").status_code == 200
            assert client.get("/nodes/Supplier/SUP-FROM-EVIL").status_code == 404
            log = (open_api.data_dir / "api.log").read_text()
        assert re.search(r'"POST /ingest HTTP/1.1" 403', log), log[-2000:]


def test_an_overdue_recall_says_so_in_the_view(browser: Any, api: Api) -> None:
    """A recall whose deadline has passed (recorded afterwards, with force) shows OVERDUE and how
    many customers are not done, as effectiveness counts them."""
    with httpx.Client(base_url=api.url, headers={"X-API-Key": KEYS["editor"]}, timeout=60) as editor:
        body = {"source": "MaterialLot:L-4472", "reason": "late record", "risk": "may make you ill",
                "owner": "QA", "deadline": "2026-03-20T12:00:00Z", "force": True, "by": "Anna"}  # fmt: skip
        made = editor.post("/recalls", json=body)
        assert made.status_code == 201, made.text
        uid = made.json()["uid"]
        assert editor.post(f"/recalls/{uid}/activate", json={"by": "Anna"}).status_code == 200
        late = sum(c["overdue"] for c in editor.get(f"/recalls/{uid}/effectiveness").json()["customers"])
    assert late > 0
    view = View(browser, api, key=KEYS["viewer"])
    try:
        view.page.click("#recalls summary")
        view.page.click(f'#recall-list li[data-uid="{uid}"] button:has-text("Open")')
        view.page.wait_for_function(f"() => document.querySelector('#recall').dataset.uid === '{uid}'")
        view.page.wait_for_function("() => /OVERDUE/.test(document.querySelector('#recall dl').textContent)")
        assert f"2026-03-20T12:00:00Z: OVERDUE, {late} customer(s) not done" in view.page.text_content(
            "#recall dl"
        )
    finally:
        view.close()
