"""etl_plugin -- load and drive <etl/plugin.h> source plugins from Python (ctypes, stdlib only).

    from etl_plugin import Plugin

    plugin = Plugin.load("/usr/lib/etlhost/plugins/mode.so")
    with plugin.open("mode_prod", {"hostPort": ..., "accessToken": ...}) as inst:
        for step in inst.test():
            print(step.step, step.verdict, step.message)
        for e in inst.entities():
            print(e.kind, e.id, e.data)

This module is a host like etlhost (docs/abi.md, docs/python.md): it fills the services table
with Python callbacks, checks the descriptor the way etlhost does, copies every entity out of
the plugin's memory before the next call, and writes the `file` sink's JSON Lines byte for byte
(Entity.record_line). interrupt() may be called from any thread; Ctrl-C stops a run through the
plugin's cancelled() and interrupt().
"""

import ctypes
import json
import re
import signal
import threading
from collections import namedtuple

__all__ = [
    "ABI_MAJOR", "ABI_MINOR", "Plugin", "Instance", "Entity", "TestStep", "TestResult",
    "EtlError", "Cancelled", "Diagnostic", "status_name",
]

ABI_MAJOR = 1
ABI_MINOR = 0

OK, DONE = 0, 1
ERR_CONFIG, ERR_AUTH, ERR_TRANSIENT, ERR_PROTOCOL = -1, -2, -3, -4
ERR_NOMEM, ERR_CANCELLED, ERR_UNSUPPORTED, ERR_INTERNAL, ERR_CONNECT = -5, -6, -7, -8, -9

_STATUS_NAMES = {
    OK: "ETL_OK", DONE: "ETL_DONE", ERR_CONFIG: "ETL_ERR_CONFIG", ERR_AUTH: "ETL_ERR_AUTH",
    ERR_TRANSIENT: "ETL_ERR_TRANSIENT", ERR_PROTOCOL: "ETL_ERR_PROTOCOL",
    ERR_NOMEM: "ETL_ERR_NOMEM", ERR_CANCELLED: "ETL_ERR_CANCELLED",
    ERR_UNSUPPORTED: "ETL_ERR_UNSUPPORTED", ERR_INTERNAL: "ETL_ERR_INTERNAL",
    ERR_CONNECT: "ETL_ERR_CONNECT",
}

SEVERITIES = ("debug", "info", "warning", "error")
VERDICTS = ("PASS", "FAIL", "SKIP")
COUNTERS = ("requests", "retries", "filtered", "bytes", "throttled")
DIAG_ITEM_LOST = 0x1


def status_name(status):
    """The header's name of a status ("ETL_ERR_AUTH"); "ETL_ERR_UNKNOWN" if it lists none."""
    return _STATUS_NAMES.get(status, "ETL_ERR_UNKNOWN")


def _known(status):
    # plugin.h: a status the header does not list is ETL_ERR_INTERNAL.
    return status if status in _STATUS_NAMES else ERR_INTERNAL


class EtlError(Exception):
    """A call failed with a negative status; .status, .name, and .diagnostics (the error ones
    reported by the plugin during the call)."""

    def __init__(self, status, what, diagnostics=()):
        self.status = status
        self.name = status_name(status)
        self.diagnostics = list(diagnostics)
        detail = "; ".join(d.message for d in self.diagnostics if d.severity == "error")
        super().__init__("%s: %s%s" % (what, self.name, ": " + detail if detail else ""))


class Cancelled(EtlError):
    """The plugin stopped because it was interrupted or cancelled (ETL_ERR_CANCELLED)."""


# ---- the C structs (plugin.h), in declaration order ------------------------------------------

_RunP = ctypes.c_void_p  # struct etl_run *: here the id of a _RunState
_DIAG = ctypes.CFUNCTYPE(None, _RunP, ctypes.c_int, ctypes.c_uint, ctypes.c_char_p,
                         ctypes.c_char_p)
