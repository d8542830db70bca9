#!/usr/bin/env python3
"""seed-corpus.py -- (re)writes the seed corpora under tests/fuzz/corpus/ from tests/fixtures
and from inputs the unit tests use, so that each fuzz target starts from real shapes.

  python3 tests/fuzz/seed-corpus.py        (from the top of the source tree)

Each file's first bytes follow its target's convention (fuzz_sql: a dialect byte; fuzz_hal:
a spec byte and a piece-size byte). Run it again when the fixtures change; commit the result.
"""
import glob
import hashlib
import json
import os

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(TOP, "tests", "fixtures")
OUT = os.path.join(TOP, "tests", "fuzz", "corpus")
DIALECTS = ["ansi", "postgres", "redshift", "snowflake", "bigquery", "mysql", "tsql",
            "databricks", "hive", "trino", "oracle", "sqlite"]


def put(target, data, name=None):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sql():
    for case in json.load(open(os.path.join(FIX, "sql-lineage-corpus", "cases.json"))):
        d = case.get("dialect", "ansi")
        idx = DIALECTS.index(d) if d in DIALECTS else 0
        put("sql", bytes([idx]) + case["sql"].encode())
    for path in glob.glob(os.path.join(FIX, "mode-api-samples", "*", "*queries*.json")):
        body = json.load(open(path))
        for q in body.get("_embedded", {}).get("queries", []):
            if q.get("raw_query"):
                put("sql", bytes([3]) + q["raw_query"].encode())
    liquid = [
        "{% form %}\nregion:\n  type: select\n  default: emea\n  options: [emea, amer]\n"
        "{% endform %}\nSELECT * FROM sales_{{ region }} WHERE d > '{{ start | default: '2020' }}'",
        "SELECT * FROM {% if x %}a{% elsif y %}b{% else %}c{% endif %} JOIN {{ @def as d }} ON 1=1",
        "{% case kind %}{% when 'a' %}SELECT 1 FROM ta{% when 'b' %}SELECT 1 FROM tb{% endcase %}",
        "{% for t in (1..3) %}SELECT {{ forloop.index }} FROM t{{ t }}{% unless forloop.last %} "
        "UNION ALL {% endunless %}{% endfor %}",
        "{% assign s = 'a,b,c' | split: ',' %}{% for x in s %}SELECT 1 FROM {{ x | upcase }};"
        "{% endfor %}",
        "{% capture tbl %}sch.{{ 'T' | downcase }}{% endcapture %}SELECT * FROM {{ tbl }}",
        "{% raw %}{{ not_rendered }}{% endraw %} {% comment %}SELECT 1 FROM hidden{% endcomment %}"
        "SELECT * FROM {{- ' t ' | strip -}}",
        "WITH x AS (SELECT * FROM {{ @inner }}) INSERT INTO out SELECT * FROM x",
        "{% form %}\nf:\n  default: [a, 'b', c]\n{% endform %}SELECT * FROM {{ f.first }}, "
        "{{ f.last }} WHERE n = {{ f.size }}",
    ]
    for k, t in enumerate(liquid):
        put("sql", bytes([k % len(DIALECTS)]) + t.encode())


def hal():
    for path in sorted(glob.glob(os.path.join(FIX, "mode-api-samples", "*", "*.json"))):
        body = read(path)
        base = os.path.basename(path)
        spec = 0 if base.startswith("reports") else 1 if "queries" in base else 2
        put("hal", bytes([spec, 0x0f]) + body)
    put("hal", bytes([0, 3]) + b'{"_embedded":{"reports":[{"token":"t\\u00e9\\"x",'
        b'"_links":{"share":{"href":"h"}},"imported_datasets":[{"token":"a"},{"token":"b"}]}]}}')
    put("hal", bytes([2, 0x81]) + b'{"token":"abc","name":null,"query_count":3}')


def workflow():
    for path in glob.glob(os.path.join(FIX, "demo", "*.yaml")):
        put("workflow", read(path))
    put("workflow", "source:\n  type: mode\n  serviceName: m\n  serviceConnection:\n    config:\n"
        "      hostPort: https://app.mode.com\n      workspaceName: w\n      accessToken: &t tok\n"
        "      accessTokenPassword: *t\nsink:\n  type: file\n  config: {path: out.jsonl}\n"
        "workflowConfig: {stateStore: s.db, loggerLevel: DEBUG}\n")
    put("workflow", "source: {type: jsonl, serviceName: j, serviceConnection: {config: "
        "{path: [\"${HOME:-/tmp}/a.jsonl\"]}}}\nsink: {type: sqlite, config: {path: c.db}}\n")
    put("workflow", "a: &a [x, y]\nb: &b [*a, *a]\nc: [*b, *b]\n---\nsecond: doc\n")
    put("workflow", "source:\n  type: mode\n  sourceConfig:\n    config:\n"
        "      dashboardFilterPattern:\n        includes: ['^a.*', 'b']\n  serviceName: x\n")


def jsonl():
    for path in glob.glob(os.path.join(FIX, "demo", "*.jsonl")):
        put("jsonl", read(path))
    put("jsonl", '{"kind":"chart","id":"x","data":{}}\nnot json\n{"kind":"chart"}\n'
        '{"kind":"state","id":"s","data":{"a":[1,2,{"b":null}]}}\n')
    put("jsonl", '{"kind":"dashboard","id":"a\\u0000b","data":{"name":"n"}}\r\n\n\n')


def omrest():
    put("omrest", '{"id":"0b8e6a2c-1a2b-4c3d-9e8f-0123456789ab","name":"svc",'
        '"fullyQualifiedName":"svc","version":0.1,"href":"http://om/api/v1/services/x"}')
    put("omrest", '{"data":[{"id":"1","fullyQualifiedName":"svc.a"},{"id":"2",'
        '"fullyQualifiedName":"svc.\\"b\\""}],"paging":{"after":"YWZ0ZXI=","total":2}}')
    put("omrest", '{"code":409,"message":"Entity already exists"}')
    put("omrest", '{"code":400,"message":"[query param limit must be less than or equal to '
        '1000000]"}')
    put("omrest", '{"edges":[{"fromEntity":"1","toEntity":"2","lineageDetails":{"sqlQuery":'
        '"SELECT 1"}}],"entity":{"id":"1","type":"dashboard"},"nodes":[]}')
    put("omrest", '[1, -2.5e300, true, false, null, "\\ud83d\\ude00", {"": {}}]')


if __name__ == "__main__":
    sql()
    hal()
    workflow()
    jsonl()
    omrest()
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))))
