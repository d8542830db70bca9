#!/usr/bin/env python3
"""cdp.py -- drives a running headless Chromium through its DevTools protocol (CDP) over the
site `etlhost site` wrote, for tests/e2e/test_site_browser.sh.

    cdp.py --port PORT --site DIR --catalog CAT --shots DIR

Prints one line per check, "ok<TAB>description" or "not ok<TAB>description<TAB>detail"; the
shell test turns them into TAP. Every wait on the browser has a deadline, so a hung Chromium
fails the check instead of hanging the suite. Needs python3-websocket (websocket-client).
"""
import argparse
import base64
import json
import os
import re
import sqlite3
import sys
import time
import urllib.parse
import urllib.request

import websocket

WAIT = 20.0  # seconds for any one answer or event


def report(ok, what, detail=""):
    line = ("ok\t" if ok else "not ok\t") + what
    if not ok and detail:
        line += "\t" + " ".join(str(detail).split())[:1500]
    print(line, flush=True)
    return ok


class Browser:
    """One page target: commands with ids, events kept for whoever waits for them."""

    def __init__(self, port):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with opener.open("http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
                    targets = json.load(r)
                page = next(t for t in targets if t.get("type") == "page")
                break
            except (OSError, StopIteration, ValueError):
                if time.monotonic() > deadline:
                    raise RuntimeError("no page target on DevTools port %d" % port)
                time.sleep(0.2)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=WAIT,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []

    def close(self):
        self.ws.close()

    def _receive(self, deadline):
        self.ws.settimeout(max(0.05, deadline - time.monotonic()))
        return json.loads(self.ws.recv())

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + WAIT
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("%s: no answer in %.0f s" % (method, WAIT))
            msg = self._receive(deadline)
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == method:
                    return self.events.pop(i)
            if time.monotonic() > deadline:
                raise TimeoutError("no %s in %.0f s" % (method, timeout))
            msg = self._receive(deadline)
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression):
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError("evaluate: %s" % res["exceptionDetails"].get("text"))
        return res["result"].get("value")

    def load(self, url):
        """Navigates and waits for the load event; returns the problems the page reported."""
        self.events = []
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired")
        # Give late script errors a moment to arrive, then collect.
        self.evaluate("new Promise(r => setTimeout(r, 50))")
        return problems(self.events)

    def screenshot(self, path, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=mobile)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return os.path.getsize(path)


def problems(events):
    out = []
    for ev in events:
        m, p = ev["method"], ev.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append("exception: %s %s" % (d.get("text"), d.get("exception", {}).get("description", "")))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.%s: %s" % (p["type"], [a.get("value") for a in p.get("args", [])]))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
        elif m == "Page.javascriptDialogOpening":
            out.append("dialog: %s %s" % (p.get("type"), p.get("message")))
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            out.append("load failed: %s %s" % (p.get("errorText"), p.get("requestId")))
    return out


LINKS_JS = """(() => {
  const out = [];
  for (const e of document.querySelectorAll('[href], [src]'))
    out.push(e.getAttribute('href') || e.getAttribute('src'));
  for (const e of document.querySelectorAll('a'))
    if (e.hasAttributeNS('http://www.w3.org/1999/xlink', 'href'))
      out.push(e.getAttributeNS('http://www.w3.org/1999/xlink', 'href'));
  const images = Array.from(document.images).filter(i => !i.complete || !i.naturalWidth)
    .map(i => i.getAttribute('src'));
  return {links: out, brokenImages: images};
})()"""