_COUNT = ctypes.CFUNCTYPE(None, _RunP, ctypes.c_int, ctypes.c_int64)
_CANCELLED = ctypes.CFUNCTYPE(ctypes.c_int, _RunP)
_TEST_STEP = ctypes.CFUNCTYPE(None, _RunP, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)


class _Services(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("abi_major", ctypes.c_uint32),
                ("abi_minor", ctypes.c_uint32), ("diag", _DIAG), ("count", _COUNT),
                ("cancelled", _CANCELLED), ("test_step", _TEST_STEP)]


class _Entity(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("kind", ctypes.c_char_p),
                ("id", ctypes.c_char_p), ("json", ctypes.c_void_p), ("json_len", ctypes.c_size_t)]


class _OpenArgs(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("run", _RunP),
                ("services", ctypes.POINTER(_Services)), ("source_name", ctypes.c_char_p),
                ("config_json", ctypes.c_char_p), ("config_json_len", ctypes.c_size_t),
                ("source_config_json", ctypes.c_char_p),
                ("source_config_json_len", ctypes.c_size_t), ("state_json", ctypes.c_char_p),
                ("state_json_len", ctypes.c_size_t)]


_OPEN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_OpenArgs), ctypes.POINTER(ctypes.c_void_p))
_TEST = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
_NEXT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(_Entity)))
_CLOSE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_INTERRUPT = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class _Descriptor(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("abi_major", ctypes.c_uint32),
                ("abi_minor", ctypes.c_uint32), ("name", ctypes.c_char_p),
                ("version", ctypes.c_char_p), ("description", ctypes.c_char_p),
                ("config_schema", ctypes.c_char_p), ("open", _OPEN), ("test", _TEST),
                ("next_entity", _NEXT), ("close", _CLOSE), ("interrupt", _INTERRUPT)]


def _has(struct_size, cls, member):
    """ETL_HAS_MEMBER for a struct the other side filled."""
    field = getattr(cls, member)
    return struct_size >= field.offset + field.size


# ---- runs and their services -------------------------------------------------------------

Diagnostic = namedtuple("Diagnostic", "severity lost item message")
TestStep = namedtuple("TestStep", "step verdict message")


class _RunState:
    """What the services record for one instance (the etl_run behind the opaque pointer)."""

    def __init__(self, on_diag):
        self.on_diag = on_diag
        self.diagnostics = []  # of the current call
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.steps = []
        self.cancel = threading.Event()
        self.lost = 0


_runs = {}  # id -> _RunState; the plugin passes the id back as its struct etl_run *
_runs_lock = threading.Lock()
_next_run = [1]


def _run_of(run):
    with _runs_lock:
        return _runs.get(run or 0)


def _text(b):
    return b.decode("utf-8", "replace") if b is not None else None


@_DIAG
def _svc_diag(run, severity, flags, item, message):
    r = _run_of(run)
    if r is None:
        return
    sev = SEVERITIES[severity] if 0 <= severity < len(SEVERITIES) else "error"
    d = Diagnostic(sev, bool(flags & DIAG_ITEM_LOST), _text(item), _text(message) or "")
    if d.lost:
        r.lost += 1
    r.diagnostics.append(d)
    if r.on_diag:
        r.on_diag(d)


@_COUNT
def _svc_count(run, counter, delta):
    r = _run_of(run)
    if r is not None and 0 <= counter < len(COUNTERS):
        r.counters[COUNTERS[counter]] += delta


@_CANCELLED
def _svc_cancelled(run):
    r = _run_of(run)
    return 1 if r is not None and r.cancel.is_set() else 0


@_TEST_STEP
def _svc_test_step(run, step, verdict, message):
    r = _run_of(run)
    if r is not None:
        v = VERDICTS[verdict] if 0 <= verdict < len(VERDICTS) else "FAIL"
        r.steps.append(TestStep(_text(step), v, _text(message) or ""))


