/*
 * workflow.h -- the workflow file: YAML (libyaml) read into a small tree that remembers each
 * node's line, `${VAR}` / `${VAR:-default}` substituted from the environment, and checked
 * against OpenMetadata's workflow shape:
 *
 *   source:   {type, serviceName, serviceConnection: {config}, sourceConfig: {config}}
 *   sources:  [ <source>, ... ]          (several connectors in one run)
 *   sink:     {type, config}             (optional; the sqlite catalog by default)
 *   workflowConfig: {loggerLevel, openMetadataServerConfig, stateStore, ...}
 *
 * Every error names the file, the line and the key path:
 *   workflow.yaml:12: source.serviceConnection.config: expected a mapping
 */
#ifndef HOST_WORKFLOW_H
#define HOST_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>

struct host_log;

enum host_node_type { HOST_NODE_SCALAR, HOST_NODE_MAP, HOST_NODE_SEQ };

/* One YAML node. A tree of nodes is owned by its root (host_node_free). */
struct host_node {
  enum host_node_type type;
  int line;                /* 1-based line in the file */
  char *scalar;            /* SCALAR: the value after substitution (owned, NUL-terminated) */
  bool plain;              /* SCALAR: unquoted, so `true`, `12`, `null` are typed in JSON */
  size_t n;                /* MAP: pairs; SEQ: items */
  char **keys;             /* MAP: keys (owned) */
  struct host_node **kids; /* MAP: values; SEQ: items (owned) */
};

/* One source of the workflow. Every pointer borrows from the workflow's tree or strings. */
struct host_source_cfg {
  const char *type;                      /* selects the plugin */
  const char *name;                      /* serviceName */
  const struct host_node *connection;    /* serviceConnection.config (a MAP) */
  const struct host_node *source_config; /* sourceConfig.config, or NULL */
  int line;
  const struct host_node *node; /* the source's own mapping */
  const char *file;             /* the workflow's path, for messages */
  char keypath[32];             /* "source" or "sources[N]", for messages */
};

/* A loaded, validated workflow. Owned by the caller; free with host_workflow_free. */
struct host_workflow {
  char *path;                      /* as given on the command line (owned) */
  struct host_node *root;          /* the whole document (owned) */
  struct host_source_cfg *sources; /* owned array of n_sources */
  size_t n_sources;
  const char *sink_type;                   /* "sqlite" when the file has no sink */
  const struct host_node *sink_config;     /* sink.config or NULL */
  const struct host_node *workflow_config; /* workflowConfig or NULL */
  const char *state_store;  /* workflowConfig.stateStore, default "etlhost-state.db" */
  const char *logger_level; /* workflowConfig.loggerLevel or NULL */
  double fail_safe_threshold; /* workflowConfig.failSafeThreshold (percent), 0 when absent */
  int parallel_sources; /* workflowConfig.parallelSources; 0 when absent (the runner's default:
                         * as many as there are sources, at most HOST_DEFAULT_PARALLEL_SOURCES) */
  /* Set by OpenMetadata's scheduler: the ingestion pipeline this run reports to (or NULL), and
   * the run's id, a UUID (OpenMetadataWorkflowConfig.pipelineRunId, basic.json#uuid); when the
   * file has none, one is generated, as WorkflowStatusMixin.run_id does. */
  const char *ingestion_pipeline_fqn;
  char pipeline_run_id[37];
};

#define HOST_DEFAULT_STATE_STORE "etlhost-state.db"

/* workflowConfig.parallelSources: its bound, and the default when absent (capped by the number
 * of sources). Each source fetching at once holds a thread and a plugin instance. */
#define HOST_MAX_PARALLEL_SOURCES 64
#define HOST_DEFAULT_PARALLEL_SOURCES 4

/* Reads, substitutes and validates the workflow at path. On error logs one message per fault
 * (file:line: key.path: what is wrong) and returns -1; *out is then NULL. Every value whose key
 * looks secret (token, password, secret, jwt, key) is registered with host_log_add_secret
 * before anything else is logged. */
int host_workflow_load(const char *path, struct host_log *log, struct host_workflow **out);

void host_workflow_free(struct host_workflow **wf);

/* Parses YAML text into a tree with substitution but no workflow validation (for tests and
 * for tools). `name` prefixes error messages. Returns 0, or -1 after logging. */
int host_yaml_parse(const char *name, const char *text, size_t len, struct host_log *log,
                    struct host_node **out);

void host_node_free(struct host_node *node);

/* The line of the node at relpath ("serviceConnection.config.hostPort",
 * "sourceConfig.config.dashboardFilterPattern.includes[0]") under src's mapping: the deepest
 * node of the path that exists, so a missing key is placed at the mapping that lacks it.
 * Returns 0 when the source has no tree (a test's hand-made source). */
int host_source_line(const struct host_source_cfg *src, const char *relpath);

/* The value of key in a MAP node, or NULL. */
const struct host_node *host_node_get(const struct host_node *map, const char *key);

/* Emits node as JSON text (yaml_json.c). Scalars that are plain and look like null, a boolean
 * or a number become those; everything else is a string. NULL node gives "{}". Returns a
 * malloc'd NUL-terminated string (caller frees) and its length, or NULL on OOM. */
char *host_node_to_json(const struct host_node *node, size_t *len);

#endif
