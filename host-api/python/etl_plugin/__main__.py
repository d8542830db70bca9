"""python3 -m etl_plugin run PLUGIN.so --config CONN.json [--source-name NAME]
                              [--source-config FILE.json] [--state FILE]
python3 -m etl_plugin test PLUGIN.so --config CONN.json [...]

`run` writes the `file` sink's JSON Lines to stdout, byte for byte as etlhost would for the same
source; diagnostics go to stderr. CONN.json holds serviceConnection.config; --state FILE is read
(if it exists) and handed to open(), and the run's last state is written back to it once the
run is complete. `test` prints each step of the connection test. Exit status as etlhost's: 0 done,
1 failed (or items lost), 2 configuration, 3 authentication or connection, 130 interrupted.
"""

import argparse
import os
import sys

from . import (ERR_AUTH, ERR_CANCELLED, ERR_CONFIG, ERR_CONNECT, Cancelled, EtlError, Plugin)


def _exit_code(status):
    if status == ERR_CONFIG:
        return 2
    if status in (ERR_AUTH, ERR_CONNECT):
        return 3
    if status == ERR_CANCELLED:
        return 130
    return 1


def _read_json_file(path):
    with open(path, "rb") as f:
        return f.read()


def _on_diag(source):
    def say(d):
        where = "%s: " % d.item if d.item else ""
        print("%s: %s: %s%s" % (source, d.severity, where, d.message), file=sys.stderr)
    return say


def _run(inst, args):
    out = sys.stdout.buffer
    state = None
    n = 0
    try:
        for e in inst.entities():
            if e.kind == "state":
                state = e.json
                continue
            try:
                line = e.record_line(args.source_name)
            except ValueError as err:
                print("%s: error: %s %s: rejected by the file sink: %s"
                      % (args.source_name, e.kind, e.id, err), file=sys.stderr)
                inst._run.lost += 1
                continue
            out.write(line.encode("utf-8") + b"\n")
            n += 1
    except EtlError as err:
        out.flush()
        print("%s: %s" % (args.source_name, err), file=sys.stderr)
        return _exit_code(err.status)
    out.flush()
    if state is not None and args.state:
        tmp = args.state + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(state)
        os.replace(tmp, args.state)
    print("%s: %d entities%s" % (args.source_name, n,
                                 ", %d lost" % inst.items_lost if inst.items_lost else ""),
          file=sys.stderr)
    return 1 if inst.items_lost else 0


def _test(inst, args):
    result = inst.test()
    for s in result:
        print("%s %s: %s" % (s.verdict, s.step, s.message))
    print("=> %s" % ("ok" if result.ok else result.status_name))
    return 0 if result.ok else _exit_code(result.status)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m etl_plugin",
                                 description="Run an <etl/plugin.h> source plugin.")
    ap.add_argument("command", choices=("run", "test"))
    ap.add_argument("plugin", help="the plugin's shared object (NAME.so)")
    ap.add_argument("--config", required=True, help="serviceConnection.config as JSON")
    ap.add_argument("--source-name", help="serviceName (default: the plugin's name)")
    ap.add_argument("--source-config", help="sourceConfig.config as JSON")
    ap.add_argument("--state", help="state file: read before, written after a complete run")
    args = ap.parse_args(argv)
    try:
        plugin = Plugin.load(os.path.abspath(args.plugin))
        config = _read_json_file(args.config)
        source_config = _read_json_file(args.source_config) if args.source_config else None
        state = None
        if args.state and os.path.exists(args.state):
            state = _read_json_file(args.state)
    except OSError as err:
        print("etl_plugin: %s" % err, file=sys.stderr)
        return 2
    except EtlError as err:
        print("etl_plugin: %s" % err, file=sys.stderr)
        return 2
    args.source_name = args.source_name or plugin.name
    try:
        with plugin.open(args.source_name, config, source_config, state,
                         on_diag=_on_diag(args.source_name)) as inst:
            return _run(inst, args) if args.command == "run" else _test(inst, args)
    except Cancelled:
        return 130
    except EtlError as err:
        print("%s: %s" % (args.source_name, err), file=sys.stderr)
        return _exit_code(err.status)


if __name__ == "__main__":
    sys.exit(main())
