/*
 * <etl/plugin.h> -- the whole contract between an ingestion host and a source plugin.
 *
 * A plugin is a shared object that exports exactly one symbol, its entry function
 * (ETL_PLUGIN_ENTRY_SYMBOL). The host calls it with its services table; the plugin returns a
 * pointer to its static, immutable descriptor. From then on the host drives the plugin only
 * through the descriptor's function pointers, and the plugin reaches the host only through the
 * services table. Neither side links against the other, so any host -- etlhost, a third party's
 * program, Python's ctypes -- can load any plugin with plain dlopen() and this header.
 *
 * Versioning. ETL_ABI_MAJOR changes only when a change breaks existing binaries; both sides
 * refuse a different major. ETL_ABI_MINOR grows when members are appended. Every struct here
 * starts with `size_t struct_size`, set by whoever fills the struct to sizeof() as it was
 * compiled; a reader uses a member only if ETL_HAS_MEMBER() says the struct is large enough.
 * Members are never reordered, removed or reused, and every struct ends on pointer alignment
 * (members are appended in pointer-sized slots) so that an older struct's tail padding can never
 * be mistaken for a newer member. The first three members of struct etl_plugin
 * and struct etl_host_services (struct_size, abi_major, abi_minor) are frozen across majors so
 * that a mismatch can always be reported with both version numbers.
 *
 * Memory. Neither side frees the other's memory. Strings passed into a call live only for that
 * call unless stated otherwise. Everything a plugin returns stays valid until the next call on
 * the same instance (or until close).
 *
 * Threads. One thread at a time drives an instance (open, test, next_entity, close). Separate
 * instances may be driven from separate threads at once, so plugins keep no mutable globals.
 * interrupt() is the only call allowed from another thread, concurrently with the driving one.
 * Services may be called from the thread driving the instance; cancelled() from any thread.
 *
 * Errors. Calls return an etl_status: ETL_OK, ETL_DONE, or a negative class that tells the host
 * what to do (fix the config, fix the credentials, retry later, give up). The human detail goes
 * through the diagnostics service before returning. A problem with one item is a diagnostic,
 * never a failed call: the stream goes on.
 *
 * See docs/abi.md for the rules at length and a worked example.
 */
#ifndef ETL_PLUGIN_H
#define ETL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ETL_ABI_MAJOR 1
#define ETL_ABI_MINOR 0

/* True when the struct pointed to by p, as filled by the other side, contains member m. */
#define ETL_HAS_MEMBER(p, type, m)                                                                 \
  ((p) != NULL && (p)->struct_size >= offsetof(type, m) + sizeof(((type *)0)->m))

/* ---- status codes ------------------------------------------------------------------------- */

typedef int etl_status;

#define ETL_OK 0                /* success */
#define ETL_DONE 1              /* next_entity: the stream is complete, no entity returned */
#define ETL_ERR_CONFIG (-1)     /* the configuration is wrong; retrying will not help */
#define ETL_ERR_AUTH (-2)       /* credentials refused or lacking permission */
#define ETL_ERR_TRANSIENT (-3)  /* the peer is unavailable or overloaded; try again later */
#define ETL_ERR_PROTOCOL (-4)   /* the peer answered with something that makes no sense */
#define ETL_ERR_NOMEM (-5)      /* out of memory */
#define ETL_ERR_CANCELLED (-6)  /* the host asked to stop (interrupt or cancelled()) */
#define ETL_ERR_UNSUPPORTED (-7) /* the operation is not offered by this plugin */
#define ETL_ERR_INTERNAL (-8)   /* a bug in the plugin */
#define ETL_ERR_CONNECT (-9)    /* the peer cannot be reached (DNS, refused, TLS) */

/* Statuses this header does not list. A host that receives a status it does not know (a negative
 * value not listed above, or a positive one other than ETL_DONE) treats it as ETL_ERR_INTERNAL:
 * the run failed and retrying is not known to help. A plugin returns only the statuses listed in
 * the header it was built against; a newer minor may add negative classes, which an older host
 * thus handles as a bug in the plugin, never as success. */

/* The header is C89 (and C++98) clean, so that any compiler can build a host or a plugin. */
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define ETL_INLINE static inline
#elif defined(__GNUC__)
#define ETL_INLINE static __inline__
#else
#define ETL_INLINE static
#endif

/* A short constant name for a status ("ETL_ERR_AUTH"); "ETL_ERR_UNKNOWN" for a status this
 * header does not list; never NULL. Header-only on purpose: a plugin must not need any host
 * symbol. */
