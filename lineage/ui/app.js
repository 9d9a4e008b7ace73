// The investigation view: search a node, draw its forward scope or backward trace, explain a node.
// It calls the public API only (the same routes any client uses) and loads nothing from elsewhere.
"use strict";

const FORWARD = ["MaterialLot", "Batch", "Supplier", "Machine", "Operator"];
const BACKWARD = ["Complaint", "Sale", "Shipment", "Customer", "Batch", "MaterialLot"];
const WINDOWED = ["Machine", "Operator"];
const PAGE = 10000; // nodes per request (the API's largest page)
const MOST = 50000; // nodes drawn at most; past it the list says the scope was cut
const CLUSTER_ABOVE = 300; // as lineage/interchange/render.py: group customers, shipments and sales by region
const GROUPED = ["Customer", "Shipment", "Sale"];

const $ = (id) => document.getElementById(id);
const state = {
  key: sessionStorage.getItem("lineage-key") || "",
  kinds: {}, // kind -> {color, shape, title}
  chosen: null, // {label, uid, name}
  scope: null, // {direction, source, window, nodes: Map(id -> node), edges: Map(id -> edge), truncated}
  groups: new Map(), // group id -> {kind, region, members: [node ids], expanded}
  groupOf: new Map(), // node id -> group id
  extra: new Map(), // node id -> neighbours added by "Expand neighbours", outside the scope
  sort: { key: "depth", asc: true },
  cy: null,
};
const idOf = (label, uid) => `${label}:${uid}`;
// A datetime-local input's value, read as UTC (as the API's times are), in ISO-8601.
const asIso = (value) => (value ? `${value}${value.length === 16 ? ":00" : ""}Z` : undefined);

// --- the API ---------------------------------------------------------------------------------

class Problem extends Error {}

async function api(path, params = {}, accept = "application/json", body = undefined) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of [].concat(value)) url.searchParams.append(name, one);
  }
  const headers = { Accept: accept };
  if (state.key) headers["X-API-Key"] = state.key;
  const init = { headers };
  if (body !== undefined) {
    init.method = "POST";
    init.body = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, init);
  if (response.status === 401 || response.status === 403) {
    $("key-box").hidden = false;
    $("key").focus();
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      detail = body.detail || body.title || detail;
    } catch (e) { /* not a problem document */ }
    throw new Problem(detail);
  }
  return response;
}

const json = async (path, params) => (await api(path, params)).json();
const posted = async (path, body) => (await api(path, {}, "application/json", body)).json();

