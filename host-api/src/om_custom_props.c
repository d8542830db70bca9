/*
 * om_custom_props.c -- defines the dashboard custom properties (see om_custom_props.h).
 *
 * OpenMetadata's TypeResource: GET /v1/metadata/types/name/dashboard?fields=customProperties
 * gives the dashboard type's id and its properties; GET /v1/metadata/types/name/{string,integer}
 * the property types' ids; PUT /v1/metadata/types/{dashboard id} with
 * {"name", "description", "propertyType": {"id", "type": "type"}} adds one property.
 */
#include "config.h"

#include "om_custom_props.h"

#include <etl/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "log.h"
#include "omrest_client.h"
#include "omrest_json.h"

/* The properties and their types; the names are the `extension` members the Mode plugin writes
 * (docs/entities.md). Timestamps stay Mode's ISO 8601 text: it sorts in time order and needs no
 * date format configured on the server. */
static const struct {
  const char *name, *type, *description;
} props[] = {
    {"createdAt", "string", "When the Mode report was created (ISO 8601)."},
    {"lastSavedAt", "string", "When the Mode report was last saved (ISO 8601)."},
    {"lastRunAt", "string", "When the Mode report last ran (ISO 8601)."},
    {"lastRunState", "string", "How the last run of the Mode report ended: succeeded or failed."},
    {"lastSuccessfulRunAt", "string", "When the Mode report last ran successfully (ISO 8601)."},
    {"scheduleCount", "integer", "How many schedules run the Mode report."},
    {"viewCount", "integer", "How many times the Mode report was viewed since it was created."},
    {"creator", "string", "The Mode username of the report's creator."},
};
enum { N_PROPS = sizeof props / sizeof props[0] };

enum cp_state { CP_UNTRIED, CP_DEFINED, CP_FAILED };

struct host_om_custom_props {
  bool wanted;
  enum cp_state state;
  bool noted; /* the "left out" line was logged */
};

/* One GET or PUT's answer, copied out of the callback. */
struct answer {
  long status;
  char *body;   /* owned */
  char *detail; /* owned: the transport error, if any */
};

static void on_answer(void *ctx, const struct host_om_response *r) {
  struct answer *a = ctx;
  a->status = r->status;
  a->body = r->body ? strndup(r->body, r->body_len) : NULL;
  a->detail = r->transport_error ? strdup(r->transport_error) : NULL;
}

static void answer_clear(struct answer *a) {
  free(a->body), free(a->detail);
  memset(a, 0, sizeof *a);
}

/* Sends one request and waits for it. Returns the parsed JSON answer of a 2xx (caller frees),
 * or NULL with why filled. */
static yajl_val call(struct host_om_client *client, const char *method, const char *path,
                     const char *body, char *why, size_t whylen) {
  struct answer a = {0};
  yajl_val v = NULL;
  if (host_om_client_add(client, method, path, body, on_answer, &a) != 0 ||
      host_om_client_run(client) != ETL_OK) {
    snprintf(why, whylen, "%s %s: %s", method, path, a.detail ? a.detail : "not sent");
  } else if (a.status < 200 || a.status > 299) {
    snprintf(why, whylen, "%s %s: HTTP %ld %.200s", method, path, a.status, a.body ? a.body : "");
  } else {
    char err[128];
    v = host_json_parse(a.body ? a.body : "", a.body ? strlen(a.body) : 0, err, sizeof err);
    if (!YAJL_IS_OBJECT(v)) {
      snprintf(why, whylen, "%s %s: the answer is not a JSON object", method, path);
      yajl_tree_free(v);
      v = NULL;
    }
  }
  answer_clear(&a);
  return v;
}

/* The id of property type `name` ("string"), copied into id; 0 or -1 with why. */
static int type_id(struct host_om_client *client, const char *name, char *id, size_t idlen,
                   char *why, size_t whylen) {
  char path[96];
  snprintf(path, sizeof path, "/v1/metadata/types/name/%s", name);
  yajl_val t = call(client, "GET", path, NULL, why, whylen);
  const char *v = host_json_str(t, "id");
  if (t && v)
    snprintf(id, idlen, "%s", v);
  else if (t)
    snprintf(why, whylen, "GET %s: no id in the answer", path);
  yajl_tree_free(t);
  return t && v ? 0 : -1;
}

