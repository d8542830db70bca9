/*
 * entities.h -- builds the entity records of docs/entities.md with yajl_gen: the OpenMetadata
 * create requests for the service, charts, dashboards and data models; lineage edges; usage.
 * Also the naming rules: FQNs and the mapping of Mode chart types to OpenMetadata's enum.
 * Knows the model, not HTTP.
 */
#ifndef MODE_ENTITIES_H
#define MODE_ENTITIES_H

#include <stddef.h>

#include "model.h"

/* One entity ready to hand out; every member owned (kind is static text). */
struct mode_entity {
  const char *kind;
  char *id;
  char *json;
  size_t json_len;
  struct mode_entity *next;
};

void mode_entity_free(struct mode_entity *e);

/* Joins parts with '.', wrapping a part that contains '.' in double quotes (OpenMetadata's
 * FQN rule); a NULL part becomes "*" (unknown). Returns a new string or NULL on OOM. */
char *mode_fqn(const char *const *parts, size_t n);

/* A data model's FQN as OpenMetadata names it: "<service>.model.<name>", the name quoted when it
 * has a '.' (DashboardDataModelRepository.setFullyQualifiedName; the service is not quoted
 * there). Returns a new string or NULL on OOM. */
char *mode_model_fqn(const char *service, const char *name);

/* OpenMetadata's chartType for a Mode chart type ("table" -> "Table", unknown -> "Other"). */
const char *mode_chart_type(const char *mode_type);

/* Common inputs of the builders. */
struct mode_entity_ctx {
  const char *service; /* the source's serviceName */
  const char *host;    /* e.g. https://app.mode.com */
  const char *workspace;
  int include_owners;
};

struct mode_entity *mode_entity_service(const struct mode_entity_ctx *ctx);
/* owner may be NULL (no owners member). The chart's `query` member names its query (token),
 * that query's data model (model_fqn, NULL when no data model is emitted for it) and the fields
 * the chart shows (c->fields). */
struct mode_entity *mode_entity_chart(const struct mode_entity_ctx *ctx,
                                      const struct mode_report *r, const struct mode_chart *c,
                                      const struct mode_user *owner, const char *query_token,
                                      const char *model_fqn);
/* "succeeded" when the last run is also the last successful one, "failed" when it is not,
 * NULL when the report never ran (last_run_at NULL). */
const char *mode_last_run_state(const char *last_run_at, const char *last_success_at);
/* The dashboard's `extension` member carries the report's freshness (docs/entities.md). */
struct mode_entity *mode_entity_dashboard(const struct mode_entity_ctx *ctx,
                                          const struct mode_report *r, char *const *chart_fqns,
                                          size_t n_charts, char *const *model_fqns, size_t n_models,
                                          const struct mode_user *owner);
/* A data model named `name` (query or dataset token), without columns. */
struct mode_entity *mode_entity_datamodel(const struct mode_entity_ctx *ctx, const char *name,
                                          const char *display_name, const char *sql,
                                          const char *project);
/* A data model column (OpenMetadata's Column): data_type NULL is "UNKNOWN"; data_type_display
 * and a data_length of 0 are left out. */
struct mode_model_column {
  const char *name, *data_type, *data_type_display;
  int data_length;
};
/* mode_entity_datamodel with its columns (ordinalPosition 1..n in this order). */
struct mode_entity *mode_entity_datamodel_columns(const struct mode_entity_ctx *ctx,
                                                  const char *name, const char *display_name,
                                                  const char *sql, const char *project,
                                                  const struct mode_model_column *cols,
                                                  size_t n_cols);
/* A table end of lineage: parts may be NULL when unknown. */
struct mode_table_end {
  const char *service, *database, *schema, *name;
};
/* An edge; from_table is non-NULL when the from end is a table. */
struct mode_entity *mode_entity_lineage(const char *from_type, const char *from_fqn,
                                        const char *to_type, const char *to_fqn, const char *sql,
                                        const struct mode_table_end *from_table);
/* One entry of lineageDetails.columnsLineage (OpenMetadata's columnLineage): full column FQNs,
 * docs/entities.md. */
struct mode_column_edge {
  char *to_column;     /* "<to FQN>.<column>"; owned by whoever built it */
  char **from_columns; /* "<from FQN>.<column>" each */
  size_t n_from;
};
/* mode_entity_lineage with lineageDetails.columnsLineage (left out when n_cols is 0). */
struct mode_entity *mode_entity_lineage_columns(const char *from_type, const char *from_fqn,
                                                const char *to_type, const char *to_fqn,
                                                const char *sql,
                                                const struct mode_table_end *from_table,
                                                const struct mode_column_edge *cols,
                                                size_t n_cols);
struct mode_entity *mode_entity_usage(const struct mode_entity_ctx *ctx, const char *report_token,
                                      long count, const char *date);

#endif