ETL_INLINE const char *etl_status_name(etl_status s) {
  switch (s) {
  case ETL_OK: return "ETL_OK";
  case ETL_DONE: return "ETL_DONE";
  case ETL_ERR_CONFIG: return "ETL_ERR_CONFIG";
  case ETL_ERR_AUTH: return "ETL_ERR_AUTH";
  case ETL_ERR_TRANSIENT: return "ETL_ERR_TRANSIENT";
  case ETL_ERR_PROTOCOL: return "ETL_ERR_PROTOCOL";
  case ETL_ERR_NOMEM: return "ETL_ERR_NOMEM";
  case ETL_ERR_CANCELLED: return "ETL_ERR_CANCELLED";
  case ETL_ERR_UNSUPPORTED: return "ETL_ERR_UNSUPPORTED";
  case ETL_ERR_INTERNAL: return "ETL_ERR_INTERNAL";
  case ETL_ERR_CONNECT: return "ETL_ERR_CONNECT";
  default: return "ETL_ERR_UNKNOWN";
  }
}

/* ---- services the host offers ------------------------------------------------------------ */

/* Opaque handle of one source's run inside the host. The plugin receives it in open() and
 * passes it back to every service call; it attributes diagnostics and counters to that run. */
struct etl_run;

enum etl_severity {
  ETL_SEV_DEBUG = 0,
  ETL_SEV_INFO = 1,
  ETL_SEV_WARNING = 2, /* something to look at; no data was lost */
  ETL_SEV_ERROR = 3    /* something failed; see ETL_DIAG_ITEM_LOST */
};

/* Flags of a diagnostic. */
#define ETL_DIAG_ITEM_LOST 0x1u /* an item that exists was not delivered this run: the host
                                 * counts it as failed and must not treat its absence as a
                                 * deletion (the run is partial). */

enum etl_counter {
  ETL_COUNTER_REQUESTS = 0, /* requests sent to the peer (retries included) */
  ETL_COUNTER_RETRIES = 1,  /* of which retries */
  ETL_COUNTER_FILTERED = 2, /* items left out by the user's filters */
  ETL_COUNTER_BYTES = 3,    /* bytes received from the peer */
  ETL_COUNTER_THROTTLED = 4 /* responses telling us to slow down (HTTP 429) */
};

enum etl_test_verdict {
  ETL_TEST_PASS = 0,
  ETL_TEST_FAIL = 1,
  ETL_TEST_SKIP = 2 /* not run because an earlier step failed, or not applicable */
};

/*
 * The host's services. The minimum table: every host of major 1 passes at least the members up
 * to and including `diag` (struct_size >= ETL_HOST_SERVICES_MIN_SIZE), so a plugin may call
 * diag() unchecked once it has seen the same major. Every member after `diag` -- `count`,
 * `cancelled`, `test_step` and whatever later minors append -- is used only when
 * ETL_HAS_MEMBER(services, struct etl_host_services, member) says the host's table has it and the
 * pointer is not NULL; without it the plugin does without (no counters, no cancellation but
 * interrupt(), no test steps reported). A plugin calls no service at all, diag() included, of a
 * host whose abi_major differs from its own.
 */
struct etl_host_services {
  size_t struct_size; /* frozen */
  uint32_t abi_major; /* frozen: the host's ETL_ABI_MAJOR */
  uint32_t abi_minor; /* frozen: the host's ETL_ABI_MINOR */

  /* Reports a diagnostic. `item` names the thing at fault ("report 9d2da37fa91e") or is NULL
   * for the source as a whole; `message` says what happened and what to do. Both strings are
   * copied before returning. Messages must never contain secrets. */
  void (*diag)(struct etl_run *run, enum etl_severity severity, unsigned flags, const char *item,
               const char *message);

  /* Adds delta to one of the run's progress counters. */
  void (*count)(struct etl_run *run, enum etl_counter counter, int64_t delta);

  /* Non-zero once the host wants the run to stop (Ctrl-C, a deadline). Plugins check it in
   * long loops and return ETL_ERR_CANCELLED promptly. Callable from any thread. */
  int (*cancelled)(struct etl_run *run);

  /* During test() only: reports the verdict of one step of the connection test, in order.
   * `step` is a short name ("credentials"), `message` a sentence a user can act on. */
  void (*test_step)(struct etl_run *run, const char *step, enum etl_test_verdict verdict,
                    const char *message);
};

/* The smallest struct_size a host of major 1 passes: the frozen prefix and diag. */
#define ETL_HOST_SERVICES_MIN_SIZE                                                                 \
  (offsetof(struct etl_host_services, diag) + sizeof(((struct etl_host_services *)0)->diag))

/* ---- what a plugin hands out ------------------------------------------------------------- */