function showError(error) {
  $("error").hidden = false;
  $("error").textContent = error instanceof Problem ? error.message : `Unexpected error: ${error}`;
  if (!(error instanceof Problem)) console.error(error);
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function setStatus(text) {
  $("status").textContent = text;
}

// --- search ----------------------------------------------------------------------------------

let searchTimer = null;

function onSearchInput() {
  clearTimeout(searchTimer);
  const q = $("search").value.trim();
  if (!q) {
    $("hits").hidden = true;
    return;
  }
  searchTimer = setTimeout(() => search(q), 180);
}

async function search(q) {
  try {
    const hits = await json("/search", { q, limit: 20 });
    if ($("search").value.trim() !== q) return; // typed on meanwhile
    const list = $("hits");
    list.replaceChildren();
    for (const hit of hits) {
      const item = document.createElement("li");
      item.setAttribute("role", "option");
      item.dataset.label = hit.label;
      item.dataset.uid = hit.uid;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = hit.label;
      item.append(kind, `${hit.uid}${hit.name && hit.name !== hit.uid ? ` (${hit.name})` : ""}`);
      item.addEventListener("click", () => choose(hit));
      list.append(item);
    }
    if (!hits.length) {
      const none = document.createElement("li");
      none.textContent = `nothing matches "${q}"`;
      list.append(none);
    }
    list.hidden = false;
    clearError();
  } catch (error) {
    showError(error);
  }
}

function choose(hit) {
  state.chosen = hit;
  $("hits").hidden = true;
  $("search").value = hit.uid;
  $("chosen").textContent = `${hit.label} ${hit.uid}${hit.name && hit.name !== hit.uid ? ` (${hit.name})` : ""}`;
  $("run-forward").disabled = !FORWARD.includes(hit.label);
  $("recall-open").disabled = !FORWARD.includes(hit.label);
  $("run-backward").disabled = !BACKWARD.includes(hit.label);
  $("window-box").hidden = !WINDOWED.includes(hit.label);
}

// --- the scope -------------------------------------------------------------------------------

function windowParams() {
  if (!state.chosen || !WINDOWED.includes(state.chosen.label)) return {};
  return { from: asIso($("from").value), to: asIso($("to").value) };
}

async function run(direction) {
  const source = state.chosen;
  if (!source) return;
  clearError();
  const started = performance.now();
  setStatus(`${direction === "forward" ? "Scoping" : "Tracing"} ${source.label} ${source.uid}...`);
  try {
    const params = { label: source.label, uid: source.uid, limit: PAGE, ...windowParams() };
    const nodes = new Map();
    const edges = new Map();
    const sourceId = idOf(source.label, source.uid);
    nodes.set(sourceId, { id: sourceId, label: source.label, uid: source.uid, depth: 0, properties: {}, source: true });
    const { cursor, total } = await fetchScope(direction, params, nodes, edges);
    const detail = await json(`/nodes/${encodeURIComponent(source.label)}/${encodeURIComponent(source.uid)}`, { limit: 1 });
    nodes.get(sourceId).properties = detail.properties;
    state.scope = { direction, source, window: windowParams(), nodes, edges, truncated: Boolean(cursor), total };
    group();
    draw();
    list();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    setStatus(`${nodes.size - 1} nodes${cursor ? ` (cut at ${MOST} of ${total})` : ""}, ${edges.size} relationships, ${seconds} s`);
    for (const id of ["fit", "export-png", "export-svg", "export-graphml", "export-gexf", "export-cyjs", "export-csv"]) {
      $(id).disabled = false;
    }
  } catch (error) {
    setStatus("");
    showError(error);
  }
}

// Pages of a scope into ``nodes`` and ``edges`` (a node already there keeps the smaller depth).
async function fetchScope(direction, params, nodes, edges) {
  let cursor = null;
  let total = 0;
  do {
    const page = await json(`/scope/${direction}`, { ...params, cursor });
    total = page.total;
    for (const node of page.nodes) {
      const id = idOf(node.label, node.uid);
      const known = nodes.get(id);
      if (!known || known.depth > node.depth) {
        nodes.set(id, { id, label: node.label, uid: node.uid, depth: node.depth, properties: node.properties, source: known ? known.source : undefined });
      }
      for (const via of node.via) {
        const near = idOf(via.label, via.uid);
        const [from, to] = via.direction === "out" ? [near, id] : [id, near];
        const edgeId = `${from}->${to}:${via.type}`;
        edges.set(edgeId, { id: edgeId, source: from, target: to, type: via.type, quantity: via.quantity, unit: via.unit });
      }
    }
    cursor = page.next_cursor;
    setStatus(`${nodes.size - 1} of ${total} nodes...`);
  } while (cursor && nodes.size <= MOST);
  return { cursor, total };
}

function regionOf(nodes, edges) {
  // customers by their region; shipments by the region they were delivered to; sales by their seller's
  const region = new Map();
  for (const node of nodes.values()) {
    if (node.label === "Customer") region.set(node.id, node.properties.region || "unknown");
  }
  const found = new Map(region);
  for (const edge of edges.values()) {
    if (edge.type === "DELIVERED_TO") found.set(edge.source, region.get(edge.target) || "unknown");
    if (edge.type === "SOLD") found.set(edge.target, region.get(edge.source) || "unknown");
  }
  return found;
}

function group() {
  const { nodes, edges } = state.scope;
  state.groups = new Map();
  state.groupOf = new Map();
  if (nodes.size <= CLUSTER_ABOVE) return;
  const regions = regionOf(nodes, edges);
  for (const node of nodes.values()) {
    if (!GROUPED.includes(node.label) || node.source) continue;
    const region = regions.get(node.id) || "unknown";
    const id = `group:${node.label}:${region}`;
    if (!state.groups.has(id)) state.groups.set(id, { id, kind: node.label, region, members: [], expanded: false });
    state.groups.get(id).members.push(node.id);
    state.groupOf.set(node.id, id);
  }
}

// Where a node is drawn: itself, or its group while the group is collapsed.
function shownAs(id) {
  const groupId = state.groupOf.get(id);
  return groupId && !state.groups.get(groupId).expanded ? groupId : id;
}

function elements() {
  const { nodes, edges } = state.scope;
  const out = [];
  const kindOrder = Object.keys(state.kinds);
  const columns = new Map();
  const place = (element, depth) => {
    const column = depth >= 0 ? depth : 1000;
    if (!columns.has(column)) columns.set(column, []);
    columns.get(column).push(element);
  };
  for (const node of nodes.values()) {
    if (shownAs(node.id) !== node.id) continue;
    const name = node.properties.name && node.properties.name !== node.uid ? node.properties.name : "";
    const rank = state.scope.suspects ? state.scope.suspects.get(node.id) : undefined;
    const text = (rank ? `#${rank} ` : "") + (name ? `${node.uid}\n${name}` : node.uid);
    const element = {
      group: "nodes",
      data: { id: node.id, kind: node.label, uid: node.uid, text, depth: node.depth, rank },
      classes: [node.source ? "source" : "", rank ? "suspect" : ""].join(" ").trim(),
    };
    out.push(element);
    place(element, node.depth);
  }
  for (const g of state.groups.values()) {
    if (g.expanded) continue;
    const depth = Math.min(...g.members.map((id) => nodes.get(id).depth).filter((d) => d >= 0), 1000);
    const title = state.kinds[g.kind] ? state.kinds[g.kind].title : g.kind;
    const element = {
      group: "nodes",
      data: { id: g.id, kind: g.kind, text: `${g.members.length} ${title}\n${g.region}`, depth, count: g.members.length },
      classes: "cluster",
    };
    out.push(element);
    place(element, depth);
  }
  const merged = new Map();
  for (const edge of edges.values()) {
    const from = shownAs(edge.source);
    const to = shownAs(edge.target);
    if (from === to || !nodes.has(edge.source) || !nodes.has(edge.target)) continue;
    const id = `${from}->${to}:${edge.type}`;
    if (!merged.has(id)) merged.set(id, { id, source: from, target: to, type: edge.type, amounts: new Map(), count: 0 });
    const m = merged.get(id);
    m.count += 1;
    if (edge.quantity !== null && edge.quantity !== undefined) {
      m.amounts.set(edge.unit || "", (m.amounts.get(edge.unit || "") || 0) + edge.quantity);
    }
  }
  for (const m of merged.values()) {
    const qty = [...m.amounts].map(([unit, q]) => `${+q.toFixed(3)} ${unit}`.trim()).join(", ");
    out.push({ group: "edges", data: { id: m.id, source: m.source, target: m.target, type: m.type, qty, count: m.count } });
  }
  // Columns by depth, each sorted by kind then text and centred: a lineage reads left to right.
  for (const [column, members] of columns) {
    members.sort((a, b) => kindOrder.indexOf(a.data.kind) - kindOrder.indexOf(b.data.kind) || a.data.text.localeCompare(b.data.text));
    members.forEach((element, i) => {
      element.position = { x: (column === 1000 ? columns.size : column) * 260, y: (i - (members.length - 1) / 2) * 56 };
    });
  }
  return out;
}

function styles() {
  const big = state.scope.nodes.size > 2000;
  const small = state.scope.nodes.size <= CLUSTER_ABOVE; // every label drawn, whatever the zoom
  const sheet = [
    {
      selector: "node",
      style: {
        label: "data(text)", "text-wrap": "wrap", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3,
        width: 26, height: 26, "border-width": 1, "border-color": "#ffffff", "min-zoomed-font-size": small ? 0 : 7,
      },
    },
    {
      selector: "edge",
      style: {
        width: 1.2, "line-color": "#a7a7a7", "target-arrow-color": "#a7a7a7", "target-arrow-shape": "triangle",
        "curve-style": big ? "haystack" : "bezier", label: "data(qty)", "font-size": 8, color: "#555",
        "text-background-color": "#ffffff", "text-background-opacity": 0.8, "min-zoomed-font-size": small ? 0 : 9,
      },
    },
    { selector: "node.cluster", style: { width: "mapData(count, 1, 500, 34, 80)", height: "mapData(count, 1, 500, 34, 80)", "border-width": 3, "border-color": "#333", "border-style": "double" } },
    { selector: "node.source", style: { width: 40, height: 40, "border-width": 5, "border-color": "#d40000" } },
    { selector: "node.suspect", style: { width: 38, height: 38, "border-width": 6, "border-color": "#7b1fa2", "font-weight": "bold" } },
    { selector: "node.extra", style: { opacity: 0.75, "border-style": "dashed", "border-color": "#555", "border-width": 2 } },
    { selector: "node:selected", style: { "overlay-color": "#1f6feb", "overlay-opacity": 0.25, "overlay-padding": 6 } },
    { selector: "node.why", style: { "border-width": 5, "border-color": "#e0a800" } },
    { selector: "edge.why", style: { width: 5, "line-color": "#e0a800", "target-arrow-color": "#e0a800", "z-index": 10 } },
    { selector: ".faded", style: { opacity: 0.18 } },
  ];
  for (const [kind, look] of Object.entries(state.kinds)) {
    sheet.splice(1, 0, { selector: `node[kind = "${kind}"]`, style: { "background-color": look.color, shape: look.shape } });
  }
  return sheet;
}

function draw() {
  if (state.cy) state.cy.destroy();
  const big = state.scope.nodes.size > 2000;
  state.cy = cytoscape({
    container: $("graph"),
    elements: elements(),
    style: styles(),
    layout: { name: "preset", fit: true, padding: 30 },
    wheelSensitivity: 0.3,
    textureOnViewport: big,
    hideEdgesOnViewport: big,
    pixelRatio: big ? 1 : "auto",
  });
  state.cy.on("tap", "node", (event) => select(event.target.id()));
  state.cy.on("tap", (event) => {
    if (event.target === state.cy) clearWhy();
  });
  kindFilters();
}

function kindFilters() {
  const box = $("kinds");
  box.replaceChildren();
  const present = new Set([...state.scope.nodes.values()].map((n) => n.label));
  for (const [kind, look] of Object.entries(state.kinds)) {
    if (!present.has(kind)) continue;
    const label = document.createElement("label");
    const box2 = document.createElement("input");
    box2.type = "checkbox";
    box2.checked = true;
    box2.dataset.kind = kind;
    box2.addEventListener("change", () => {
      state.cy.nodes(`[kind = "${kind}"]`).style("display", box2.checked ? "element" : "none");
      list();
    });
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = look.color;
    label.append(box2, swatch, kind);
    box.append(label);
  }
}

function hiddenKinds() {
  return new Set([...$("kinds").querySelectorAll("input:not(:checked)")].map((b) => b.dataset.kind));
}

function regroup(keepViewport = true) {
  const zoom = state.cy.zoom();
  const pan = state.cy.pan();
  draw();
  if (keepViewport) {
    state.cy.zoom(zoom);
    state.cy.pan(pan);
  }
}

// --- details, why, neighbours ----------------------------------------------------------------

function addList(parent, entries) {
  const dl = document.createElement("dl");
  for (const [name, value] of entries) {
    if (value === null || value === undefined || value === "") continue;
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
    dl.append(dt, dd);
  }
  parent.append(dl);
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

async function select(id) {
  const details = $("details");
  details.replaceChildren();
  const heading = document.createElement("h2");
  details.append(heading);
  clearWhy();
  const g = state.groups.get(id);
  if (g) {
    heading.textContent = `${g.members.length} ${state.kinds[g.kind].title}, ${g.region}`;
    details.append(button("Expand group", () => {
      g.expanded = true;
      regroup();
    }));
    const members = g.members.map((m) => state.scope.nodes.get(m).uid).sort();
    addList(details, [["members", members.slice(0, 200).join(", ") + (members.length > 200 ? ", ..." : "")]]);
    return;
  }
  const node = state.scope.nodes.get(id) || state.extra.get(id);
  if (!node) return;
  heading.textContent = `${node.label} ${node.uid}`;
  markRow(id);
  const tools = document.createElement("p");
  tools.append(button("Expand neighbours", () => expand(node)));
  const groupId = state.groupOf.get(id);
  if (groupId) tools.append(" ", button("Collapse group", () => {
    state.groups.get(groupId).expanded = false;
    regroup();
  }));
  details.append(tools);
  addList(details, [["depth", node.depth >= 0 ? node.depth : "no path"], ...Object.entries(node.properties || {})]);
  if (node.source || !state.scope.nodes.has(id)) return;
  const why = document.createElement("div");
  why.className = "why";
  why.textContent = "Why is it here? ...";
  details.append(why);
  try {
    const { source, direction } = state.scope;
    const [from, to] = direction === "forward" ? [source, node] : [node, source];
    const path = await json("/why", { source: idOf(from.label, from.uid), target: idOf(to.label, to.uid), ...state.scope.window });
    why.textContent = `Why: ${path.description}`;
    highlight(path);
  } catch (error) {
    why.textContent = `Why: ${error.message}`;
  }
}

function highlight(path) {
  const cy = state.cy;
  const shown = path.nodes.map((n) => shownAs(idOf(n.label, n.uid)));
  cy.elements().addClass("faded");
  for (const id of shown) cy.getElementById(id).removeClass("faded").addClass("why");
  for (const edge of path.edges) {
    const from = shownAs(idOf(edge.source.label, edge.source.uid));
    const to = shownAs(idOf(edge.target.label, edge.target.uid));
    cy.getElementById(`${from}->${to}:${edge.type}`).removeClass("faded").addClass("why");
  }
}

function clearWhy() {
  if (state.cy) state.cy.elements().removeClass("why faded");
}

async function expand(node) {
  try {
    const detail = await json(`/nodes/${encodeURIComponent(node.label)}/${encodeURIComponent(node.uid)}`, { limit: 100 });
    const cy = state.cy;
    const at = cy.getElementById(shownAs(node.id)).position();
    const added = [];
    detail.neighbours.forEach((n, i) => {
      const id = idOf(n.label, n.uid);
      const drawnAs = state.scope.nodes.has(id) ? shownAs(id) : id;
      if (!cy.getElementById(drawnAs).length) {
        state.extra.set(id, { id, label: n.label, uid: n.uid, depth: -1, properties: { name: n.name } });
        const angle = (2 * Math.PI * i) / detail.neighbours.length;
        added.push({
          group: "nodes",
          data: { id, kind: n.label, uid: n.uid, text: n.name && n.name !== n.uid ? `${n.uid}\n${n.name}` : n.uid },
          classes: "extra",
          position: { x: at.x + 140 * Math.cos(angle), y: at.y + 140 * Math.sin(angle) },
        });
      }
      const [from, to] = n.direction === "out" ? [shownAs(node.id), drawnAs] : [drawnAs, shownAs(node.id)];
      const edgeId = `${from}->${to}:${n.type}`;
      if (!cy.getElementById(edgeId).length) {
        const q = n.properties.quantity;
        added.push({ group: "edges", data: { id: edgeId, source: from, target: to, type: n.type, qty: q === undefined ? "" : `${q} ${n.properties.unit || ""}`.trim() } });
      }
    });
    cy.add(added);
    setStatus(`${detail.neighbours.length} neighbours of ${node.uid}${detail.truncated ? " (first 100)" : ""}`);
  } catch (error) {
    showError(error);
  }
}

// --- the list --------------------------------------------------------------------------------

function rows() {
  const hidden = hiddenKinds();
  const { key, asc } = state.sort;
  const out = [...state.scope.nodes.values()]
    .filter((n) => !n.source && !hidden.has(n.label))
    .map((n) => ({ id: n.id, kind: n.label, uid: n.uid, name: n.properties.name || "", depth: n.depth, region: n.properties.region || "" }));
  out.sort((a, b) => {
    const x = a[key];
    const y = b[key];
    const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return (asc ? order : -order) || a.uid.localeCompare(b.uid);
  });
  return out;
}

function list() {
  const body = $("list").querySelector("tbody");
  body.replaceChildren();
  const all = rows();
  $("count").textContent = `(${all.length}${state.scope.truncated ? ` of ${state.scope.total}` : ""})`;
  const fragment = document.createDocumentFragment();
  const SHOWN = 5000; // rows in the page at most: more only slows it; the CSV holds them all
  for (const row of all.slice(0, SHOWN)) {
    const tr = document.createElement("tr");
    tr.dataset.id = row.id;
    for (const name of ["kind", "uid", "name", "depth", "region"]) {
      const td = document.createElement("td");
      td.textContent = row[name];
      tr.append(td);
    }
    tr.addEventListener("click", () => {
      const drawn = state.cy.getElementById(shownAs(row.id));
      state.cy.elements().unselect();
      drawn.select();
      state.cy.animate({ center: { eles: drawn } }, { duration: 200 });
      select(row.id);
    });
    fragment.append(tr);
  }
  if (all.length > SHOWN) {
    const more = document.createElement("tr");
    more.className = "more";
    const td = document.createElement("td");
    td.colSpan = 5;
    td.textContent = `... and ${all.length - SHOWN} more: sort, hide kinds, or export them all as CSV`;
    more.append(td);
    fragment.append(more);
  }
  body.append(fragment);
  for (const th of $("list").querySelectorAll("th")) {
    th.classList.toggle("sorted-asc", th.dataset.key === state.sort.key && state.sort.asc);
    th.classList.toggle("sorted-desc", th.dataset.key === state.sort.key && !state.sort.asc);
  }
}

function markRow(id) {
  for (const tr of $("list").querySelectorAll("tr.selected")) tr.classList.remove("selected");
  const row = $("list").querySelector(`tr[data-id="${CSS.escape(id)}"]`);
  if (row) {
    row.classList.add("selected");
    row.scrollIntoView({ block: "nearest" });
  }
}

// --- exports ---------------------------------------------------------------------------------

function download(name, blob) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function baseName() {
  const { direction, source } = state.scope;
  return `${direction}-${source.label}-${source.uid}`.replace(/[^A-Za-z0-9._-]/g, "_");
}

function csvField(value) {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function exportCsv() {
  const names = ["kind", "uid", "name", "depth", "region"];
  const lines = [names.join(",")].concat(rows().map((row) => names.map((n) => csvField(row[n])).join(",")));
  download(`${baseName()}.csv`, new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
}

function exportPng() {
  download(`${baseName()}.png`, state.cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff" }));
}

function xml(text) {
  return String(text).replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
}

function shapePath(shape, x, y, r) {
  const polygon = (n, turn = -Math.PI / 2) =>
    Array.from({ length: n }, (_, i) => `${x + r * Math.cos(turn + (2 * Math.PI * i) / n)},${y + r * Math.sin(turn + (2 * Math.PI * i) / n)}`).join(" ");
  switch (shape) {
    case "rectangle": case "round-rectangle": case "tag":
      return `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" rx="${shape === "round-rectangle" ? r / 3 : 0}"`;
    case "diamond": return `<polygon points="${polygon(4)}"`;
    case "triangle": return `<polygon points="${polygon(3)}"`;
    case "vee": return `<polygon points="${polygon(3, Math.PI / 2)}"`;
    case "hexagon": return `<polygon points="${polygon(6, 0)}"`;
    case "octagon": return `<polygon points="${polygon(8, Math.PI / 8)}"`;
    case "star": return `<polygon points="${Array.from({ length: 10 }, (_, i) => {
      const radius = i % 2 ? r / 2.2 : r;
      const angle = -Math.PI / 2 + (Math.PI * i) / 5;
      return `${x + radius * Math.cos(angle)},${y + radius * Math.sin(angle)}`;
    }).join(" ")}"`;
    default: return `<circle cx="${x}" cy="${y}" r="${r}"`;
  }
}

// The picture as SVG, from the positions and looks on screen (what was dragged stays where it is).
function exportSvg() {
  const cy = state.cy;
  const shown = cy.elements().filter((e) => e.visible());
  const box = shown.boundingBox();
  const pad = 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${box.x1 - pad} ${box.y1 - pad} ${box.w + 2 * pad} ${box.h + 2 * pad}" font-family="sans-serif">`,
    `<rect x="${box.x1 - pad}" y="${box.y1 - pad}" width="${box.w + 2 * pad}" height="${box.h + 2 * pad}" fill="#ffffff"/>`,
  ];
  for (const edge of shown.edges()) {
    const [a, b] = [edge.source().position(), edge.target().position()];
    const why = edge.hasClass("why");
    parts.push(`<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="${why ? "#e0a800" : "#a7a7a7"}" stroke-width="${why ? 4 : 1.2}"><title>${xml(edge.data("type"))}</title></line>`);
    if (edge.data("qty")) parts.push(`<text x="${(a.x + b.x) / 2}" y="${(a.y + b.y) / 2 - 3}" font-size="8" fill="#555" text-anchor="middle">${xml(edge.data("qty"))}</text>`);
  }
  for (const node of shown.nodes()) {
    const { x, y } = node.position();
    const look = state.kinds[node.data("kind")] || { color: "#999", shape: "ellipse" };
    const r = node.width() / 2;
    const stroke = node.hasClass("source") ? ` stroke="#d40000" stroke-width="5"` : node.hasClass("why") ? ` stroke="#e0a800" stroke-width="4"` : ` stroke="#ffffff"`;
    parts.push(`<g><title>${xml(node.id())}</title>${shapePath(look.shape, x, y, r)} fill="${look.color}"${stroke}/></g>`);
    String(node.data("text")).split("\n").forEach((line, i) => {
      parts.push(`<text x="${x}" y="${y + r + 11 + 11 * i}" font-size="10" text-anchor="middle">${xml(line)}</text>`);
    });
  }
  parts.push("</svg>");
  download(`${baseName()}.svg`, new Blob([parts.join("\n")], { type: "image/svg+xml" }));
}

async function exportGraph(format) {
  try {
    const { direction, source, window } = state.scope;
    const response = await api(`/scope/${direction}/export`, { label: source.label, uid: source.uid, format, ...window });
    const suffix = format === "cyjs" ? "cyjs.json" : format;
    download(`${baseName()}.${suffix}`, await response.blob());
  } catch (error) {
    showError(error);
  }
}

// --- start -----------------------------------------------------------------------------------

// --- complaints, signals and suspects ------------------------------------------------------------

async function takeIn(event) {
  event.preventDefault();
  clearError();
  const body = {};
  for (const [name, value] of new FormData($("intake"))) if (value.trim() !== "") body[name] = value.trim();
  if (body.received_at) body.received_at = asIso(body.received_at);
  try {
    const done = await posted("/complaints", body);
    const result = $("intake-result");
    result.className = done.verification;
    result.dataset.uid = done.uid;
    const reasons = done.reasons.length ? ` (${done.reasons.join("; ")})` : "";
    const signals = done.signals.length ? `; signals: ${done.signals.join(", ")}` : "";
    result.textContent = `${done.uid}: ${done.verification}${reasons}${done.safety ? "; safety" : ""}${signals}`;
    const uids = $("analysis").elements.complaints;
    uids.value = `${uids.value} ${done.uid}`.trim();
    await loadSignals();
  } catch (error) {
    showError(error);
  }
}

async function loadSignals() {
  const list = $("signals");
  try {
    const signals = await json("/signals");
    list.replaceChildren();
    for (const s of signals) {
      const item = document.createElement("li");
      item.className = `level-${s.level}`;
      item.dataset.uid = s.uid;
      item.textContent = `level ${s.level}, ${s.status}: ${s.title}: ${s.group}, ${s.complaints.length} complaint(s) since ${s.raised_at} `;
      item.append(button("Suspects", () => analyse({ signal: s.uid })));
      list.append(item);
    }
    if (!signals.length) list.append(Object.assign(document.createElement("li"), { textContent: "no open signals" }));
  } catch (error) {
    showError(error);
  }
}

// Rank what the complaints have in common, list it, and draw the complaint batches' backward
// traces together with the suspects ringed and numbered.
async function analyse(choice) {
  clearError();
  setStatus("Looking for what the complaints have in common...");
  try {
    const result = await posted("/analysis/common-cause", choice);
    listSuspects(result);
    const nodes = new Map();
    const edges = new Map();
    const batches = result.complaint_batches.slice(0, 30);
    for (const uid of batches) {
      const id = idOf("Batch", uid);
      nodes.set(id, { id, label: "Batch", uid, depth: 0, properties: {}, source: true });
    }
    for (const uid of batches) await fetchScope("backward", { label: "Batch", uid, limit: PAGE }, nodes, edges);
    const suspects = new Map();
    for (const s of result.suspects.slice(0, 10)) suspects.set(idOf(s.label, s.uid), result.suspects.indexOf(s) + 1);
    const source = { label: "Batch", uid: batches[0] };
    state.scope = { direction: "backward", source, window: {}, nodes, edges, truncated: false, total: nodes.size, suspects };
    group();
    draw();
    list();
    setStatus(`${result.complaints.length} complaint(s), ${result.complaint_batches.length} complaint batch(es), ${result.suspects.length} suspects, ${edges.size} relationships`);
  } catch (error) {
    setStatus("");
    showError(error);
  }
}

function listSuspects(result) {
  const list = $("suspects");
  list.replaceChildren();
  for (const s of result.suspects.slice(0, 10)) {
    const item = document.createElement("li");
    item.dataset.id = idOf(s.label, s.uid);
    if (s.explains_first) item.className = "first";
    const window = s.window ? ` ${s.window.from} .. ${s.window.to}` : "";
    const what = s.basis === "batches" ? "complaint batches" : "complaint routes";
    item.textContent = `${s.label} ${s.uid}${s.name ? ` (${s.name})` : ""}, ${s.category}: ${s.hits} ${what}, support ${Math.round(s.support * 100)}% against ${Math.round(s.share * 100)}%, score ${s.score}${window}`;
    item.addEventListener("click", () => {
      if (state.scope && state.scope.nodes.has(item.dataset.id)) select(item.dataset.id);
    });
    list.append(item);
  }
  for (const note of result.notes) list.append(Object.assign(document.createElement("li"), { textContent: `note: ${note}`, className: "note" }));
}

// --- recalls and holds -----------------------------------------------------------------------

const path = (...parts) => parts.map(encodeURIComponent).join("/");

async function loadRecalls() {
  const list = $("recall-list");
  try {
    const found = await json("/recalls");
    list.replaceChildren();
    for (const r of found) {
      const item = document.createElement("li");
      item.dataset.uid = r.uid;
      item.className = `state-${r.state}`;
      item.textContent = `${r.uid}, ${r.state}, ${r.level}: ${r.source} (${r.reason}) `;
      item.append(button("Open", () => showRecall(r.uid)));
      list.append(item);
    }
    if (!found.length) list.append(Object.assign(document.createElement("li"), { textContent: "no recalls yet" }));
  } catch (error) {
    showError(error);
  }
}

function amounts(figures) {
  const notified = `${figures.notified} of ${figures.customers} customer(s) notified`;
  const parts = figures.amounts.map((a) => {
    const share = a.completion === null ? "" : ` (${Math.round(a.completion * 100)}%)`;
    return `${a.accounted} of ${a.affected} ${a.unit} accounted for${share}`;
  });
  return [notified, ...parts].join("; ");
}

// A recall as a coordinator follows it: what, how far customers have acted, what is on hold;
// its scope drawn on demand, and a draft activated.
async function showRecall(uid) {
  clearError();
  try {
    const [recall, figures, held] = await Promise.all([
      json(`/recalls/${path(uid)}`),
      json(`/recalls/${path(uid)}/effectiveness`),
      json(`/recalls/${path(uid)}/holds`),
    ]);
    const box = $("recall");
    box.replaceChildren();
    box.dataset.uid = uid;
    box.dataset.state = recall.state;
    const title = document.createElement("h3");
    title.textContent = `${recall.uid}: ${recall.state}, ${recall.level} level, ${recall.strategy}`;
    box.append(title);
    const source = `${recall.source.label} ${recall.source.uid}`;
    const window = recall.window ? `${recall.window.from || ""} .. ${recall.window.to || ""}` : "";
    addList(box, [
      ["source", window ? `${source}, ${window}` : source],
      ["product", recall.product],
      ["risk", recall.risk],
      ["customers are to", recall.instructions],
      ["owner", recall.owner],
      ["deadline", figures.overdue
        ? `${recall.deadline}: OVERDUE, ${figures.customers.filter((c) => c.overdue).length} customer(s) not done`
        : recall.deadline],
      ["progress", amounts(figures.overall)],
    ]);
    const pending = recall.pending || { added: {}, removed: {} };
    const change = [
      ...Object.entries(pending.added).filter(([, v]) => v.length).map(([k, v]) => `+${v.length} ${k} (${v.slice(0, 5).join(", ")})`),
      ...Object.entries(pending.removed).filter(([, v]) => v.length).map(([k, v]) => `-${v.length} ${k}`),
    ];
    if (change.length) {
      const note = document.createElement("p");
      note.className = "pending";
      note.textContent = `Data loaded since activation changes the scope: ${change.join(", ")}; not taken in until accepted.`;
      box.append(note);
    }
    const holds = document.createElement("ul");
    holds.id = "recall-holds";
    for (const h of held) {
      const item = document.createElement("li");
      item.className = h.status;
      const what = h.batch ? `batch ${h.batch}` : `lot ${h.lot}`;
      const quantity = h.quantity === null ? "quantity unknown" : `${h.quantity} ${h.unit || ""}`.trim();
      const released = h.status === "released" ? `, released: ${h.release_reason}` : "";
      item.textContent = `${what} at ${h.location}: ${quantity}, ${h.status}${released}`;
      holds.append(item);
    }
    const heading = document.createElement("h3");
    heading.textContent = `Holds: ${held.filter((h) => h.status === "active").length} active of ${held.length}`;
    box.append(heading, holds);
    box.append(button("Draw its scope", () => drawRecall(recall)));
    if (recall.state === "draft") box.append(button("Activate", () => activateRecall(uid)));
  } catch (error) {
    showError(error);
  }
}

async function drawRecall(recall) {
  const { label, uid } = recall.source;
  choose({ label, uid, name: uid });
  if (recall.window) {
    $("from").value = (recall.window.from || "").replace("Z", "");
    $("to").value = (recall.window.to || "").replace("Z", "");
  }
  await run("forward");
}

async function activateRecall(uid) {
  clearError();
  const by = $("recall-new").elements.by.value.trim();
  if (!by) {
    showError(new Problem("Say who activates it: fill in your name below."));
    $("recall-new").elements.by.focus();
    return;
  }
  try {
    await posted(`/recalls/${path(uid)}/activate`, { by });
    await Promise.all([showRecall(uid), loadRecalls()]);
  } catch (error) {
    showError(error);
  }
}

async function openRecall(event) {
  event.preventDefault();
  clearError();
  const chosen = state.chosen;
  if (!chosen) return;
  const form = $("recall-new").elements;
  const body = {
    source: `${chosen.label}:${chosen.uid}`,
    ...windowBody(),
    reason: form.reason.value.trim(),
    risk: form.risk.value.trim(),
    owner: form.owner.value.trim(),
    deadline: asIso(form.deadline.value),
    by: form.by.value.trim(),
    strategy: form.strategy.value,
  };
  if (body.strategy === "targeted") body.regions = form.regions.value.split(/[\s,]+/).filter(Boolean);
  try {
    const made = await posted("/recalls", body);
    await Promise.all([showRecall(made.uid), loadRecalls()]);
  } catch (error) {
    showError(error);
  }
}

function windowBody() {
  const { from, to } = windowParams();
  return { window_from: from, window_to: to };
}

async function start() {
  state.kinds = await (await fetch("kinds.json")).json();
  $("key").value = state.key;
  $("key").addEventListener("change", () => {
    state.key = $("key").value.trim();
    sessionStorage.setItem("lineage-key", state.key);
    clearError();
  });
  $("search").addEventListener("input", onSearchInput);
  $("search").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      const first = $("hits").querySelector("li[data-uid]");
      if (first) first.click();
    }
  });
  $("intake").addEventListener("submit", takeIn);
  $("analysis").addEventListener("submit", (event) => {
    event.preventDefault();
    const uids = $("analysis").elements.complaints.value.split(/[\s,]+/).filter(Boolean);
    analyse({ complaints: uids });
  });
  $("signals-refresh").addEventListener("click", loadSignals);
  $("complaints").addEventListener("toggle", () => {
    if ($("complaints").open) loadSignals();
  });
  $("recalls").addEventListener("toggle", () => {
    if ($("recalls").open) loadRecalls();
  });
  $("recall-new").addEventListener("submit", openRecall);
  $("run-forward").addEventListener("click", () => run("forward"));
  $("run-backward").addEventListener("click", () => run("backward"));
  $("fit").addEventListener("click", () => state.cy.fit(undefined, 30));
  $("export-png").addEventListener("click", exportPng);
  $("export-svg").addEventListener("click", exportSvg);
  $("export-csv").addEventListener("click", exportCsv);
  for (const format of ["graphml", "gexf", "cyjs"]) {
    $(`export-${format}`).addEventListener("click", () => exportGraph(format));
  }
  for (const th of $("list").querySelectorAll("th")) {
    th.addEventListener("click", () => {
      state.sort = { key: th.dataset.key, asc: state.sort.key === th.dataset.key ? !state.sort.asc : true };
      list();
    });
  }
  try {
    const health = await (await fetch("/health")).json();
    if (health.auth === "keys" && !state.key) $("key-box").hidden = false;
  } catch (error) {
    showError(error);
  }
}

window.lineageView = state; // for the end-to-end tests, and for a curious investigator's console
start();
