#!/usr/bin/env python3
"""Compares the Mode plugin's JSON Lines output with mode-sim's ground truth.

usage: mode_compare.py GROUND_TRUTH.json OUTPUT.jsonl [--service NAME] [--requests N]
           [--no-data-models] [--allow-missing-report TOKEN ...]
           [--allow-missing-space TOKEN ...]

Prints one line per difference and exits 1 if there is any. Checks: one dashboard per report,
one data model per query and per dataset, one chart per chart, owners, every lineage edge
(table -> data model, data model -> dashboard, dataset -> importing dashboard), nothing twice,
nothing extra. Every table of ground truth's "tables" (those of every Liquid branch, as written
in the SQL, unquoted) must be a lineage source of its data model, and no other: compared by their
three parts, case-insensitively, a name with fewer than three parts taking the database of its
query's data source.
"""
import json
import re
import sys
from collections import Counter

CHART_TYPES = {
    "table": "Table", "pivottable": "Table", "vegaspivottable": "Table", "flattable": "Table",
    "bar": "Bar", "hbar": "Bar", "stackedbar": "Bar", "stackedbar100": "Bar", "hstackedbar": "Bar",
    "hstackedbar100": "Bar", "groupedbar": "Bar", "column": "Bar", "line": "Line",
    "stackedline": "Line", "lineplusbar": "Bar", "linebar": "Bar", "area": "Area",
    "totalarea": "Area", "stackedarea": "Area", "pie": "Pie", "donut": "Pie", "scatter": "Scatter",
    "bubble": "Scatter", "bigvalue": "Text", "bignumber": "Text", "text": "Text",
    "markdown": "Text", "histogram": "Histogram", "boxplot": "BoxPlot", "box": "BoxPlot",
    "gauge": "Gauge", "map": "Map", "geo": "Map", "choropleth": "Map", "pointmap": "Map",
    "heatmap": "Heatmap", "timeline": "Timeline", "graph": "Graph", "network": "Graph",
    "sankey": "Graph", "funnel": "Other", "vegas": "Other",
}


def split_fqn(fqn):
    parts, cur, quoted = [], "", False
    for ch in fqn:
        if ch == '"':
            quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def unquote(part):
    part = part.strip()
    if len(part) >= 2 and part[0] in "\"`[" and part[-1] in "\"`]":
        return part[1:-1]
    return part


def table_key(written):
    """("db"|None, "schema"|None, "name") from a table as written in SQL."""
    parts, cur, q = [], "", None
    for ch in written:
        if q:
            if ch == q or (q == "[" and ch == "]"):
                q = None
            cur += ch
        elif ch in "\"`[":
            q = ch
            cur += ch
        elif ch == ".":
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    parts = [unquote(p).lower() for p in parts]
    while len(parts) < 3:
        parts.insert(0, None)
    return tuple(parts[-3:])


def model_column_problems(columns, fields, sql):
    """What is wrong with a data model's columns given its charts' fields (lower-cased) and its
    SQL (docs/mode.md "Column lineage": the SQL result's columns, then the chart fields the SQL
    did not name): each field is a column, no name appears twice (ignoring case),
    ordinalPosition counts from 1, and once a field the SQL cannot name (its name is nowhere in
    the SQL text) has come, only chart fields follow. A field the SQL does name may be one of
    its result columns, at any place, so only those absent from the text pin the order; a
    `{{ @definition }}` may name any column, so an SQL using one pins none."""
    problems = []
    names = [c.get("name") for c in columns]
    low = [(n or "").lower() for n in names]
    for n, k in sorted(Counter(low).items()):
        if k > 1:
            problems.append(f"column {n!r} appears {k} times in {names!r}")
    for f in sorted(fields - set(low)):
        problems.append(f"chart field {f!r} not among columns {names!r}")
    text = (sql or "").lower()
    in_sql = lambda n: re.search(r"(?<![\w])" + re.escape(n) + r"(?![\w])", text) is not None
    chart_only = [] if re.search(r"\{\{\s*@", text) else \
        [i for i, n in enumerate(low) if n in fields and not in_sql(n)]
    if chart_only:
        late = [names[i] for i in range(chart_only[0], len(low)) if low[i] not in fields]
        if late:
            problems.append(f"SQL columns {late!r} come after chart field {names[chart_only[0]]!r} "
                            f"in {names!r}")
    pos = [c.get("ordinalPosition") for c in columns]
    if pos != list(range(1, len(columns) + 1)):
        problems.append(f"ordinalPosition {pos!r}")
    return problems


