"""python_binding.py -- the etl_plugin API against the in-tree plugins and mode-sim; run by
test_python_binding.sh, which sets ETL_PLUGIN_PATH, ETL_TEST_SIM (a normal mode-sim),
ETL_TEST_SLOW_SIM (one answering 30 s late) and ETL_TEST_N (tests already printed). Prints TAP
lines numbered from ETL_TEST_N + 1."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import etl_plugin
from etl_plugin import Cancelled, EtlError, Plugin

PLUGINS = os.environ["ETL_PLUGIN_PATH"]
SIM = os.environ["ETL_TEST_SIM"]
SLOW = os.environ["ETL_TEST_SLOW_SIM"]
n = int(os.environ.get("ETL_TEST_N", "0"))


def mode_config(host):
    return {"type": "Mode", "hostPort": host, "accessToken": "test-token",
            "accessTokenPassword": "test-secret", "workspaceName": "acme",
            "requestsPerSecond": 0}


def check(description):
    def wrap(fn):
        global n
        n += 1
        try:
            fn()
            print("ok %d - %s" % (n, description))
        except Exception:
            print("not ok %d - %s" % (n, description))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        sys.stdout.flush()
        return fn
    return wrap


@check("Plugin.load reads the descriptor: name, version, ABI, schema")
def _():
    p = Plugin.load(os.path.join(PLUGINS, "mode.so"))
    assert p.name == "mode", p.name
    assert p.version, p.version
    assert p.abi[0] == etl_plugin.ABI_MAJOR, p.abi
    assert "hostPort" in p.config_schema["properties"], p.config_schema


@check("instance.test() returns the five steps, all PASS")
def _():
    p = Plugin.load(os.path.join(PLUGINS, "mode.so"))
    with p.open("mode_py", mode_config(SIM)) as inst:
        steps = inst.test()
    assert [s.step for s in steps] == ["credentials", "workspace", "collections", "reports",
                                       "data sources"], steps
    assert all(s.verdict == "PASS" for s in steps), steps
    assert steps.ok and steps.status == etl_plugin.OK


@check("instance.entities() yields .kind, .id, .data and the extras")
def _():
    p = Plugin.load(os.path.join(PLUGINS, "mode.so"))
    kinds = {}
    with p.open("mode_py", mode_config(SIM), {"includeOwners": True}) as inst:
        for e in inst.entities():
            kinds.setdefault(e.kind, e)
    for k in ("dashboardService", "dashboard", "chart", "dashboardDataModel", "state"):
        assert k in kinds, (k, sorted(kinds))
    d = kinds["dashboard"]
    assert d.data["name"] == d.id, (d.id, d.data)
    assert isinstance(d.owners, list) and d.extras["owners"] == d.owners, d.extras
    assert isinstance(kinds["state"].data, dict)


@check("a configuration error raises EtlError(ETL_ERR_CONFIG) naming the key")
def _():
    p = Plugin.load(os.path.join(PLUGINS, "mode.so"))
    try:
        p.open("mode_py", {"hostPort": SIM, "accessToken": "t", "accessTokenPassword": "s"})
    except EtlError as e:
        assert e.status == etl_plugin.ERR_CONFIG, e
        assert "workspaceName" in str(e), str(e)
    else:
        raise AssertionError("open accepted a config without workspaceName")


@check("interrupt() from another thread stops a run on a hung server within 2 s")
def _():
    p = Plugin.load(os.path.join(PLUGINS, "mode.so"))
    with p.open("mode_py", mode_config(SLOW)) as inst:
        timer = threading.Timer(0.5, inst.interrupt)
        t0 = time.monotonic()
        timer.start()
        try:
            for _ in inst.entities():
                pass
        except Cancelled:
            took = time.monotonic() - t0
        else:
            raise AssertionError("the run ended without being cancelled")
        finally:
            timer.cancel()
    assert took < 2.5, "stopped after %.1f s" % took


@check("Ctrl-C stops `python3 -m etl_plugin run` on a hung server: exit 130 within 3 s")
def _():
    with tempfile.TemporaryDirectory() as d:
        conn = os.path.join(d, "conn.json")
        with open(conn, "w") as f:
            import json
            json.dump(mode_config(SLOW), f)
        proc = subprocess.Popen([sys.executable, "-m", "etl_plugin", "run",
                                 os.path.join(PLUGINS, "mode.so"), "--config", conn],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)  # past the imports and into the first request
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError("still running 10 s after SIGINT")
        took = time.monotonic() - t0
        assert proc.returncode == 130, (proc.returncode, err)
        assert took < 3, "exited %.1f s after SIGINT" % took


@check("`python3 -m etl_plugin test` prints the steps and exits 0")
def _():
    with tempfile.TemporaryDirectory() as d:
        conn = os.path.join(d, "conn.json")
        with open(conn, "w") as f:
            import json
            json.dump(mode_config(SIM), f)
        r = subprocess.run([sys.executable, "-m", "etl_plugin", "test",
                            os.path.join(PLUGINS, "mode.so"), "--config", conn],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        out = r.stdout.decode()
        assert r.returncode == 0, (r.returncode, out, r.stderr)
        assert "PASS credentials:" in out and out.rstrip().endswith("=> ok"), out
