/*
 * conf.h -- the Mode source's configuration: OpenMetadata's modeConnection
 * (serviceConnection.config) and DashboardServiceMetadataPipeline (sourceConfig.config),
 * plus this connector's own settings. Parsed and checked in open(), no network.
 * (Named conf.h, not config.h, because config.h is autoconf's header.)
 */
#ifndef MODE_CONF_H
#define MODE_CONF_H

#include <stdatomic.h>
#include <stddef.h>

#include "fetch.h"
#include "filter.h"

struct mode_config {
  char *host;                     /* scheme://host[:port], no trailing slash; owned */
  char *token;                    /* owned; never printed */
  char *secret;                   /* owned; never printed */
  char *workspace;                /* owned */
  /* Mode's Discovery API signature token (docs/mode.md): all three or none; owned, never
   * printed. With them the workspace is listed through /batch/ (discovery.h). */
  char *discovery_token, *discovery_key, *discovery_secret;
  int discovery_mint; /* discoveryMintToken: mint one per run with token/secret (mint.h) */
  /* discoveryChartFields (default 1): with batch, ask each query's charts for their fields;
   * 0 takes charts from batch alone (no fields, no description: docs/mode.md). */
  int discovery_chart_fields;
  int filter_custom;              /* filterQueryParam: 0 = all, 1 = custom */
  struct mode_filter dashboards;  /* on report names */
  struct mode_filter charts;      /* on chart titles */
  struct mode_filter data_models; /* on query and dataset names */
  struct mode_filter projects;    /* on collection names */
  int include_owners, include_data_models;
  int mark_deleted;        /* markDeletedDashboards: read by the sink; OpenMetadata's default */
  int mark_deleted_models; /* markDeletedDataModels, -1 when not given (follows the above) */
  int exclude_archived, exclude_personal, exclude_restricted;
  int incremental; /* skip reports whose listing stamp is unchanged (docs/mode.md) */
  char **db_service_prefixes; /* owned; lineageInformation.dbServicePrefixes */
  size_t n_db_service_prefixes;
  char **db_service_names; /* owned; older dbServiceNames */
  size_t n_db_service_names;
  char **ds_map_keys; /* owned; dataSourceServiceMap: Mode data source -> db service */
  char **ds_map_values;
  size_t n_ds_map;
  int allow_insecure_http;
  char *ca_bundle; /* owned or NULL */
  int concurrency;
  double rate; /* requests per second, 0 = unlimited */
  double burst;
  long connect_timeout_ms, timeout_ms;
  int low_speed_seconds;   /* no data for this long fails an attempt (it is retried) */
  double request_deadline; /* seconds from a request's first attempt; no retry after it */
  double max_retry_after;  /* longest pause a server may impose (Retry-After, X-RateLimit-Reset) */
  int max_attempts;
  long retry_budget;
  size_t max_body;
  int page_size, max_pages;
};

/* Reports a configuration warning (a snake_case key, an ignored key). */
typedef void (*mode_config_warn_fn)(void *ctx, const char *message);

/* Parses both documents (lengths in bytes; src may be NULL). On success fills *out (caller
 * frees with mode_config_free) and returns 0; otherwise returns -1 with a message naming the
 * key at fault in err. */
int mode_config_parse(const char *conn, size_t conn_len, const char *src, size_t src_len,
                      struct mode_config *out, mode_config_warn_fn warn, void *warn_ctx, char *err,
                      size_t errlen);
void mode_config_free(struct mode_config *c);
/* The database service for a Mode data source (matched by name, token or id, in that order),
 * or NULL when the map has none. */
const char *mode_config_mapped_service(const struct mode_config *c, const char *ds_name,
                                       const char *ds_token, const char *ds_id);

/* JSON Schema (draft 7) of serviceConnection.config, for the descriptor. */
extern const char mode_config_schema[];

/* The fetch settings cfg asks for, into *fo: credentials, TLS, timeouts, body caps, rate,
 * concurrency and retries, as a run uses them (the one place they are built; the connection
 * test then retries less). Strings are borrowed from cfg, which must outlive *fo; interrupt
 * may be NULL; no notice callback, and the retry jitter's seed is 0 (callers set their own). */
void mode_config_fetch_opts(const struct mode_config *cfg, const atomic_int *interrupt,
                            struct mode_fetch_opts *fo);

#endif