# Static for the life of the module, as the header asks of a services table.
_SERVICES = _Services(ctypes.sizeof(_Services), ABI_MAJOR, ABI_MINOR, _svc_diag, _svc_count,
                      _svc_cancelled, _svc_test_step)


# ---- the file sink's line, as etlhost writes it -------------------------------------------

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_WS = re.compile(r"[ \t\n\r]*")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}


def _encode_string(s):
    """A JSON string as yajl_gen writes it: only quote, backslash and controls escaped."""
    out = []
    for ch in s:
        e = _ESCAPES.get(ch)
        if e is None and ord(ch) < 0x20:
            e = "\\u%04X" % ord(ch)
        out.append(e if e is not None else ch)
    return '"' + "".join(out) + '"'


class _Reemit:
    """Re-emits JSON text compactly, numbers verbatim, strings re-escaped as yajl_gen does:
    the same bytes etlhost's file sink writes for the same entity."""

    def __init__(self, text):
        self.s = text
        self.i = 0
        self.out = []

    def ws(self):
        self.i = _WS.match(self.s, self.i).end()

    def value(self):
        self.ws()
        c = self.s[self.i:self.i + 1]
        if c == "{":
            self.container("{", "}", True)
        elif c == "[":
            self.container("[", "]", False)
        elif c == '"':
            self.out.append(_encode_string(self.string()))
        else:
            for lit in ("true", "false", "null"):
                if self.s.startswith(lit, self.i):
                    self.out.append(lit)
                    self.i += len(lit)
                    return
            m = _NUMBER.match(self.s, self.i)
            if not m or m.end() == self.i:
                raise ValueError("not JSON at offset %d" % self.i)
            self.out.append(m.group())
            self.i = m.end()

    def string(self):
        s, self.i = json.decoder.scanstring(self.s, self.i + 1, True)
        return s

    def container(self, open_, close, is_map):
        self.out.append(open_)
        self.i += 1
        self.ws()
        if self.s[self.i:self.i + 1] == close:
            self.i += 1
            self.out.append(close)
            return
        while True:
            if is_map:
                self.ws()
                if self.s[self.i:self.i + 1] != '"':
                    raise ValueError("expected a key at offset %d" % self.i)
                self.out.append(_encode_string(self.string()))
                self.ws()
                if self.s[self.i:self.i + 1] != ":":
                    raise ValueError("expected ':' at offset %d" % self.i)
                self.i += 1
                self.out.append(":")
            self.value()
            self.ws()
            c = self.s[self.i:self.i + 1]
            self.i += 1
            if c == close:
                self.out.append(close)
                return
            if c != ",":
                raise ValueError("expected ',' or '%s' at offset %d" % (close, self.i - 1))
            self.out.append(",")


def _members_text(json_text):
    """The members of a JSON object re-emitted ('"a":1,"b":2'), without the braces."""
    r = _Reemit(json_text)
    r.ws()
    if r.s[r.i:r.i + 1] != "{":
        raise ValueError("entity json is not an object")
    r.value()
    r.ws()
    if r.i != len(r.s):
        raise ValueError("text after the entity's JSON object")
    return "".join(r.out)[1:-1]


# ---- entities --------------------------------------------------------------------------

class Entity:
    """One entity, copied out of the plugin: .kind, .id, .data, .extras (the other top-level
    members, also readable as attributes: e.owners) and .json (the text the plugin gave)."""

    __slots__ = ("kind", "id", "json", "_doc")

    def __init__(self, kind, id, json_text):
        self.kind = kind
        self.id = id
        self.json = json_text
        self._doc = None

    def _parsed(self):
        if self._doc is None:
            self._doc = json.loads(self.json)
        return self._doc

    @property
    def data(self):
        """`data`; for a `state` entity, the whole opaque document."""
        doc = self._parsed()
        return doc if self.kind == "state" else doc.get("data")

    @property
    def extras(self):
        return {k: v for k, v in self._parsed().items() if k != "data"}

    def __getattr__(self, name):
        try:
            return self.extras[name]
        except KeyError:
            raise AttributeError(name) from None

    def record_line(self, source):
        """The `file` sink's line for this entity (no newline), byte for byte as etlhost's:
        {"kind":K,"id":I,"source":S,<the entity's members>}."""
        members = _members_text(self.json)
        for reserved in ("kind", "id", "source"):
            if reserved in self._parsed():
                raise ValueError('entity json has a top-level member "%s", which the record '
                                 "itself sets" % reserved)
        head = '{"kind":%s,"id":%s,"source":%s' % (
            _encode_string(self.kind), _encode_string(self.id), _encode_string(source))
        return head + ("," + members if members else "") + "}"

    def __repr__(self):
        return "Entity(kind=%r, id=%r)" % (self.kind, self.id)