/* The type name of the dashboard's existing property `name`, or NULL when it has none. */
static const char *existing_type(yajl_val dash, const char *name) {
  yajl_val list = host_json_get(dash, "customProperties");
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
    yajl_val p = list->u.array.values[i];
    const char *n = host_json_str(p, "name");
    if (n && strcmp(n, name) == 0) {
      const char *t = host_json_str(host_json_get(p, "propertyType"), "name");
      return t ? t : "";
    }
  }
  return NULL;
}

static char *property_body(size_t i, const char *ptype_id) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g)
    return NULL;
  yajl_gen_map_open(g);
  host_json_gen_str(g, "name");
  host_json_gen_str(g, props[i].name);
  host_json_gen_str(g, "description");
  host_json_gen_str(g, props[i].description);
  host_json_gen_str(g, "propertyType");
  yajl_gen_map_open(g);
  host_json_gen_str(g, "id");
  host_json_gen_str(g, ptype_id);
  host_json_gen_str(g, "type");
  host_json_gen_str(g, "type");
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  char *out = host_json_gen_take(g);
  yajl_gen_free(g);
  return out;
}

/* Defines every missing property. Returns 0, or -1 with why. */
static int define(struct host_om_client *client, char *why, size_t whylen) {
  char str_id[64] = "", int_id[64] = "", path[128];
  int rc = -1;
  yajl_val dash = call(client, "GET", "/v1/metadata/types/name/dashboard?fields=customProperties",
                       NULL, why, whylen);
  const char *dash_id = host_json_str(dash, "id");
  if (!dash || !dash_id) {
    if (dash)
      snprintf(why, whylen, "the dashboard type has no id");
    goto out;
  }
  if (type_id(client, "string", str_id, sizeof str_id, why, whylen) != 0 ||
      type_id(client, "integer", int_id, sizeof int_id, why, whylen) != 0)
    goto out;
  snprintf(path, sizeof path, "/v1/metadata/types/%s", dash_id);
  for (size_t i = 0; i < N_PROPS; i++) {
    const char *have = existing_type(dash, props[i].name);
    if (have && strcmp(have, props[i].type) == 0)
      continue;
    if (have) {
      snprintf(why, whylen,
               "the dashboard type already has a custom property %s of type %s, not %s",
               props[i].name, *have ? have : "?", props[i].type);
      goto out;
    }
    char *body = property_body(i, strcmp(props[i].type, "integer") == 0 ? int_id : str_id);
    yajl_val t = body ? call(client, "PUT", path, body, why, whylen) : NULL;
    free(body);
    if (!t)
      goto out;
    yajl_tree_free(t);
  }
  rc = 0;
out:
  yajl_tree_free(dash);
  return rc;
}

struct host_om_custom_props *host_om_custom_props_new(bool wanted) {
  struct host_om_custom_props *cp = calloc(1, sizeof *cp);
  if (cp)
    cp->wanted = wanted;
  return cp;
}

void host_om_custom_props_free(struct host_om_custom_props **cp) {
  if (!cp || !*cp)
    return;
  free(*cp);
  *cp = NULL;
}

bool host_om_custom_props_ready(struct host_om_custom_props *cp, struct host_om_client *client,
                                struct host_log *log, const char *source) {
  if (!cp->wanted) {
    if (!cp->noted)
      host_log_msg(log, ETL_SEV_INFO, source, NULL,
                   "dashboards' custom properties (lastRunAt, lastRunState, viewCount, ...) left "
                   "out: set sink.config.customProperties: true to define them on OpenMetadata's "
                   "dashboard type and send them");
    cp->noted = true;
    return false;
  }
  if (cp->state == CP_UNTRIED) {
    char why[512] = "";
    cp->state = define(client, why, sizeof why) == 0 ? CP_DEFINED : CP_FAILED;
    if (cp->state == CP_FAILED)
      host_log_msg(log, ETL_SEV_WARNING, source, "custom properties",
                   "could not define the dashboard custom properties (%s): dashboards are sent "
                   "without them",
                   why);
  }
  return cp->state == CP_DEFINED;
}
