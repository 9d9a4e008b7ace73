// Lints Cypher with Neo4j's own language support (the parser and semantic analysis behind
// Neo4j's editors). Reads {"schema": {...}, "files": [{"path", "text"}]} on stdin and prints, for
// each file, the diagnostics other than "Parameter $x is not defined" (parameters are declared in
// each file's header, which the linter cannot see).
const { lintCypherQuery } = require('@neo4j-cypher/language-support');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { schema, files } = JSON.parse(input);
  const report = files.map(({ path, text }) => {
    const { diagnostics } = lintCypherQuery(text, schema);
    return {
      path,
      diagnostics: diagnostics
        .filter((d) => !/^Parameter \$\w+ is not defined\.$/.test(d.message))
        .map((d) => ({ severity: d.severity, line: d.range.start.line + 1, message: d.message })),
    };
  });
  process.stdout.write(JSON.stringify(report));
});