/*
 * One entity of the stream (docs/entities.md has the table at length).
 *
 * The envelope. `json` is a JSON object whose members become the record's top-level members
 * beside `kind`, `id` and `source` (the host adds `source`, the user's serviceName). It always
 * has `data`, the OpenMetadata create request of the kind where one exists; other members are
 * extras a sink may use (`owners`, `entity`, `fromTable`, below). The `file` sink writes one line
 * per entity, and the `jsonl` source replays exactly such lines:
 *
 *   {"kind": "<kind>", "id": "<id>", "source": "<serviceName>", "data": {...}, <extras>}
 *
 * `id` is stable across runs and unique per (source, kind): sinks upsert by (source, kind, id),
 * so delivering an entity twice is harmless. References to other entities travel by
 * fully-qualified name (FQN): a chart or dashboard `N` of service `S` is `S.N`, a data model
 * `S.model.N`; a name containing `.` is wrapped in double quotes. A sink that needs ids resolves
 * them. A kind a host does not know is written as it is by sinks that store records, and
 * skipped with a warning by sinks that cannot map it.
 *
 * The kinds, each with its id and the shape of its json:
 */
/* id: the service name.  {"data": CreateDashboardServiceRequest (no secrets)} */
#define ETL_KIND_DASHBOARD_SERVICE "dashboardService"
/* id: the chart's token.  {"data": CreateChartRequest {"name", "displayName", "chartType",
 * "sourceUrl", "description", "service"}, "owners": [...]} */
#define ETL_KIND_CHART "chart"
/* id: the report's token.  {"data": CreateDashboardRequest {"name", "displayName",
 * "description", "sourceUrl", "project", "charts": [FQN...], "dataModels": [FQN...],
 * "service"}, "owners": [{"type": "user", "name": N, "email": E or null}, ...]} */
#define ETL_KIND_DASHBOARD "dashboard"
/* id: the query's (or dataset's) token.  {"data": CreateDashboardDataModelRequest
 * {"dataModelType", "sql", "columns", ...}} */
#define ETL_KIND_DASHBOARD_DATA_MODEL "dashboardDataModel"
/* id: "<from FQN> -> <to FQN>".  {"data": {"fromEntity": {"type", "fullyQualifiedName"},
 * "toEntity": {...}, "lineageDetails": {"sqlQuery"?, "source"}}, "fromTable"?: {"service",
 * "database", "schema", "name"} (a part the SQL leaves unknown is null, and `*` in the FQN)} */
#define ETL_KIND_LINEAGE "lineage"
/* id: the report's token.  {"data": {"date": "YYYY-MM-DD", "count": N},
 * "entity": {"type": "dashboard", "fullyQualifiedName"}} (OpenMetadata's UsageRequest) */
#define ETL_KIND_USAGE "usage"
/* id: unique per run.  {"data": {"kind": K, "ids": [id, ...]}}: these entities of this source
 * still exist unchanged and were not sent again, so a complete run does not mark them deleted.
 * Without data.kind and data.ids (strings) it is an error, counted as a failed item. */
#define ETL_KIND_RETAIN "retain"
/* id: anything stable ("state").  The whole json is opaque: never sent to a sink; the host
 * stores it once every entity emitted before it is durably written, and hands it back to open()
 * as state_json on the next run. */
#define ETL_KIND_STATE "state"

/* Owned by the plugin; every pointer stays valid until the next call on the same instance. */
struct etl_entity {
  size_t struct_size;
  const char *kind; /* NUL-terminated ASCII: one of ETL_KIND_* above, or a kind of its own */
  const char *id;   /* NUL-terminated UTF-8; stable across runs, unique per (source, kind) */
  const char *json; /* UTF-8 JSON object, not necessarily NUL-terminated */
  size_t json_len;  /* bytes at json */
};

/* Arguments of open(). Owned by the host; valid only during the call: copy what you keep. */
struct etl_open_args {
  size_t struct_size;
  struct etl_run *run;               /* pass back to every service call; valid until close() */
  const struct etl_host_services *services; /* the table given to the entry function */
  const char *source_name;           /* the user's name for this source (serviceName) */
  const char *config_json;           /* serviceConnection.config as a JSON object */
  size_t config_json_len;
  const char *source_config_json;    /* sourceConfig.config as a JSON object ("{}" if none) */
  size_t source_config_json_len;
  const char *state_json;            /* last committed state, or NULL on a first run */
  size_t state_json_len;
};

/* ---- the descriptor ---------------------------------------------------------------------- */

/* A plugin's descriptor: static, immutable, owned by the plugin for as long as it is loaded. */
struct etl_plugin {
  size_t struct_size; /* frozen */
  uint32_t abi_major; /* frozen: the plugin's ETL_ABI_MAJOR */
  uint32_t abi_minor; /* frozen: the plugin's ETL_ABI_MINOR */