class TestResult(list):
    """The steps of a connection test, in order, with .status (an ETL_* int) and .ok."""

    def __init__(self, steps, status):
        super().__init__(steps)
        self.status = status
        self.status_name = status_name(status)
        self.ok = status == OK and all(s.verdict != "FAIL" for s in steps)


# ---- plugins and instances -------------------------------------------------------------

class Plugin:
    """A loaded plugin. Plugin.load(path) dlopens it and checks its descriptor."""

    def __init__(self, path, lib, desc):
        self.path = path
        self._lib = lib  # keeps the object loaded
        self._desc = desc
        self.name = _text(desc.name)
        self.version = _text(desc.version)
        self.description = _text(desc.description)
        self.abi = (desc.abi_major, desc.abi_minor)
        schema = desc.config_schema
        self.config_schema = json.loads(schema.decode("utf-8")) if schema else None

    @classmethod
    def load(cls, path):
        try:
            lib = ctypes.CDLL(path, mode=getattr(ctypes, "RTLD_LOCAL", 0))
        except OSError as e:
            raise EtlError(ERR_CONFIG, "%s: cannot load: %s" % (path, e)) from None
        try:
            entry = lib.etl_plugin_entry
        except AttributeError:
            raise EtlError(ERR_CONFIG, "%s: no etl_plugin_entry symbol (a C++ plugin must use "
                           "ETL_PLUGIN_DEFINE with <etl/plugin.h>)" % path) from None
        entry.restype = ctypes.POINTER(_Descriptor)
        entry.argtypes = [ctypes.POINTER(_Services)]
        p = entry(ctypes.byref(_SERVICES))
        if not p:
            raise EtlError(ERR_INTERNAL, "%s: the entry function returned NULL" % path)
        return cls(path, lib, cls._check(path, p))

    @staticmethod
    def _check(path, p):
        # The frozen prefix first, then the major, then ABI 1.0's mandatory members.
        prefix = _Descriptor.abi_minor.offset + _Descriptor.abi_minor.size
        raw = ctypes.cast(p, ctypes.POINTER(ctypes.c_size_t))
        if raw[0] < prefix:
            raise EtlError(ERR_INTERNAL, "%s: descriptor smaller than its frozen prefix" % path)
        d = p.contents
        if d.abi_major != ABI_MAJOR:
            raise EtlError(ERR_UNSUPPORTED, "%s: plugin ABI %d.%d is not compatible with this "
                           "host's ABI %d.%d" % (path, d.abi_major, d.abi_minor, ABI_MAJOR,
                                                 ABI_MINOR))
        if not _has(d.struct_size, _Descriptor, "close"):
            raise EtlError(ERR_INTERNAL, "%s: descriptor too small for ABI 1.0" % path)
        if not d.name or not d.open or not d.next_entity or not d.close:
            raise EtlError(ERR_INTERNAL, "%s: descriptor lacks name, open, next_entity or "
                           "close" % path)
        return d

    def open(self, source_name, config, source_config=None, state=None, on_diag=None):
        """Opens an instance (a context manager). config is serviceConnection.config (a dict,
        or JSON text), source_config sourceConfig.config, state the text of the last state
        entity or None. on_diag(Diagnostic) is called for each diagnostic as it comes."""
        return Instance(self, source_name, config, source_config, state, on_diag)


