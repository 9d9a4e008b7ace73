"""What users would otherwise scope with, run on the same data as lineage and checked against it.

Every baseline answers the same question as lineage's forward scope (or backward trace, without the
machines, operators and inspections beside it): the set of nodes reached. They all work on the
**flow graph**, the relationships along which material and product move, turned so that they all
point downstream: supplier -> lot (SUPPLIED), lot or batch -> batch (CONSUMED_BY), batch ->
shipment (SHIPPED_IN), shipment -> customer (DELIVERED_TO), batch -> sale (SOLD_IN), and sale ->
customer (SOLD, stored the other way). A distributor's re-shipment carries its batches by SHIPPED_IN
like any shipment, so plain reachability in this graph is batch-aware: it is lineage's scope.

- networkx: ``descendants`` / ``ancestors`` on a DiGraph held in memory (the in-process reference);
- scipy: ``breadth_first_order`` on a CSR matrix of integer ids (the floor: each edge touched once);
- PostgreSQL 15: an edge table and a recursive CTE with ``UNION`` (the relational way), on a server
  this module starts on a private Unix socket in a temporary directory;
- the naive Cypher pattern ``-[*]->`` (``cypher/bench/``), under a time cap.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order

from lineage.graph.model import Label, NodeRef, RelType
from lineage.graph.schema import endpoints
from lineage.graph.scope import backward, forward
from lineage.graph.store import Store

#: Relationship types along the flow, and whether they are stored against it.
FLOW = {
    RelType.SUPPLIED: False,
    RelType.CONSUMED_BY: False,
    RelType.SHIPPED_IN: False,
    RelType.DELIVERED_TO: False,
    RelType.SOLD_IN: False,
    RelType.SOLD: True,
}
#: Kinds a backward trace reaches along the flow; lineage adds machines, operators and
#: inspections beside them, which the baselines leave out (so the comparison does too).
_FLOW_KINDS = {rel.value for rel in FLOW}
UPSTREAM_KINDS = {Label.SUPPLIER, Label.MATERIAL_LOT, Label.BATCH, Label.SHIPMENT, Label.SALE, Label.CUSTOMER}


def key(node: NodeRef) -> str:
    return f"{node.label.value}:{node.uid}"


def flow_edges(data_dir: Path) -> Iterator[tuple[str, str]]:
    """The flow graph's edges, read from the files ``lineage load`` reads (JSON Lines)."""
    for path in sorted(data_dir.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                kind = record["kind"]
                if kind not in _FLOW_KINDS:
                    continue
                rel = RelType(kind)
                src, dst = endpoints(kind, record.get("from_label"), record.get("to_label"))
                a, b = f"{src.value}:{record['from']}", f"{dst.value}:{record['to']}"
                yield (b, a) if FLOW[rel] else (a, b)


class InMemory:
    """The networkx and scipy baselines over one copy of the flow graph."""

    def __init__(self, edges: list[tuple[str, str]]) -> None:
        self.graph = nx.DiGraph(edges)
        self.names = list(self.graph.nodes)
        self.ids = {name: i for i, name in enumerate(self.names)}
        src = np.fromiter((self.ids[a] for a, _ in edges), np.int64, len(edges))
        dst = np.fromiter((self.ids[b] for _, b in edges), np.int64, len(edges))
        ones = np.ones(len(edges), dtype=bool)
        size = len(self.names)
        self.down = csr_matrix((ones, (src, dst)), shape=(size, size))
        self.up = csr_matrix((ones, (dst, src)), shape=(size, size))

    def networkx(self, source: NodeRef, direction: str) -> set[str]:
        name = key(source)
        if name not in self.graph:
            return {name}
        reach = nx.descendants if direction == "forward" else nx.ancestors
        return reach(self.graph, name) | {name}

    def path(self, source: NodeRef, target: NodeRef) -> list[str]:
        """One shortest chain of nodes from ``source`` down to ``target``."""
        return nx.shortest_path(self.graph, key(source), key(target))

    def scipy(self, source: NodeRef, direction: str) -> set[str]:
        start = self.ids.get(key(source))
        if start is None:
            return {key(source)}
        matrix = self.down if direction == "forward" else self.up
        order = breadth_first_order(matrix, start, directed=True, return_predecessors=False)
        names = self.names
        return {names[i] for i in order.tolist()}


#: The recursive CTE each way: from a node along ``edges`` (``src`` to ``dst``) or against it.
_REACH_SQL = {
    direction: f"""
WITH RECURSIVE reach(node) AS (
    SELECT %(source)s::text
    UNION
    SELECT e.{there} FROM edges e JOIN reach r ON e.{here} = r.node
)
SELECT node FROM reach
"""
    for direction, here, there in (("forward", "src", "dst"), ("backward", "dst", "src"))
}


def postgres_binaries() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: on the PATH, or Debian's versioned directory."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


class Postgres:
    """A PostgreSQL server of its own: a new cluster in a temporary directory, listening on a Unix
    socket there and on no TCP port, removed again by :meth:`close`."""

    def __init__(self) -> None:
        import psycopg  # a bench and test dependency only

        binaries = postgres_binaries()
        if binaries is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql-15)")
        self.dir = Path(tempfile.mkdtemp(prefix="lineage-pg-"))
        self.bin = binaries
        data = self.dir / "data"
        env = {**os.environ, "LC_ALL": "C"}
        subprocess.run(
            [str(binaries / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8"],
            check=True, capture_output=True, env=env, **_as_postgres_user(self.dir),
        )  # fmt: skip
        options = f"-c listen_addresses='' -k {self.dir} -c fsync=off -c shared_buffers=256MB"
        start = [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.dir / "log")]
        subprocess.run(
            [*start, "-w", "start"], check=True, capture_output=True, env=env, **_as_postgres_user(self.dir)
        )
        self.conn = psycopg.connect(host=str(self.dir), user="bench", dbname="postgres", autocommit=True)

    def load(self, edges: list[tuple[str, str]]) -> None:
        with self.conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS edges")
            cur.execute("CREATE TABLE edges (src text NOT NULL, dst text NOT NULL)")
            with cur.copy("COPY edges (src, dst) FROM STDIN") as copy:
                for row in edges:
                    copy.write_row(row)
            cur.execute("CREATE INDEX edges_src ON edges (src)")
            cur.execute("CREATE INDEX edges_dst ON edges (dst)")
            cur.execute("ANALYZE edges")

    def reach(self, source: NodeRef, direction: str) -> set[str]:
        with self.conn.cursor() as cur:
            cur.execute(_REACH_SQL[direction], {"source": key(source)})
            return {row[0] for row in cur.fetchall()}

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            subprocess.run(
                [str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"],
                check=False, capture_output=True, **_as_postgres_user(self.dir),
            )  # fmt: skip
            shutil.rmtree(self.dir, ignore_errors=True)


def _as_postgres_user(directory: Path) -> dict[str, Any]:
    """PostgreSQL refuses to run as root: there, run it as ``nobody``, owning its directory."""
    if os.geteuid() != 0:
        return {}
    import pwd

    nobody = pwd.getpwnam("nobody")
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    return {"user": nobody.pw_uid, "group": nobody.pw_gid}


def lineage_reach(store: Store, source: NodeRef, direction: str) -> set[str]:
    """Lineage's scope of ``source`` as the baselines name its nodes (a trace without the context
    kinds), asked the way a caller who wants which nodes, not their properties, asks: a scope
    without properties, then its nodes by kind, from its arrays. What every harness times."""
    scope = (forward if direction == "forward" else backward)(store, source, properties=())
    reached = {
        f"{kind}:{uid}"
        for kind, uids in scope.uids_by_label().items()
        if direction == "forward" or kind in UPSTREAM_KINDS  # a kind's name equals its Label
        for uid in uids
    }
    return reached | {key(source)}
