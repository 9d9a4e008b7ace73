# The lineage API, pointed at Neo4j by LINEAGE_DB_URI (see docker-compose.yml).
FROM python:3.11.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lineage ./lineage
COPY api ./api
COPY cypher ./cypher
COPY fixtures/demo ./fixtures/demo
# The walk's compiled loops are cached beside the installed package, which the server's user cannot write.
RUN pip install --no-cache-dir . && python -c "import lineage.graph.kernels as k; k.warm()" \
    && useradd --create-home lineage
USER lineage
EXPOSE 8000
CMD ["lineage", "serve", "--host", "0.0.0.0", "--port", "8000"]