def _json_bytes(v, default):
    if v is None:
        v = default
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    if isinstance(v, str):
        return v.encode("utf-8")
    return json.dumps(v).encode("utf-8")


class Instance:
    """An open instance of a plugin. One thread drives it; interrupt() from any thread."""

    def __init__(self, plugin, source_name, config, source_config, state, on_diag):
        self.plugin = plugin
        self.source_name = source_name
        self._run = _RunState(on_diag)
        with _runs_lock:
            self._run_id = _next_run[0]
            _next_run[0] += 1
            _runs[self._run_id] = self._run
        self._handle = ctypes.c_void_p()
        self._closed = False
        name = source_name.encode("utf-8")
        cfg = _json_bytes(config, {})
        sc = _json_bytes(source_config, {})
        st = _json_bytes(state, None) if state is not None else None
        args = _OpenArgs(ctypes.sizeof(_OpenArgs), self._run_id, ctypes.pointer(_SERVICES), name,
                         cfg, len(cfg), sc, len(sc), st, len(st) if st is not None else 0)
        status = self._call(plugin._desc.open, ctypes.byref(args), ctypes.byref(self._handle))
        if status != OK:
            self._forget()
            raise EtlError(_known(status) if status != DONE else ERR_INTERNAL,
                           "%s: open" % plugin.name, self._run.diagnostics)

    def _call(self, fn, *args):
        self._run.diagnostics = []
        return fn(*args)

    @property
    def counters(self):
        return dict(self._run.counters)

    @property
    def items_lost(self):
        return self._run.lost

    def test(self):
        """Runs the plugin's connection test; returns a TestResult (a list of TestStep)."""
        self._run.steps = []
        if not self.plugin._desc.test:
            return TestResult([TestStep("connection", "SKIP", "the plugin offers no connection "
                                        "test")], OK)
        status = _known(self._call(self.plugin._desc.test, self._handle))
        return TestResult(self._run.steps, status)

    def entities(self):
        """Yields every Entity until the stream ends; raises Cancelled or EtlError on a
        failure. Each entity is copied before the next call on the instance."""
        out = ctypes.POINTER(_Entity)()
        while True:
            status = self._call(self.plugin._desc.next_entity, self._handle, ctypes.byref(out))
            if status == DONE:
                return
            if status != OK:
                status = _known(status)
                cls = Cancelled if status == ERR_CANCELLED else EtlError
                raise cls(status, "%s: next_entity" % self.plugin.name, self._run.diagnostics)
            e = out.contents
            yield Entity(_text(e.kind), _text(e.id),
                         ctypes.string_at(e.json, e.json_len).decode("utf-8"))

    def interrupt(self):
        """Asks the running call to stop: cancelled() turns true and the plugin's interrupt()
        (if it has one) is called. Safe from any thread and from a signal handler."""
        self._run.cancel.set()
        d = self.plugin._desc
        if not self._closed and _has(d.struct_size, _Descriptor, "interrupt") and d.interrupt:
            d.interrupt(self._handle)

    def close(self):
        if not self._closed:
            self._closed = True
            self.plugin._desc.close(self._handle)
            self._forget()

    def _forget(self):
        self._closed = True
        with _runs_lock:
            _runs.pop(self._run_id, None)

    def __enter__(self):
        self._old_sigint = None
        if threading.current_thread() is threading.main_thread():
            # Ctrl-C: Python runs this handler the next time the plugin calls back (cancelled()
            # is polled by every in-tree plugin), and it interrupts the instance.
            try:
                self._old_sigint = signal.signal(signal.SIGINT, self._on_sigint)
            except ValueError:
                self._old_sigint = None
        return self

    def _on_sigint(self, signum, frame):
        self.interrupt()

    def __exit__(self, *exc):
        if self._old_sigint is not None:
            signal.signal(signal.SIGINT, self._old_sigint)
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