def minimum_requests(gt, data_models, per_page=30):
    """What a correct run must request: every listing page plus the empty page that ends it,
    queries once per report and dataset, charts once per query of a report whose chart_count
    is not 0, each creator once, data sources and definitions once."""
    pages = lambda n: -(-n // per_page) + 1
    n = 2 + pages(len(gt["spaces"]))
    for sp in gt["spaces"]:
        n += pages(sum(1 for r in gt["reports"] if r["space_token"] == sp["token"]))
        if data_models:
            n += pages(sum(1 for r in gt.get("datasets", []) if r["space_token"] == sp["token"]))
    n += len(gt["reports"]) + (len(gt.get("datasets", [])) if data_models else 0)
    n += sum(len(r["queries"]) for r in gt["reports"] if r["chart_count"] != 0)
    n += len({r["creator"] for r in gt["reports"] if r.get("creator")})
    return n


def main():
    args = sys.argv[1:]
    service = "mode_svc"
    lost = set()
    data_models = True
    if "--service" in args:
        i = args.index("--service")
        service = args[i + 1]
        del args[i:i + 2]
    lost_spaces = set()
    while "--allow-missing-space" in args:
        i = args.index("--allow-missing-space")
        lost_spaces.add(args[i + 1])
        del args[i:i + 2]
    while "--allow-missing-report" in args:
        i = args.index("--allow-missing-report")
        lost.add(args[i + 1])
        del args[i:i + 2]
    requests = None
    if "--requests" in args:
        i = args.index("--requests")
        requests = int(args[i + 1])
        del args[i:i + 2]
    if "--no-data-models" in args:
        args.remove("--no-data-models")
        data_models = False
    gt = json.load(open(args[0]))
    present = set()
    # "# state {...}" lines are the driver's comments for state entities.
    for l in open(args[1]):
        if l.strip() and not l.startswith("#"):
            rec = json.loads(l)
            if rec["kind"] in ("dashboard", "dashboardDataModel"):
                present.add(rec["id"])
    # Reports of a space whose listing could not be paged may be missing (the plugin warned);
    # those that are present must still be right.
    for r in gt["reports"] + gt.get("datasets", []):
        if r["space_token"] in lost_spaces and r["token"] not in present:
            lost.add(r["token"])
    records = [json.loads(l) for l in open(args[1]) if l.strip() and not l.startswith("#")]
    problems = []
    by_kind = {}
    ids = Counter()
    for r in records:
        by_kind.setdefault(r["kind"], {})
        ids[(r["kind"], r["id"])] += 1
        by_kind[r["kind"]][r["id"]] = r
    for (k, i), n in ids.items():
        if n > 1:
            problems.append(f"{k} {i} emitted {n} times")
    users = {u["username"]: u for u in gt["users"]}
    spaces = {s["token"]: s for s in gt["spaces"]}
    sources = {str(d["id"]): d for d in gt["data_sources"]}
    fq = lambda name: service + "." + (f'"{name}"' if "." in name else name)
    # Data models are <service>.model.<name> (DashboardDataModelRepository.setFullyQualifiedName).
    fqm = lambda name: service + ".model." + (f'"{name}"' if "." in name else name)

    exp = {"dashboard": set(), "chart": set(), "dashboardDataModel": set(), "lineage": set()}
    exp_tables = {}  # lineage target FQN -> set of table keys

    def expect_query_tables(q, target):
        # A name without its database is in the query's data source's database.
        # A name without its schema is in the data source's default schema, if it has one.
        src = sources.get(str(q.get("data_source_id")), {})
        ds_db = (src.get("database") or "").lower() or None
        ds_schema = (src.get("schema") or "").lower() or None
        for t in q["tables"]:
            k = table_key(t)
            exp_tables.setdefault(target, set()).add(k if k[0] else (ds_db, k[1] or ds_schema, k[2]))

    for rep in gt["reports"]:
        tok = rep["token"]
        if tok in lost:
            continue
        exp["dashboard"].add(tok)
        d = by_kind.get("dashboard", {}).get(tok)
        if d is None:
            problems.append(f"dashboard {tok} ({rep['name']}) missing")
            continue
        data = d["data"]
        if data.get("displayName") != rep["name"]:
            problems.append(f"dashboard {tok}: displayName {data.get('displayName')!r} != {rep['name']!r}")
        if data.get("project") != spaces.get(rep["space_token"], {}).get("name"):
            problems.append(f"dashboard {tok}: project {data.get('project')!r}")
        want_charts = sorted(fq(c["token"]) for c in rep["charts"])
        if sorted(data.get("charts", [])) != want_charts:
            problems.append(f"dashboard {tok}: charts {sorted(data.get('charts', []))} != {want_charts}")
        owner = d.get("owners", [{}])[0] if d.get("owners") else {}
        if owner.get("name") != rep["creator"]:
            problems.append(f"dashboard {tok}: owner {owner.get('name')!r} != {rep['creator']!r}")
        u = users.get(rep["creator"])
        # A creator who left cannot be looked up: the owner then has no email.
        if u and owner.get("email") != u.get("email") and (u.get("active", True) or owner.get("email")):
            problems.append(f"dashboard {tok}: owner email {owner.get('email')!r} != {u.get('email')!r}")
        for c in rep["charts"]:
            exp["chart"].add(c["token"])
            ch = by_kind.get("chart", {}).get(c["token"])
            if ch is None:
                problems.append(f"chart {c['token']} of report {tok} missing")
                continue
            want = CHART_TYPES.get((c.get("chart_type") or "").lower(), "Other")
            if ch["data"].get("chartType") != want:
                problems.append(f"chart {c['token']}: chartType {ch['data'].get('chartType')} != {want} ({c.get('chart_type')})")
            if c.get("title") and ch["data"].get("displayName") != c["title"]:
                problems.append(f"chart {c['token']}: displayName {ch['data'].get('displayName')!r} != {c['title']!r}")
            # The chart's query, its data model and the fields it shows (issue 11 item 1).
            q = ch.get("query") or {}
            want_model = fqm(c["query_token"]) if data_models else None
            if q.get("token") != c["query_token"] or q.get("dataModel") != want_model:
                problems.append(f"chart {c['token']}: query {q!r}, want {c['query_token']} / {want_model}")
            if "fields" in c and q.get("fields") != c["fields"]:
                problems.append(f"chart {c['token']}: fields {q.get('fields')!r} != {c['fields']!r}")
            if data_models:
                exp["lineage"].add(f"{fqm(c['query_token'])} -> {fq(c['token'])}")
        # Freshness and activity (issue 11 item 2), as the ground truth states them.
        if "extension" in rep:
            want_ext = {k: v for k, v in rep["extension"].items() if v is not None}
            want_ext["creator"] = rep["creator"]
            if d.get("extension") != want_ext:
                problems.append(f"dashboard {tok}: extension {d.get('extension')!r} != {want_ext!r}")
        # A query's data model has as columns its SQL result's columns (ground truth does not
        # know them), then the fields its charts show that the SQL did not name (docs/mode.md
        # "Column lineage"): every chart field is there, no name twice (ignoring case), and no
        # SQL column comes after a chart field.
        for qq in rep["queries"] if data_models else []:
            fields = {f.lower() for c in rep["charts"] if c["query_token"] == qq["token"]
                      for f in c.get("fields", [])}
            dm = by_kind.get("dashboardDataModel", {}).get(qq["token"])
            if dm is None:
                continue
            problems.extend(f"data model {qq['token']}: {p}"
                            for p in model_column_problems(dm["data"].get("columns", []), fields,
                                                  dm["data"].get("sql")))
        if data_models:
            for q in rep["queries"]:
                exp["dashboardDataModel"].add(q["token"])
                exp["lineage"].add(f"{fqm(q['token'])} -> {fq(tok)}")
                expect_query_tables(q, fqm(q["token"]))
        else:
            for q in rep["queries"]:
                expect_query_tables(q, fq(tok))
    for ds in gt.get("datasets", []):
        if ds["token"] in lost or not data_models:
            continue
        exp["dashboardDataModel"].add(ds["token"])
        for q in ds["queries"]:
            expect_query_tables(q, fqm(ds["token"]))
    for kind in ("dashboard", "chart", "dashboardDataModel"):
        got = set(by_kind.get(kind, {}))
        for extra in sorted(got - exp[kind]):
            problems.append(f"{kind} {extra} not in ground truth")
        for miss in sorted(exp[kind] - got):
            if kind != "dashboard":
                problems.append(f"{kind} {miss} missing")
    got_tables = {}
    for lid, r in by_kind.get("lineage", {}).items():
        frm = r["data"]["fromEntity"]
        to = r["data"]["toEntity"]["fullyQualifiedName"]
        if frm["type"] == "table":
            t = r.get("fromTable") or {}
            key = ((t.get("database") or "").lower() or None, (t.get("schema") or "").lower() or None,
                   (t.get("name") or "").lower())
            got_tables.setdefault(to, set()).add(key)
        else:
            if lid not in exp["lineage"]:
                # dataset -> importing dashboard edges are legitimate when the dataset is known
                if frm["fullyQualifiedName"] not in {fqm(d["token"]) for d in gt.get("datasets", [])}:
                    problems.append(f"lineage {lid} not expected")
    for e in sorted(exp["lineage"]):
        if e not in by_kind.get("lineage", {}):
            problems.append(f"lineage {e} missing")
    for target in sorted(set(exp_tables) | set(got_tables)):
        want = exp_tables.get(target, set())
        got = got_tables.get(target, set())
        for w in sorted(want - got, key=str):
            problems.append(f"lineage to {target}: table {w} missing (got {sorted(got, key=str)})")
        for g in sorted(got - want, key=str):
            problems.append(f"lineage to {target}: table {g} not in ground truth")
    if requests is not None:
        minimum = minimum_requests(gt, data_models)
        if requests != minimum:
            problems.append(f"requests: {requests} made, the minimum is {minimum}")
    for p in problems:
        print(p)
    n = {k: len(v) for k, v in by_kind.items()}
    print(f"# compared: {n}; {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