  const char *name;          /* the source `type` it serves ("mode"); [a-z0-9_-]+ */
  const char *version;       /* the plugin's own version ("1.2.0") */
  const char *description;   /* one line */
  const char *config_schema; /* JSON Schema (draft 7) of serviceConnection.config, as text */

  /* Checks the configuration and prepares an instance. Cheap: no network. On success stores a
   * new instance in *instance (owned by the host until passed to close). On failure reports why
   * through services->diag (naming the key at fault) and returns a negative status, typically
   * ETL_ERR_CONFIG; *instance is left NULL. */
  etl_status (*open)(const struct etl_open_args *args, void **instance);

  /* Tests the connection step by step, reporting each step through services->test_step.
   * Returns ETL_OK when every step passed, else the class of the first failure. May be NULL:
   * the host then reports that the plugin offers no test. */
  etl_status (*test)(void *instance);

  /* Produces the next entity into *out (owned by the plugin, valid until the next call on the
   * instance). Returns ETL_OK with an entity, ETL_DONE at the end (no entity), or a negative
   * status when the whole run cannot go on (auth, config, cancelled). Per-item problems are
   * diagnostics, not return values. After ETL_DONE or an error, further calls return the
   * same status. */
  etl_status (*next_entity)(void *instance, const struct etl_entity **out);

  /* Releases the instance and everything it owns. NULL-safe. */
  void (*close)(void *instance);

  /* Optional (may be NULL). Asks a running instance to stop soon; the driving call then
   * returns ETL_ERR_CANCELLED. Thread-safe and async-signal-safe in spirit: it only sets a
   * flag. May be called at most until close() starts. */
  void (*interrupt)(void *instance);
};

/* ---- the entry point --------------------------------------------------------------------- */

/* The single exported symbol. The host passes its services table (static for the life of the
 * loaded plugin); the plugin returns its descriptor, or NULL if it cannot run at all. The plugin
 * returns its descriptor even when services->abi_major differs from its own, so that the host can
 * name both versions; a host must refuse a descriptor whose abi_major differs from its own, and a
 * plugin must not call any service of a host whose major differs. */
typedef const struct etl_plugin *(*etl_plugin_entry_fn)(const struct etl_host_services *services);

#define ETL_PLUGIN_ENTRY_SYMBOL "etl_plugin_entry"

#if defined(_WIN32)
#define ETL_EXPORT __declspec(dllexport)
#else
#define ETL_EXPORT __attribute__((visibility("default")))
#endif

/* C linkage for the entry function, whatever language defines it. */
#ifdef __cplusplus
#define ETL_EXTERN_C extern "C"
#else
#define ETL_EXTERN_C
#endif

#ifndef ETL_PLUGIN_STATIC
/* The entry function, declared here inside extern "C": a definition in C++ (ETL_PLUGIN_DEFINE
 * in a .cpp file) inherits C linkage from this declaration and exports the plain, unmangled
 * name a host looks up. */
ETL_EXPORT const struct etl_plugin *etl_plugin_entry(const struct etl_host_services *services);
#endif

/* Defines the entry function of plugin NAME, in C or C++:
 *
 *   ETL_PLUGIN_DEFINE(mode)(const struct etl_host_services *services) { ... }
 *
 * Built normally it is the exported `etl_plugin_entry`. Built with -DETL_PLUGIN_STATIC (to link
 * several plugins into one program and preload them with libltdl's LTDL_SET_PRELOADED_SYMBOLS)
 * it becomes NAME_LTX_etl_plugin_entry, the name libltdl looks up for a preloaded module, so the
 * same source serves both ways without clashing symbols.
 *
 * Unloading. There is no unload hook, and none is needed: the host calls nothing of a plugin
 * after the last close(), and a plugin that sets up a library-wide resource (curl_global_init)
 * does it once per load, guarded (call_once), and undoes it in an ELF destructor, which dlclose()
 * runs. The entry function may be called more than once per load (each host that loads the
 * plugin, or a host asking again); it must be cheap and return the same descriptor. */
#ifdef ETL_PLUGIN_STATIC
#define ETL_PLUGIN_DEFINE(name)                                                                    \
  ETL_EXTERN_C const struct etl_plugin *name##_LTX_etl_plugin_entry(                               \
      const struct etl_host_services *);                                                           \
  ETL_EXTERN_C const struct etl_plugin *name##_LTX_etl_plugin_entry
#else
#define ETL_PLUGIN_DEFINE(name) ETL_EXTERN_C ETL_EXPORT const struct etl_plugin *etl_plugin_entry
#endif

#ifdef __cplusplus
}
#endif

#endif /* ETL_PLUGIN_H */