def broken_links(site, page, links, ids_of):
    """Local links that do not resolve: a missing file, or an anchor the target lacks."""
    bad = []
    for link in links:
        if not link or re.match(r"^(https?|mailto):", link):
            continue
        path, _, anchor = link.partition("#")
        path = urllib.parse.unquote(path)
        target = page if path == "" else path
        if "/" in target or target.startswith(".") or not os.path.isfile(os.path.join(site, target)):
            bad.append(link)
        elif anchor and anchor not in ids_of(target):
            bad.append(link)
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--site", required=True)
    ap.add_argument("--catalog", required=True)
    ap.add_argument("--shots", required=True)
    ap.add_argument("--hostile", required=True, help="a dashboard's display name, markup")
    args = ap.parse_args()
    site = os.path.abspath(args.site)
    pages = sorted(f for f in os.listdir(site) if f.endswith(".html"))
    id_cache = {}

    def ids_of(name):
        if name not in id_cache:
            with open(os.path.join(site, name), encoding="utf-8") as f:
                id_cache[name] = set(re.findall(r'\bid="([^"]*)"', f.read()))
        return id_cache[name]

    b = Browser(args.port)
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.call(domain + ".enable")

        # Every page: no exception, console error, failed load; every local link resolves.
        unclean, broken = [], []
        for name in pages:
            url = "file://" + urllib.parse.quote(os.path.join(site, name))
            found = b.load(url)
            if found:
                unclean.append("%s: %s" % (name, "; ".join(found)))
            res = b.evaluate(LINKS_JS)
            bad = broken_links(site, name, res["links"], ids_of)
            if bad or res["brokenImages"]:
                broken.append("%s: %s %s" % (name, bad, res["brokenImages"]))
        report(not unclean, "all %d pages load without a console error, exception or failed "
               "load" % len(pages), unclean[:5])
        report(not broken, "every local link and image of the %d pages resolves" % len(pages),
               broken[:5])

        db = sqlite3.connect("file:%s?mode=ro" % args.catalog, uri=True)
        dashboards = db.execute(
            "SELECT id, json_extract(json, '$.data.displayName'),"
            " json_extract(json, '$.data.service') || '.' || json_extract(json, '$.data.name')"
            " FROM entities WHERE kind = 'dashboard' AND NOT deleted ORDER BY id").fetchall()

        # The hostile name is text on its page and in the index (and nothing above ran it).
        page = next(p for p in pages if p.startswith("d-") and
                    b.load("file://" + urllib.parse.quote(os.path.join(site, p))) == [] and
                    b.evaluate("document.querySelector('h1').textContent") == args.hostile)
        title = b.evaluate("document.title")
        b.load("file://" + urllib.parse.quote(os.path.join(site, "index.html")))
        in_index = b.evaluate("Array.from(document.querySelectorAll('#dashboards a'))"
                              ".some(a => a.textContent === %s)" % json.dumps(args.hostile))
        report(title.startswith(args.hostile) and in_index,
               "a dashboard named %s shows as that text on %s and in the index, and runs "
               "nothing" % (json.dumps(args.hostile), page), (title, in_index))

        # Search: type a dashboard's name into the box; its row shows, most others hide.
        index = "file://" + urllib.parse.quote(os.path.join(site, "index.html"))
        b.load(index)
        total = b.evaluate("document.querySelectorAll('#dashboards tbody tr').length")
        report(total == len(dashboards), "the index lists every live dashboard (%d of %d)"
               % (total, len(dashboards)))
        visible_js = ("Array.from(document.querySelectorAll('#dashboards tbody tr'))"
                      ".filter(r => r.offsetParent !== null)"
                      ".map(r => r.cells[0].querySelector('a').textContent)")
        name = next((d[1] for d in dashboards if d[1] and d[1].isascii()), dashboards[0][1])
        b.evaluate("document.getElementById('q').focus()")
        b.call("Input.insertText", text=name)
        shown = b.evaluate(visible_js)
        count = b.evaluate("document.getElementById('count').textContent")
        report(name in shown and len(shown) < total,
               "typing '%s' in the search box shows it (%d of %d rows: '%s')"
               % (name, len(shown), total, count), shown)
        b.evaluate("(q => { q.value = 'no such dashboard zzqx'; "
                   "q.dispatchEvent(new Event('input')); })(document.getElementById('q'))")
        none = b.evaluate(visible_js)
        empty = b.evaluate("!document.getElementById('empty').hidden")
        report(none == [] and empty, "a query that matches nothing hides every row and says so",
               none)

        # ?q= prefills the search; a collection filter narrows to that collection.
        b.load(index + "?q=" + urllib.parse.quote(name))
        prefilled = b.evaluate("document.getElementById('q').value")
        shown = b.evaluate(visible_js)
        report(prefilled == name and name in shown and len(shown) < total,
               "index.html?q=... prefills the search and filters (%d rows)" % len(shown),
               (prefilled, shown))
        collection, n_coll = db.execute(
            "SELECT json_extract(json, '$.data.project'), count(*) FROM entities"
            " WHERE kind = 'dashboard' AND NOT deleted GROUP BY 1 ORDER BY 2 DESC, 1"
            " LIMIT 1").fetchone()
        b.load(index)
        b.evaluate("(s => { s.value = %s; s.dispatchEvent(new Event('change')); })"
                   "(document.getElementById('f-collection'))" % json.dumps(collection))
        shown = b.evaluate(visible_js)
        report(len(shown) == n_coll, "the collection filter '%s' shows its %d dashboards (%d)"
               % (collection, n_coll, len(shown)))

        # Screenshots: the index on a desktop, a dashboard page on a phone-sized screen.
        b.load(index)
        size = b.screenshot(os.path.join(args.shots, "site-index.png"), 1280, 900)
        report(size > 10000, "screenshot of the index: %s (%d bytes)"
               % (os.path.join(args.shots, "site-index.png"), size))

        # The dashboard with the most upstream tables: its SVG has the catalog's nodes and edges.
        best = db.execute("""
            SELECT d.json_fqn, count(*) FROM (
              SELECT json_extract(json, '$.data.service') || '.' || json_extract(json, '$.data.name')
                     AS json_fqn, json FROM entities WHERE kind = 'dashboard' AND NOT deleted) d,
              json_each(d.json, '$.data.dataModels') m, entities l
            WHERE l.kind = 'lineage' AND NOT l.deleted
              AND json_extract(l.json, '$.data.toEntity.fullyQualifiedName') = m.value
              AND json_extract(l.json, '$.data.fromEntity.type') = 'table'
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1""").fetchone()
        fqn = best[0]
        want_nodes, want_edges = {"dashboard:" + fqn}, set()
        for (model,) in db.execute(
                "SELECT m.value FROM entities d, json_each(d.json, '$.data.dataModels') m"
                " WHERE d.kind = 'dashboard' AND NOT d.deleted AND json_extract(d.json,"
                " '$.data.service') || '.' || json_extract(d.json, '$.data.name') = ?", (fqn,)):
            want_nodes.add("dashboardDataModel:" + model)
            for (table,) in db.execute(
                    "SELECT json_extract(json, '$.data.fromEntity.fullyQualifiedName')"
                    " FROM entities WHERE kind = 'lineage' AND NOT deleted"
                    " AND json_extract(json, '$.data.fromEntity.type') = 'table'"
                    " AND json_extract(json, '$.data.toEntity.fullyQualifiedName') = ?",
                    (model,)):
                want_nodes.add("table:" + table)
                want_edges.add("table:%s->dashboardDataModel:%s" % (table, model))
        page = next(p for p in pages if p.startswith("d-") and
                    ('"dashboard:%s"' % fqn) in open(os.path.join(site, p), encoding="utf-8").read())
        b.load("file://" + urllib.parse.quote(os.path.join(site, page)))
        ids = set(b.evaluate("Array.from(document.querySelectorAll('svg g[id]'))"
                             ".map(g => g.id)"))
        report(want_nodes <= ids, "the SVG of %s has its %d expected nodes (dashboard, data "
               "models, tables)" % (page, len(want_nodes)), sorted(want_nodes - ids))
        report(want_edges <= ids, "the SVG of %s has its %d table -> data model edges"
               % (page, len(want_edges)), sorted(want_edges - ids))
        hrefs = b.evaluate("Array.from(document.querySelectorAll('svg a'))"
                           ".map(a => a.getAttributeNS('http://www.w3.org/1999/xlink', 'href')"
                           " || a.getAttribute('href')).filter(Boolean)")
        report(any(h.startswith("t-") for h in hrefs), "the SVG's table nodes link to table pages",
               hrefs[:10])
        size = b.screenshot(os.path.join(args.shots, "site-dashboard-phone.png"), 390, 844,
                            mobile=True)
        overflow = b.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        report(size > 5000 and overflow <= 1,
               "screenshot of %s on a 390 px phone screen: %s (%d bytes; page overflow %d px)"
               % (page, os.path.join(args.shots, "site-dashboard-phone.png"), size, overflow))
        size = b.screenshot(os.path.join(args.shots, "site-dashboard.png"), 1280, 1600)
        report(size > 10000, "screenshot of %s: %s (%d bytes)"
               % (page, os.path.join(args.shots, "site-dashboard.png"), size))
    finally:
        b.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a hung or crashed browser is a failed check, with its reason
        report(False, "the browser session ended early", "%s: %s" % (type(e).__name__, e))
        sys.exit(1)
