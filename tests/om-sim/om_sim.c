/*
 * om-sim -- a small stand-in for OpenMetadata's REST API, for the metadata-rest sink's tests.
 *
 * It serves just what the sink uses, under /api/v1 (so a sink's hostPort is
 * http://127.0.0.1:PORT/api):
 *   PUT  /services/dashboardServices, /charts, /dashboard/datamodels, /dashboards  (upsert)
 *   GET  /<those>/name/{fqn}, /tables/name/{fqn}, /users/name/{name}
 *   GET  /<those>/{id} (EntityResource.get; columns of tables and data models shown)
 *   GET  /search/query?q=...&index=table_search_index|user_search_index|...
 *   PUT  /<collection>/restore  (undo a soft delete)
 *   PUT  /lineage; PUT /usage/{type}/name/{fqn} (adds to the day's count), POST (replaces it)
 *   GET  /dashboards?service=S&limit=N&after=C (and /dashboard/datamodels), paged
 *   DELETE /<collection>/{id}  (soft delete)
 *   GET  /system/version (no JWT needed, as on the real server), /users/loggedInUser
 *   GET  /metadata/types/name/{name}[?fields=customProperties] (the dashboard entity type and
 *        the field types string, integer); PUT /metadata/types/{id} (a custom property of the
 *        dashboard type); a dashboard's `extension` may only hold those properties
 * and for the tests: GET /__sim/store (everything stored, sorted, as JSON), /__sim/stats,
 * /__sim/seed?type=table|user|ingestionPipeline&fqn=F (an entity created elsewhere), and
 * /__sim/faults?spec=SPEC (more faults from now on, as --faults: a server that starts refusing).
 *   GET  /services/ingestionPipelines/name/{fqn}; PUT /services/ingestionPipelines/{fqn}/
 *   pipelineStatus (a run's status; /__sim/store lists them under pipelineStatuses).
 *
 * Ids are UUID-shaped hashes of (type, FQN), so two simulators fed the same entities hold equal
 * stores whatever the order or the faults. It is strict, as OpenMetadata's server is: every
 * rule below cites the server class it comes from, and docs/om-sim.md lists them with what is
 * not modelled. References must exist (404): a create request's service, owners, domains and
 * tags, a chart's dashboards, a dashboard's charts and data models, lineage ends and usage
 * targets. Names follow entityName (400), FQNs are built as the server builds them (a data
 * model is <service>.model.<name>), and a PUT that changes nothing moves no version.
 * Faults (--faults "5xx=0.2,429=0.1,reject-kind=chart,reject-name=NAME", --seed N) are drawn
 * before a request is applied, so a failed request never half-happens. A hostile front
 * (--faults reply=html|brace|empty|redirect) answers every /api request with a 200 login page,
 * a 200 "{", an empty 200 or a 302 to /login. --faults search=any makes a search return every
 * entity of its index, as a loose full-text match can: the client must check the hits.
 * --faults cursor=repeat gives every listing page an `after` cursor that names the same page
 * again, as a broken server paging forever would.
 *
 * Usage: om-sim [--port N] [--jwt TOKEN] [--faults SPEC] [--seed N] [--seed-tables FILE]
 *               [--seed-users FILE] [--seed-pipelines FILE] [--bodies FILE]
 *               [--tls-cert FILE --tls-key FILE]
 * --seed-tables: one table FQN per line, optionally followed by a space and its column names,
 * comma-separated (GET /__sim/seed: &columns=a,b). --seed-users: "name email" per line.
 * --seed-pipelines: one ingestion pipeline FQN per line.
 * --bodies: every PUT body as a JSON line {"kind": K, "data": body} for validate.py.
 * --tls-cert/--tls-key: a PEM certificate and its key; then it serves HTTPS only.
 * Prints "listening on http://127.0.0.1:PORT" (https:// with TLS) first; stops on SIGTERM or
 * SIGINT.
 */
#include "config.h"

#include "omrest_json.h"
#include "omrest_map.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_UPLOAD (8u * 1024u * 1024u)

struct entity {
  char *type;    /* owned: dashboardService, chart, dashboardDataModel, dashboard, table, user */
  char *fqn;     /* owned */
  char *name;    /* owned: the name it was created with; NULL if seeded */
  char *id;      /* owned */
  char *service; /* owned, may be NULL */
  char *email;   /* owned, users only */
  char *body;    /* owned: canonical JSON of the last accepted request body ("{}" if seeded) */
  int version;
  bool deleted;
};

struct edge {
  char *from_id, *to_id, *from_type, *to_type; /* owned */
  char *details;                               /* owned JSON or NULL */
};

struct usage {
  char *type, *fqn, *date; /* owned */
  long long count;
};

/* One run's status of an ingestion pipeline, as IngestionPipelineRepository.addPipelineStatus
 * keeps it: one record per (pipeline, runId), replaced by each PUT of that runId. `states`
 * is om-sim's own: every pipelineState the run was given, in order, for the tests. */
struct pipeline_status {
  char *fqn, *run_id; /* owned */
  char *body;         /* owned: the last accepted PipelineStatus */
  char states[256];   /* "running,success" */
};

/* A custom property of the dashboard type (TypeRepository.addCustomProperty). */
struct custom_prop {
  char *name, *type; /* owned: "viewCount", "integer" */
};

struct sim {
  struct custom_prop *props; /* the dashboard type's custom properties */
  size_t n_props, cap_props;
  unsigned long type_puts;
  struct pipeline_status *pstatuses;
  size_t n_pstatuses, cap_pstatuses;
  struct entity *ents;
  size_t n_ents, cap_ents;
  struct host_om_map *by_key; /* "type:fqn" -> index */
  struct host_om_map *by_id;  /* id -> index */
  struct edge *edges;
  size_t n_edges, cap_edges;
  struct usage *usages;
  size_t n_usages, cap_usages;
  const char *jwt;
  double p5xx, p429;
  char *reject_kind, *reject_name;
  char *hostile;   /* owned: "html", "brace", "empty" or "redirect": every /api answer is that */
  bool search_any; /* --faults search=any: a search returns every entity of its index */
  bool cursor_repeat; /* --faults cursor=repeat: a listing page's `after` names that page */
  unsigned int seed;
  FILE *bodies;
  unsigned long requests, puts, gets, deletes, auth_failures, f5xx, f429, rejects, s2xx, s4xx;
};

/* What the PUT collections are called in the API and in validate.py. */
static const struct {
  const char *path;
  const char *type;
} collections[] = {
    {"services/dashboardServices", "dashboardService"},
    {"charts", "chart"},
    {"dashboard/datamodels", "dashboardDataModel"},
    {"dashboards", "dashboard"},
    {"tables", "table"},
    {"users", "user"},
};

static const char *type_of_collection(const char *path, size_t len) {
  for (size_t i = 0; i < sizeof collections / sizeof collections[0]; i++)
    if (strlen(collections[i].path) == len && strncmp(collections[i].path, path, len) == 0)
      return collections[i].type;
  return NULL;
}

/* Makes room for one more element in a growing array (aborts on OOM: a test tool). */
static void *grow(void *v, size_t n, size_t *cap, size_t size) {
  if (n < *cap)
    return v;
  *cap = *cap ? 2 * *cap : 64;
  v = realloc(v, *cap * size);
  if (!v)
    abort();
  return v;
}

/* ---- store -------------------------------------------------------------------------------- */

static void make_id(const char *type, const char *fqn, char out[37]) {
  uint64_t h1 = 1469598103934665603ull, h2 = 0x9e3779b97f4a7c15ull;
  for (const char *p = type; *p; p++)
    h1 = (h1 ^ (unsigned char)*p) * 1099511628211ull;
  h1 = (h1 ^ ':') * 1099511628211ull;
  for (const char *p = fqn; *p; p++) {
    h1 = (h1 ^ (unsigned char)*p) * 1099511628211ull;
    h2 = (h2 ^ (unsigned char)*p) * 0x100000001b3ull + (h1 >> 29);
  }
  snprintf(out, 37, "%08x-%04x-5%03x-%04x-%012llx", (unsigned)(h1 >> 32),
           (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff,
           (unsigned)(0x8000 | ((h2 >> 48) & 0x3fff)),
           (unsigned long long)(h2 & 0xffffffffffffull));
}

static struct entity *find_entity(struct sim *s, const char *type, const char *fqn) {
  char *key = NULL;
  if (asprintf(&key, "%s:%s", type, fqn) < 0)
    return NULL;
  const char *i = host_om_map_get(s->by_key, key);
  free(key);
  return i ? &s->ents[strtoul(i, NULL, 10)] : NULL;
}

static struct entity *find_by_id(struct sim *s, const char *id) {
  const char *i = id ? host_om_map_get(s->by_id, id) : NULL;
  return i ? &s->ents[strtoul(i, NULL, 10)] : NULL;
}

static struct entity *add_entity(struct sim *s, const char *type, const char *fqn) {
  s->ents = grow(s->ents, s->n_ents, &s->cap_ents, sizeof *s->ents);
  struct entity *e = &s->ents[s->n_ents];
  memset(e, 0, sizeof *e);
  char id[37], idx[32], *key = NULL;
  make_id(type, fqn, id);
  e->type = strdup(type);
  e->fqn = strdup(fqn);
  e->id = strdup(id);
  e->body = strdup("{}");
  snprintf(idx, sizeof idx, "%zu", s->n_ents);
  if (asprintf(&key, "%s:%s", type, fqn) < 0 || !e->type || !e->fqn || !e->id || !e->body)
    abort();
  host_om_map_set(s->by_key, key, idx);
  host_om_map_set(s->by_id, id, idx);
  free(key);
  s->n_ents++;
  return e;
}

static void free_sim(struct sim *s) {
  for (size_t i = 0; i < s->n_props; i++)
    free(s->props[i].name), free(s->props[i].type);
  free(s->props);
  for (size_t i = 0; i < s->n_ents; i++) {
    struct entity *e = &s->ents[i];
    free(e->type), free(e->fqn), free(e->name), free(e->id), free(e->service), free(e->email),
        free(e->body);
  }
  free(s->ents);
  for (size_t i = 0; i < s->n_edges; i++) {
    struct edge *e = &s->edges[i];
    free(e->from_id), free(e->to_id), free(e->from_type), free(e->to_type), free(e->details);
  }
  free(s->edges);
  for (size_t i = 0; i < s->n_usages; i++)
    free(s->usages[i].type), free(s->usages[i].fqn), free(s->usages[i].date);
  free(s->usages);
  for (size_t i = 0; i < s->n_pstatuses; i++)
    free(s->pstatuses[i].fqn), free(s->pstatuses[i].run_id), free(s->pstatuses[i].body);
  free(s->pstatuses);
  host_om_map_free(&s->by_key);
  host_om_map_free(&s->by_id);
  free(s->reject_kind);
  free(s->reject_name);
  free(s->hostile);
  if (s->bodies)
    fclose(s->bodies);
}

/* ---- responses ---------------------------------------------------------------------------- */

struct reply {
  unsigned int status;
  char *body; /* owned */
};

/* Every answer with a body ends here: the document built in g becomes r's body, and g is
 * freed. */
static void reply_gen(struct reply *r, unsigned int status, yajl_gen g) {
  r->status = status;
  r->body = host_json_gen_take(g);
  yajl_gen_free(g);
}

/* A fixed answer: the JSON text json, copied. */
static void reply_text(struct reply *r, unsigned int status, const char *json) {
  r->status = status;
  if (!(r->body = strdup(json)))
    abort();
}

static void reply_msg(struct reply *r, unsigned int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_msg(struct reply *r, unsigned int status, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  host_json_gen_str(g, "code");
  yajl_gen_integer(g, status);
  host_json_gen_str(g, "message");
  host_json_gen_str(g, msg);
  yajl_gen_map_close(g);
  reply_gen(r, status, g);
}

/* LineageResource.addLineage answers "Response.status(Status.OK).build()": no body at all. */
static void reply_empty(struct reply *r, unsigned int status) { reply_text(r, status, ""); }

/* The entity as the server shows it: its request body plus what the server assigns. */
static void gen_entity(yajl_gen g, const struct entity *e) {
  char err[64];
  yajl_val body = host_json_parse(e->body, strlen(e->body), err, sizeof err);
  yajl_gen_map_open(g);
  for (size_t i = 0; YAJL_IS_OBJECT(body) && i < body->u.object.len; i++) {
    const char *k = body->u.object.keys[i];
    if (strcmp(k, "id") == 0 || strcmp(k, "fullyQualifiedName") == 0 || strcmp(k, "deleted") == 0)
      continue;
    host_json_gen_str(g, k);
    host_json_gen_value(g, body->u.object.values[i]);
  }
  host_json_gen_str(g, "id");
  host_json_gen_str(g, e->id);
  if (!host_json_get(body, "name")) { /* seeded: the last part of the FQN */
    const char *dot = strrchr(e->fqn, '.');
    host_json_gen_str(g, "name");
    host_json_gen_str(g, dot ? dot + 1 : e->fqn);
  }
  host_json_gen_str(g, "fullyQualifiedName");
  host_json_gen_str(g, e->fqn);
  if (e->email) {
    host_json_gen_str(g, "email");
    host_json_gen_str(g, e->email);
  }
  char version[32];
  int vlen = snprintf(version, sizeof version, "%d.%d", e->version / 10, e->version % 10);
  host_json_gen_str(g, "version");
  yajl_gen_number(g, version, (size_t)vlen);
  host_json_gen_str(g, "deleted");
  yajl_gen_bool(g, e->deleted);
  yajl_gen_map_close(g);
  yajl_tree_free(body);
}

static void reply_entity(struct reply *r, unsigned int status, const struct entity *e) {
  yajl_gen g = yajl_gen_alloc(NULL);
  gen_entity(g, e);
  reply_gen(r, status, g);
}

/* ---- handlers ----------------------------------------------------------------------------- */

/* FullyQualifiedName.quoteName: a name with a '.' is wrapped in double quotes; a name already
 * quoted ("a.b") stays as it is, and one quoted without a '.' ("ab") loses its quotes. Any
 * other '"' makes the name invalid: NULL (the server answers 400 "Invalid name <name>",
 * CatalogExceptionMessage.invalidName). */
static char *fqn_quote(const char *part) {
  size_t n = strlen(part);
  char *out = NULL;
  if (n >= 2 && part[0] == '"' && part[n - 1] == '"' && !memchr(part + 1, '"', n - 2)) {
    if (n == 2)
      return NULL; /* namePattern wants at least one character between the quotes */
    if (memchr(part + 1, '.', n - 2))
      return strdup(part);
    return strndup(part + 1, n - 2);
  }
  if (strchr(part, '"'))
    return NULL;
  if (asprintf(&out, strchr(part, '.') ? "\"%s\"" : "%s", part) < 0)
    abort();
  return out;
}

/* The length of UTF-8 text in UTF-16 code units, as Java's String.length() counts it. */
static size_t java_length(const char *text) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++)
    if ((*p & 0xC0) != 0x80)
      n += *p >= 0xF0 ? 2 : 1; /* a 4-byte sequence is a surrogate pair */
  return n;
}

/* entityName in type/basic.json: minLength 1, maxLength 256, pattern "^((?!::).)*$". Java's
 * '.' matches no line terminator, so a name with \n, \r, U+0085, U+2028 or U+2029 fails the
 * pattern too. Bean Validation's messages, as the server's ConstraintViolationExceptionMapper
 * returns them: "[name size must be between 1 and 256]", "[name must match "..."]". */
static bool name_valid(struct reply *r, const char *name) {
  size_t len = java_length(name);
  if (len < 1 || len > 256) {
    reply_msg(r, 400, "[name size must be between 1 and 256]");
    return false;
  }
  if (strstr(name, "::") || strpbrk(name, "\n\r") || strstr(name, "\xC2\x85") ||
      strstr(name, "\xE2\x80\xA8") || strstr(name, "\xE2\x80\xA9")) {
    reply_msg(r, 400, "[name must match \"^((?!::).)*$\"]");
    return false;
  }
  return true;
}

static void log_body(struct sim *s, const char *kind, yajl_val body) {
  if (!s->bodies)
    return;
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  host_json_gen_str(g, "kind");
  host_json_gen_str(g, kind);
  host_json_gen_str(g, "data");
  host_json_gen_value(g, body);
  yajl_gen_map_close(g);
  char *line = host_json_gen_take(g);
  fprintf(s->bodies, "%s\n", line);
  fflush(s->bodies);
  free(line);
  yajl_gen_free(g);
}

/* EntityUtil.getEntityReferences(type, fqns): every FQN in body[member] must name an entity of
 * `type` that is not deleted (Include.NON_DELETED), else EntityNotFoundException: 404
 * "<type> instance for <fqn> not found" (CatalogExceptionMessage.entityNotFound). */
static bool refs_exist(struct sim *s, struct reply *r, yajl_val body, const char *member,
                       const char *type) {
  yajl_val list = host_json_get(body, member);
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
    const char *fqn = YAJL_GET_STRING(list->u.array.values[i]);
    struct entity *e = fqn ? find_entity(s, type, fqn) : NULL;
    if (!e || e->deleted) {
      reply_msg(r, 404, "%s instance for %s not found", type, fqn ? fqn : "(not a string)");
      return false;
    }
  }
  return true;
}

/* EntityMapper.copy -> EntityRepository.validateOwners: each owner is looked up by its id and
 * type (a user or a team): 404 "<type> instance for <id> not found". */
static bool owners_exist(struct sim *s, struct reply *r, yajl_val body) {
  yajl_val owners = host_json_get(body, "owners");
  for (size_t i = 0; YAJL_IS_ARRAY(owners) && i < owners->u.array.len; i++) {
    const char *id = host_json_str(owners->u.array.values[i], "id");
    const char *type = host_json_str(owners->u.array.values[i], "type");
    struct entity *u = find_by_id(s, id);
    if (!u || u->deleted || !type || strcmp(u->type, type) != 0) {
      reply_msg(r, 404, "%s instance for %s not found", type ? type : "user", id ? id : "null");
      return false;
    }
  }
  return true;
}

/* Domains (EntityMapper.copy: getEntityReferences(Entity.DOMAIN, create.getDomains()), or the
 * older single "domain") and tags (TagLabelUtil: a Classification tag or a glossary term by its
 * tagFQN). om-sim holds no domains, tags or glossaries, so any of them is refused as the server
 * refuses an unknown one. */
static bool domains_and_tags_exist(struct reply *r, yajl_val body) {
  const char *domain = host_json_str(body, "domain");
  yajl_val domains = host_json_get(body, "domains");
  if (domain || (YAJL_IS_ARRAY(domains) && domains->u.array.len > 0)) {
    const char *fqn = domain ? domain : YAJL_GET_STRING(domains->u.array.values[0]);
    reply_msg(r, 404, "domain instance for %s not found", fqn ? fqn : "(not a string)");
    return false;
  }
  yajl_val tags = host_json_get(body, "tags");
  if (YAJL_IS_ARRAY(tags) && tags->u.array.len > 0) {
    yajl_val t = tags->u.array.values[0];
    const char *source = host_json_str(t, "source");
    const char *fqn = host_json_str(t, "tagFQN");
    reply_msg(r, 404, "%s instance for %s not found",
              source && strcmp(source, "Glossary") == 0 ? "glossaryTerm" : "tag",
              fqn ? fqn : "null");
    return false;
  }
  return true;
}

/* The FQN the server gives an entity of `type` named `name` in service `service_fqn`:
 *   services                  quoteName(name)                   (EntityRepository)
 *   charts, dashboards        service FQN + "." + quoteName(name) (ChartRepository,
 *                             DashboardRepository.setFullyQualifiedName: FullyQualifiedName.add)
 *   dashboard data models     service NAME + ".model." + quoteName(name)
 *                             (DashboardDataModelRepository.setFullyQualifiedName; note the
 *                             service name is not quoted there)
 * NULL when the name cannot be quoted. */
static char *entity_fqn(struct sim *s, const char *type, const char *name,
                        const char *service_fqn) {
  char *q = fqn_quote(name), *fqn = NULL;
  if (!q)
    return NULL;
  if (strcmp(type, "dashboardService") == 0)
    return q;
  const char *service_name = service_fqn;
  struct entity *svc = find_entity(s, "dashboardService", service_fqn);
  if (svc && svc->name)
    service_name = svc->name;
  int rc = strcmp(type, "dashboardDataModel") == 0 ? asprintf(&fqn, "%s.model.%s", service_name, q)
                                                   : asprintf(&fqn, "%s.%s", service_fqn, q);
  if (rc < 0)
    abort();
  free(q);
  return fqn;
}

/* Checks a create request the way the server's resource, mapper and repository do, in their
 * order: Bean Validation of the request (400), the mapper's references (404), the FQN (400). */
static char *check_create(struct sim *s, struct reply *r, const char *type, yajl_val body) {
  const char *name = host_json_str(body, "name");
  const char *service = host_json_str(body, "service");
  bool is_service = strcmp(type, "dashboardService") == 0;
  if (!name) {
    reply_msg(r, 400, "[name must not be null]");
    return NULL;
  }
  if (!name_valid(r, name))
    return NULL;
  if (!is_service && !service) {
    reply_msg(r, 400, "[service must not be null]");
    return NULL;
  }
  if (!owners_exist(s, r, body) || !domains_and_tags_exist(r, body))
    return NULL;
  /* ChartMapper, DashboardMapper, DashboardDataModelMapper: the service by FQN, not deleted. */
  struct entity *svc = is_service ? NULL : find_entity(s, "dashboardService", service);
  if (!is_service && (!svc || svc->deleted)) {
    reply_msg(r, 404, "dashboardService instance for %s not found", service);
    return NULL;
  }
  /* ChartMapper: getEntityReferences(Entity.DASHBOARD, create.getDashboards());
   * DashboardMapper: Entity.CHART for charts, Entity.DASHBOARD_DATA_MODEL for dataModels. */
  if (strcmp(type, "chart") == 0 && !refs_exist(s, r, body, "dashboards", "dashboard"))
    return NULL;
  if (strcmp(type, "dashboard") == 0 &&
      (!refs_exist(s, r, body, "charts", "chart") ||
       !refs_exist(s, r, body, "dataModels", "dashboardDataModel")))
    return NULL;
  char *fqn = entity_fqn(s, type, name, service);
  if (!fqn)
    reply_msg(r, 400, "Invalid name %s", name);
  return fqn;
}

/* ---- entity types and custom properties ---------------------------------------------------
 * TypeResource: GET /v1/metadata/types/name/{name} answers a Type (`category` "entity" for an
 * entity type, "field" for a property type) and, with fields=customProperties, the entity
 * type's properties as {"name", "description", "propertyType": {"id", "type": "type", "name"}};
 * PUT /v1/metadata/types/{id} with a CustomProperty adds it (or replaces the one of that name). */
static const char *const field_types[] = {"string", "integer", "markdown", "timestamp"};

static const char *field_type_of_id(const char *id) {
  for (size_t i = 0; id && i < sizeof field_types / sizeof field_types[0]; i++) {
    char fid[37];
    make_id("type", field_types[i], fid);
    if (strcmp(fid, id) == 0)
      return field_types[i];
  }
  return NULL;
}

static const struct custom_prop *find_prop(const struct sim *s, const char *name) {
  for (size_t i = 0; i < s->n_props; i++)
    if (strcmp(s->props[i].name, name) == 0)
      return &s->props[i];
  return NULL;
}

static void reply_type(struct sim *s, struct reply *r, const char *name, bool with_props) {
  bool field = false;
  for (size_t i = 0; i < sizeof field_types / sizeof field_types[0]; i++)
    field |= strcmp(field_types[i], name) == 0;
  if (!field && strcmp(name, "dashboard") != 0) {
    reply_msg(r, 404, "type instance for %s not found", name);
    return;
  }
  char id[37];
  make_id("type", name, id);
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  host_json_gen_str(g, "id");
  host_json_gen_str(g, id);
  host_json_gen_str(g, "name");
  host_json_gen_str(g, name);
  host_json_gen_str(g, "fullyQualifiedName");
  host_json_gen_str(g, name);
  host_json_gen_str(g, "category");
  host_json_gen_str(g, field ? "field" : "entity");
  if (!field && with_props) {
    host_json_gen_str(g, "customProperties");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < s->n_props; i++) {
      char pid[37];
      make_id("type", s->props[i].type, pid);
      yajl_gen_map_open(g);
      host_json_gen_str(g, "name");
      host_json_gen_str(g, s->props[i].name);
      host_json_gen_str(g, "propertyType");
      yajl_gen_map_open(g);
      host_json_gen_str(g, "id");
      host_json_gen_str(g, pid);
      host_json_gen_str(g, "type");
      host_json_gen_str(g, "type");
      host_json_gen_str(g, "name");
      host_json_gen_str(g, s->props[i].type);
      yajl_gen_map_close(g);
      yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
  }
  yajl_gen_map_close(g);
  reply_gen(r, 200, g);
}

static void put_custom_property(struct sim *s, struct reply *r, const char *type_id,
                                yajl_val body) {
  char dash[37];
  make_id("type", "dashboard", dash);
  const char *name = host_json_str(body, "name");
  const char *ptype = field_type_of_id(host_json_str(host_json_get(body, "propertyType"), "id"));
  if (strcmp(type_id, dash) != 0) {
    reply_msg(r, 404, "type instance for %s not found", type_id);
    return;
  }
  if (!name || !*name || !ptype) {
    reply_msg(r, 400, "[name must not be null, propertyType must name a property type]");
    return;
  }
  s->type_puts++;
  struct custom_prop *p = (struct custom_prop *)find_prop(s, name);
  if (!p) {
    s->props = grow(s->props, s->n_props + 1, &s->cap_props, sizeof *s->props);
    p = &s->props[s->n_props++];
    p->name = strdup(name);
    p->type = NULL;
  }
  free(p->type);
  p->type = strdup(ptype);
  reply_type(s, r, "dashboard", true);
}

/* CustomPropertyValidator.validateField (EntityRepository.validateExtension before it): every
 * member of an entity's `extension` must be a custom property of its type ("Unknown custom
 * field %s", CatalogExceptionMessage.unknownCustomField), and its value must match the
 * property type's schema. Only dashboards have custom properties here. */
static bool extension_valid(struct sim *s, struct reply *r, const char *type, yajl_val body) {
  yajl_val ext = host_json_get(body, "extension");
  if (!ext || YAJL_IS_NULL(ext))
    return true;
  for (size_t i = 0; YAJL_IS_OBJECT(ext) && i < ext->u.object.len; i++) {
    const char *k = ext->u.object.keys[i];
    yajl_val v = ext->u.object.values[i];
    const struct custom_prop *p = strcmp(type, "dashboard") == 0 ? find_prop(s, k) : NULL;
    if (!p) {
      reply_msg(r, 400, "Unknown custom field %s", k);
      return false;
    }
    bool ok = strcmp(p->type, "integer") == 0 || strcmp(p->type, "timestamp") == 0
                  ? YAJL_IS_INTEGER(v)
                  : YAJL_IS_STRING(v);
    if (!ok) {
      reply_msg(r, 400, "Custom field %s has invalid JSON [$: %s expected]", k, p->type);
      return false;
    }
  }
  return true;
}

static void put_entity(struct sim *s, struct reply *r, const char *type, yajl_val body) {
  const char *name = host_json_str(body, "name");
  const char *service = host_json_str(body, "service");
  if (!extension_valid(s, r, type, body))
    return;
  char *fqn = check_create(s, r, type, body);
  if (!fqn)
    return;
  if ((s->reject_kind && strcmp(s->reject_kind, type) == 0) ||
      (s->reject_name && strcmp(s->reject_name, name) == 0)) {
    s->rejects++;
    reply_msg(r, 400, "om-sim refused %s %s (injected reject)", type, name);
    free(fqn);
    return;
  }
  yajl_gen g = yajl_gen_alloc(NULL);
  host_json_gen_value(g, body);
  char *canon = host_json_gen_take(g);
  yajl_gen_free(g);
  struct entity *e = find_entity(s, type, fqn);
  unsigned int status = 200;
  if (!e) {
    e = add_entity(s, type, fqn);
    e->service = service ? strdup(service) : NULL;
    e->name = strdup(name);
    status = 201;
  }
  /* EntityRepository.createOrUpdate: an update that changes nothing keeps the version
   * ("entityNoChange"); a change or a restore moves it by 0.1. */
  if (strcmp(e->body, canon) != 0 || e->deleted) {
    free(e->body);
    e->body = canon;
    canon = NULL;
    e->version++;
    e->deleted = false;
  }
  free(canon);
  free(fqn);
  reply_entity(r, status, e);
}

/* PUT /v1/<collection>/restore {"id": ...} (EntityResource.restoreEntity): a soft-deleted entity
 * comes back; 404 when there is no such entity of that type. */
static void restore_entity(struct sim *s, struct reply *r, const char *type, yajl_val body) {
  const char *id = host_json_str(body, "id");
  struct entity *e = find_by_id(s, id);
  if (!e || strcmp(e->type, type) != 0) {
    reply_msg(r, 404, "%s instance for %s not found", type, id ? id : "null");
    return;
  }
  if (e->deleted) {
    e->deleted = false;
    e->version++;
  }
  reply_entity(r, 200, e);
}

/* LineageRepository.addLineage: each end by Entity.getEntityReferenceById(type, id,
 * NON_DELETED): 404 "<type> instance for <id> not found" when there is no such entity of that
 * type or it is deleted. */
static struct entity *lineage_end(struct sim *s, struct reply *r, yajl_val end) {
  const char *id = host_json_str(end, "id"), *type = host_json_str(end, "type");
  if (!id || !type) {
    reply_msg(r, 400, "[edge.%s must not be null]", !id ? "id" : "type");
    return NULL;
  }
  struct entity *e = find_by_id(s, id);
  if (!e || e->deleted || strcmp(e->type, type) != 0) {
    reply_msg(r, 404, "%s instance for %s not found", type, id);
    return NULL;
  }
  return e;
}

/* Whether `col` is the FQN of one of e's columns: ColumnUtil.setColumnFQN names a column
 * FullyQualifiedName.add(<entity FQN>, <name>) (quoted when the name has a '.'), and
 * validateColumnFQN compares FQNs exactly (String.equals: case counts). */
static bool has_column(const struct entity *e, const char *col) {
  char err[64];
  yajl_val body = host_json_parse(e->body, strlen(e->body), err, sizeof err);
  yajl_val cols = host_json_get(body, "columns");
  bool found = false;
  for (size_t i = 0; !found && YAJL_IS_ARRAY(cols) && i < cols->u.array.len; i++) {
    const char *name = host_json_str(cols->u.array.values[i], "name");
    char *q = name ? fqn_quote(name) : NULL, *fqn = NULL;
    if (q && asprintf(&fqn, "%s.%s", e->fqn, q) < 0)
      abort();
    found = fqn && strcmp(fqn, col) == 0;
    free(fqn);
    free(q);
  }
  yajl_tree_free(body);
  return found;
}

/* LineageRepository.validateLineageDetails (validateChildren -> ColumnUtil.validateColumnFQN,
 * OpenMetadata 1.2 to 1.5): every fromColumn must be a column of the from entity and every
 * toColumn one of the to entity, else 400 CatalogExceptionMessage.invalidColumnFQN. Newer
 * servers drop such a column without a word (below, in docs/om-sim.md); refusing it is what
 * makes a test see that the sink sent one. Returns false after replying. */
static bool valid_columns_lineage(struct reply *r, const struct entity *f, const struct entity *t,
                                  yajl_val details) {
  yajl_val list = host_json_get(details, "columnsLineage");
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
    yajl_val cl = list->u.array.values[i], from = host_json_get(cl, "fromColumns");
    const char *to = host_json_str(cl, "toColumn");
    for (size_t j = 0; YAJL_IS_ARRAY(from) && j < from->u.array.len; j++) {
      const char *col = YAJL_GET_STRING(from->u.array.values[j]);
      if (!col || !has_column(f, col)) {
        reply_msg(r, 400, "Invalid fully qualified column name %s", col ? col : "null");
        return false;
      }
    }
    if (to && !has_column(t, to)) {
      reply_msg(r, 400, "Invalid fully qualified column name %s", to);
      return false;
    }
  }
  return true;
}

static void put_lineage(struct sim *s, struct reply *r, yajl_val body) {
  yajl_val edge = host_json_get(body, "edge");
  if (!YAJL_IS_OBJECT(edge)) {
    reply_msg(r, 400, "[edge must not be null]");
    return;
  }
  struct entity *f = lineage_end(s, r, host_json_get(edge, "fromEntity"));
  struct entity *t = f ? lineage_end(s, r, host_json_get(edge, "toEntity")) : NULL;
  if (!f || !t || !valid_columns_lineage(r, f, t, host_json_get(edge, "lineageDetails")))
    return;
  char *details = NULL;
  yajl_val d = host_json_get(edge, "lineageDetails");
  if (d) {
    yajl_gen g = yajl_gen_alloc(NULL);
    host_json_gen_value(g, d);
    details = host_json_gen_take(g);
    yajl_gen_free(g);
  }
  for (size_t i = 0; i < s->n_edges; i++)
    if (strcmp(s->edges[i].from_id, f->id) == 0 && strcmp(s->edges[i].to_id, t->id) == 0) {
      free(s->edges[i].details);
      s->edges[i].details = details;
      reply_empty(r, 200);
      return;
    }
  s->edges = grow(s->edges, s->n_edges, &s->cap_edges, sizeof *s->edges);
  s->edges[s->n_edges++] =
      (struct edge){strdup(f->id), strdup(t->id), strdup(f->type), strdup(t->type), details};
  reply_empty(r, 200);
}

/* A date as type/basic.json's "date" (format: date) and the usage table's DATE column take it:
 * YYYY-MM-DD naming a real day. */
static bool valid_date(const char *d) {
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (!d || strlen(d) != 10 || d[4] != '-' || d[7] != '-')
    return false;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
      return false;
  int y = atoi(d), m = atoi(d + 5), day = atoi(d + 8);
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m >= 1 && m <= 12 && day >= 1 && day <= (m == 2 && !leap ? 28 : mdays[m - 1]);
}

/* UsageResource: PUT /usage/{entity}/name/{fqn} is createOrUpdateByName, whose
 * CollectionDAO.UsageDAO.insertOrUpdateCount ADDS the count to the day's count ("count1 =
 * count1 + :count1"); POST is createByName, whose insertOrReplaceCount REPLACES it. Either way
 * UsageRepository first resolves the entity (getEntityReferenceByName, NON_DELETED: 404), and
 * only table, dashboard, chart, pipeline and mlmodel take usage. DailyCount wants a date and a
 * count >= 0 (400). */
static void put_usage(struct sim *s, struct reply *r, const char *type, const char *fqn,
                      yajl_val body, bool replace) {
  struct entity *e = find_entity(s, type, fqn);
  const char *date = host_json_str(body, "date");
  yajl_val count = host_json_get(body, "count");
  if (!date || !YAJL_IS_INTEGER(count)) {
    reply_msg(r, 400, "[%s must not be null]", !date ? "date" : "count");
    return;
  }
  if (count->u.number.i < 0) {
    reply_msg(r, 400, "[count must be greater than or equal to 0]");
    return;
  }
  if (!valid_date(date)) {
    reply_msg(r, 400, "usage date '%s' is not a date (YYYY-MM-DD)", date);
    return;
  }
  if (!e || e->deleted) {
    reply_msg(r, 404, "%s instance for %s not found", type, fqn);
    return;
  }
  static const char *const usage_types[] = {"table", "dashboard", "chart", "pipeline", "mlmodel"};
  bool supported = false;
  for (size_t i = 0; i < sizeof usage_types / sizeof usage_types[0]; i++)
    supported = supported || strcmp(type, usage_types[i]) == 0;
  if (!supported) {
    reply_msg(r, 500, "Entity type %s not supported", type);
    return;
  }
  for (size_t i = 0; i < s->n_usages; i++)
    if (strcmp(s->usages[i].fqn, fqn) == 0 && strcmp(s->usages[i].date, date) == 0 &&
        strcmp(s->usages[i].type, type) == 0) {
      s->usages[i].count = replace ? count->u.number.i : s->usages[i].count + count->u.number.i;
      reply_msg(r, 201, "usage updated");
      return;
    }
  s->usages = grow(s->usages, s->n_usages, &s->cap_usages, sizeof *s->usages);
  s->usages[s->n_usages++] =
      (struct usage){strdup(type), strdup(fqn), strdup(date), count->u.number.i};
  reply_msg(r, 201, "usage added");
}

/* Undoes the query_string escaping the sink applies ("\." -> "."), keeping '*' and '?' as
 * wildcards, and strips surrounding double quotes. */
static char *unescape_query(const char *q) {
  char *out = strdup(q), *w = out;
  for (const char *p = q; *p; p++) {
    if (*p == '\\' && p[1])
      p++;
    *w++ = *p;
  }
  *w = '\0';
  size_t n = strlen(out);
  if (n >= 2 && out[0] == '"' && out[n - 1] == '"') {
    memmove(out, out + 1, n - 2);
    out[n - 2] = '\0';
  }
  return out;
}

static void search(struct sim *s, struct reply *r, const char *q, const char *index) {
  const char *type = !index                                         ? NULL
                     : strcmp(index, "table_search_index") == 0     ? "table"
                     : strcmp(index, "user_search_index") == 0      ? "user"
                     : strcmp(index, "dashboard_search_index") == 0 ? "dashboard"
                     : strcmp(index, "chart_search_index") == 0     ? "chart"
                     : strcmp(index, "dashboard_data_model_search_index") == 0
                         ? "dashboardDataModel"
                         : NULL;
  const char *colon = q ? strchr(q, ':') : NULL;
  if (!type || !colon) {
    reply_msg(r, 400, "unsupported search: q=%s index=%s", q ? q : "", index ? index : "");
    return;
  }
  bool by_email = strncmp(q, "email", 5) == 0;
  char *pattern = unescape_query(colon + 1);
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  host_json_gen_str(g, "hits");
  yajl_gen_map_open(g);
  host_json_gen_str(g, "hits");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < s->n_ents; i++) {
    struct entity *e = &s->ents[i];
    if (e->deleted || strcmp(e->type, type) != 0)
      continue;
    bool hit = s->search_any ? true
               : by_email    ? (e->email && strcasecmp(e->email, pattern) == 0)
                             : fnmatch(pattern, e->fqn, FNM_NOESCAPE) == 0;
    if (!hit)
      continue;
    yajl_gen_map_open(g);
    host_json_gen_str(g, "_id");
    host_json_gen_str(g, e->id);
    host_json_gen_str(g, "_source");
    gen_entity(g, e);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  reply_gen(r, 200, g);
  free(pattern);
}

/* Whether a listing of `type` (of one service, when service is not NULL) shows e. */
static bool listed(const struct entity *e, const char *type, const char *service) {
  return !e->deleted && strcmp(e->type, type) == 0 &&
         (!service || (e->service && strcmp(e->service, service) == 0));
}

static void list(struct sim *s, struct reply *r, const char *type, const char *service,
                 const char *limit_s, const char *after_s) {
  long limit = limit_s ? strtol(limit_s, NULL, 10) : 10;
  size_t start = after_s ? strtoul(after_s, NULL, 10) : 0;
  if (limit < 1 || limit > 1000000)
    limit = 10;
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  host_json_gen_str(g, "data");
  yajl_gen_array_open(g);
  long n = 0;
  size_t i = start, total = 0;
  for (size_t j = 0; j < s->n_ents; j++)
    total += listed(&s->ents[j], type, service);
  for (; i < s->n_ents && n < limit; i++) {
    if (!listed(&s->ents[i], type, service))
      continue;
    gen_entity(g, &s->ents[i]);
    n++;
  }
  yajl_gen_array_close(g);
  host_json_gen_str(g, "paging");
  yajl_gen_map_open(g);
  host_json_gen_str(g, "total");
  yajl_gen_integer(g, (long long)total);
  /* The cursor is opaque to clients; here it is the next store index. */
  size_t k = i;
  while (k < s->n_ents && !listed(&s->ents[k], type, service))
    k++;
  if (k < s->n_ents || s->cursor_repeat) {
    char after[32];
    snprintf(after, sizeof after, "%zu", s->cursor_repeat ? start : k);
    host_json_gen_str(g, "after");
    host_json_gen_str(g, after);
  }
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  reply_gen(r, 200, g);
}

/* ---- ingestion pipelines ----------------------------------------------------------------- */

/* The enum of PipelineStatus.pipelineState (ingestionPipelines/ingestionPipeline.json). */
static bool pipeline_state_valid(const char *state) {
  static const char *const states[] = {"queued", "success", "failed", "running", "partialSuccess",
                                       NULL};
  for (size_t i = 0; state && states[i]; i++)
    if (strcmp(state, states[i]) == 0)
      return true;
  return false;
}

/* StepSummary (entity/services/ingestionPipelines/status.json): `name` required, counts are
 * integers, no other member (additionalProperties: false). NULL when valid, else why. */
static const char *step_problem(yajl_val step) {
  static const char *const counts[] = {"records", "updated_records", "warnings", "errors",
                                       "filtered", NULL};
  if (!YAJL_IS_OBJECT(step) || !host_json_str(step, "name"))
    return "status[].name is required";
  for (size_t i = 0; i < step->u.object.len; i++) {
    const char *k = step->u.object.keys[i];
    bool known = strcmp(k, "name") == 0 || strcmp(k, "failures") == 0;
    for (size_t c = 0; !known && counts[c]; c++)
      if (strcmp(k, counts[c]) == 0) {
        if (!YAJL_IS_INTEGER(step->u.object.values[i]))
          return "status[] counts must be integers";
        known = true;
      }
    if (!known)
      return "status[] has an unknown property";
  }
  return NULL;
}

/* PUT /services/ingestionPipelines/{fqn}/pipelineStatus (IngestionPipelineResource
 * .addPipelineStatus): the pipeline must exist (getResourceContextByName: 404 "... not
 * found"); the body is a @Valid PipelineStatus: runId and pipelineState required, the state
 * from its enum, timestamps integers (400). The status of a runId already stored is replaced
 * (IngestionPipelineRepository.addPipelineStatus stores it per runId). */
static void put_pipeline_status(struct sim *s, struct reply *r, const char *fqn, yajl_val body) {
  struct entity *p = find_entity(s, "ingestionPipeline", fqn);
  if (!p || p->deleted) {
    reply_msg(r, 404, "ingestionPipeline instance for %s not found", fqn);
    return;
  }
  const char *run_id = host_json_str(body, "runId");
  const char *state = host_json_str(body, "pipelineState");
  yajl_val steps = host_json_get(body, "status");
  if (!run_id || !state) {
    reply_msg(r, 400, "[%s must not be null]", run_id ? "pipelineState" : "runId");
    return;
  }
  if (!pipeline_state_valid(state)) {
    reply_msg(r, 400, "Unable to process JSON: pipelineState '%s' is not one of its values", state);
    return;
  }
  static const char *const times[] = {"startDate", "timestamp", "endDate", NULL};
  for (size_t i = 0; times[i]; i++) {
    yajl_val t = host_json_get(body, times[i]);
    if (t && !YAJL_IS_INTEGER(t)) {
      reply_msg(r, 400, "Unable to process JSON: %s must be an integer (ms)", times[i]);
      return;
    }
  }
  if (steps && !YAJL_IS_ARRAY(steps)) {
    reply_msg(r, 400, "Unable to process JSON: status must be an array");
    return;
  }
  for (size_t i = 0; steps && i < steps->u.array.len; i++) {
    const char *why = step_problem(steps->u.array.values[i]);
    if (why) {
      reply_msg(r, 400, "Unable to process JSON: %s", why);
      return;
    }
  }
  struct pipeline_status *ps = NULL;
  for (size_t i = 0; i < s->n_pstatuses && !ps; i++)
    if (strcmp(s->pstatuses[i].fqn, fqn) == 0 && strcmp(s->pstatuses[i].run_id, run_id) == 0)
      ps = &s->pstatuses[i];
  if (!ps) {
    s->pstatuses = grow(s->pstatuses, s->n_pstatuses, &s->cap_pstatuses, sizeof *s->pstatuses);
    ps = &s->pstatuses[s->n_pstatuses++];
    memset(ps, 0, sizeof *ps);
    if (!(ps->fqn = strdup(fqn)) || !(ps->run_id = strdup(run_id)))
      abort();
  }
  yajl_gen g = yajl_gen_alloc(NULL);
  host_json_gen_value(g, body);
  free(ps->body);
  if (!(ps->body = host_json_gen_take(g)))
    abort();
  yajl_gen_free(g);
  size_t used = strlen(ps->states);
  snprintf(ps->states + used, sizeof ps->states - used, "%s%s", used ? "," : "", state);
  reply_entity(r, 200, p);
}

/* ---- /__sim ------------------------------------------------------------------------------- */

static const struct sim *sort_sim; /* qsort has no context argument; one thread only */

static int cmp_ent(const void *a, const void *b) {
  const struct entity *x = &sort_sim->ents[*(const size_t *)a];
  const struct entity *y = &sort_sim->ents[*(const size_t *)b];
  int c = strcmp(x->type, y->type);
  return c ? c : strcmp(x->fqn, y->fqn);
}

static int cmp_edge(const void *a, const void *b) {
  const struct edge *x = a, *y = b;
  int c = strcmp(x->from_id, y->from_id);
  return c ? c : strcmp(x->to_id, y->to_id);
}

static int cmp_usage(const void *a, const void *b) {
  const struct usage *x = a, *y = b;
  int c = strcmp(x->fqn, y->fqn);
  return c ? c : strcmp(x->date, y->date);
}

static void dump_store(struct sim *s, struct reply *r) {
  size_t *order = malloc((s->n_ents + 1) * sizeof *order);
  for (size_t i = 0; i < s->n_ents; i++)
    order[i] = i;
  sort_sim = s;
  qsort(order, s->n_ents, sizeof *order, cmp_ent);
  if (s->n_edges)
    qsort(s->edges, s->n_edges, sizeof *s->edges, cmp_edge);
  if (s->n_usages)
    qsort(s->usages, s->n_usages, sizeof *s->usages, cmp_usage);
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  host_json_gen_str(g, "entities");
  yajl_gen_map_open(g);
  const char *open_type = NULL;
  for (size_t i = 0; i < s->n_ents; i++) {
    struct entity *e = &s->ents[order[i]];
    if (!open_type || strcmp(open_type, e->type) != 0) {
      if (open_type)
        yajl_gen_array_close(g);
      host_json_gen_str(g, e->type);
      yajl_gen_array_open(g);
      open_type = e->type;
    }
    gen_entity(g, e);
  }
  if (open_type)
    yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  host_json_gen_str(g, "lineage");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < s->n_edges; i++) {
    struct edge *e = &s->edges[i];
    struct entity *f = find_by_id(s, e->from_id), *t = find_by_id(s, e->to_id);
    yajl_gen_map_open(g);
    const char *kv[] = {"fromId", e->from_id, "fromType", e->from_type, "fromFqn", f->fqn,
                        "toId",   e->to_id,   "toType",   e->to_type,   "toFqn",   t->fqn};
    for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k++)
      host_json_gen_str(g, kv[k]);
    if (e->details) {
      char err[64];
      yajl_val d = host_json_parse(e->details, strlen(e->details), err, sizeof err);
      host_json_gen_str(g, "lineageDetails");
      host_json_gen_value(g, d);
      yajl_tree_free(d);
    }
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
  host_json_gen_str(g, "usage");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < s->n_usages; i++) {
    yajl_gen_map_open(g);
    host_json_gen_str(g, "type");
    host_json_gen_str(g, s->usages[i].type);
    host_json_gen_str(g, "fullyQualifiedName");
    host_json_gen_str(g, s->usages[i].fqn);
    host_json_gen_str(g, "date");
    host_json_gen_str(g, s->usages[i].date);
    host_json_gen_str(g, "count");
    yajl_gen_integer(g, s->usages[i].count);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
  host_json_gen_str(g, "pipelineStatuses"); /* in order of first arrival */
  yajl_gen_array_open(g);
  for (size_t i = 0; i < s->n_pstatuses; i++) {
    char err[64];
    yajl_val b = host_json_parse(s->pstatuses[i].body, strlen(s->pstatuses[i].body), err,
                                 sizeof err);
    yajl_gen_map_open(g);
    host_json_gen_str(g, "pipeline");
    host_json_gen_str(g, s->pstatuses[i].fqn);
    host_json_gen_str(g, "states");
    host_json_gen_str(g, s->pstatuses[i].states);
    host_json_gen_str(g, "pipelineStatus");
    host_json_gen_value(g, b);
    yajl_gen_map_close(g);
    yajl_tree_free(b);
  }
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  reply_gen(r, 200, g);
  free(order);
}

/* GET /__sim/seed?type=table&fqn=F: an entity appears, as if another connector created it
 * (tables, users: what the sink only reads; ingestionPipeline: what OpenMetadata's UI creates
 * before its scheduler starts a run). */
/* A seeded table's body: its columns (a comma-separated list of names, or NULL for none), each
 * with the FQN the server gives it (ColumnUtil.setColumnFQN). */
static void seed_columns(struct entity *e, const char *names) {
  if (!names || !*names)
    return;
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  host_json_gen_str(g, "columns");
  yajl_gen_array_open(g);
  char *copy = strdup(names), *save = NULL;
  for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
    char *q = fqn_quote(n), *fqn = NULL;
    if (!q || asprintf(&fqn, "%s.%s", e->fqn, q) < 0)
      abort();
    yajl_gen_map_open(g);
    host_json_gen_str(g, "name");
    host_json_gen_str(g, n);
    host_json_gen_str(g, "dataType");
    host_json_gen_str(g, "VARCHAR");
    host_json_gen_str(g, "fullyQualifiedName");
    host_json_gen_str(g, fqn);
    yajl_gen_map_close(g);
    free(fqn);
    free(q);
  }
  free(copy);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
  free(e->body);
  e->body = host_json_gen_take(g);
  yajl_gen_free(g);
}

/* The one way an entity is seeded, from the command line's files or GET /__sim/seed: found or
 * added, then given `extra` -- a table's columns (comma-separated), a user's email -- when
 * there is one. */
static struct entity *seed_entity(struct sim *s, const char *type, const char *fqn,
                                  const char *extra) {
  struct entity *e = find_entity(s, type, fqn);
  if (!e)
    e = add_entity(s, type, fqn);
  if (strcmp(type, "user") == 0 && extra && *extra) {
    free(e->email);
    if (!(e->email = strdup(extra)))
      abort();
  } else if (strcmp(type, "table") == 0) {
    seed_columns(e, extra);
  }
  return e;
}

static void seed_one(struct sim *s, struct reply *r, const char *type, const char *fqn,
                     const char *columns) {
  if (!type || !fqn ||
      (strcmp(type, "table") != 0 && strcmp(type, "user") != 0 &&
       strcmp(type, "ingestionPipeline") != 0)) {
    reply_msg(r, 400, "seed needs type=table|user|ingestionPipeline and fqn");
    return;
  }
  reply_entity(r, 200, seed_entity(s, type, fqn, strcmp(type, "table") == 0 ? columns : NULL));
}

static int parse_faults(struct sim *s, const char *spec);

/* GET /__sim/faults?spec=SPEC: adds the faults of SPEC (as --faults) from now on. */
static void set_faults(struct sim *s, struct reply *r, const char *spec) {
  if (!spec || parse_faults(s, spec) != 0)
    reply_msg(r, 400, "faults needs spec=SPEC as --faults takes it");
  else
    reply_msg(r, 200, "faults set");
}

static void dump_stats(struct sim *s, struct reply *r) {
  yajl_gen g = yajl_gen_alloc(NULL);
  yajl_gen_map_open(g);
  const char *names[] = {"requests",  "puts",      "gets",    "deletes",   "authFailures",
                         "faults5xx", "faults429", "rejects", "status2xx", "status4xx",
                         "typePuts"};
  unsigned long vals[] = {s->requests, s->puts, s->gets,    s->deletes, s->auth_failures,
                          s->f5xx,     s->f429, s->rejects, s->s2xx,    s->s4xx,
                          s->type_puts};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    host_json_gen_str(g, names[i]);
    yajl_gen_integer(g, (long long)vals[i]);
  }
  yajl_gen_map_close(g);
  reply_gen(r, 200, g);
}

/* GET /v1/system/version: OpenMetadata serves it to anyone (its JwtFilter excludes it), so a
 * client can tell "server reached" from "token refused". */
static void reply_version(struct reply *r) {
  reply_text(r, 200,
             "{\"version\":\"1.6.0-om-sim\",\"revision\":\"om-sim\",\"timestamp\":1700000000000}");
}

/* GET /v1/users/loggedInUser: the bot the JWT belongs to (behind the JWT check). */
static void reply_logged_in_user(struct reply *r) {
  reply_text(r, 200,
             "{\"id\":\"00000000-0000-4000-8000-000000000b07\",\"name\":\"ingestion-bot\","
             "\"isBot\":true}");
}

/* ---- routing ------------------------------------------------------------------------------ */

static const char *arg(struct MHD_Connection *c, const char *key) {
  return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

static bool authorized(struct sim *s, struct MHD_Connection *c) {
  if (!s->jwt)
    return true;
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  return h && strncmp(h, "Bearer ", 7) == 0 && strcmp(h + 7, s->jwt) == 0;
}

/* Routes one /api/v1 request (path after "/api/v1/"). */
static void route_api(struct sim *s, struct MHD_Connection *c, const char *method, const char *path,
                      const char *upload, size_t upload_len, struct reply *r) {
  bool put = strcmp(method, "PUT") == 0, get = strcmp(method, "GET") == 0;
  bool post = strcmp(method, "POST") == 0;
  yajl_val body = NULL;
  char err[256];
  if (put || post) {
    s->puts++;
    body = host_json_parse(upload ? upload : "", upload_len, err, sizeof err);
    if (!YAJL_IS_OBJECT(body)) {
      reply_msg(r, 400, "Unable to process JSON: %s", body ? "not an object" : err);
      goto out;
    }
  }
  s->gets += get;
  const char *name_sep = strstr(path, "/name/");
  static const char pipes[] = "services/ingestionPipelines/", pstat[] = "/pipelineStatus";
  size_t plen = strlen(path);
  bool pipeline_path = strncmp(path, pipes, sizeof pipes - 1) == 0;
  if (get && pipeline_path && strncmp(path + sizeof pipes - 1, "name/", 5) == 0) {
    /* IngestionPipelineResource.getByName */
    const char *fqn = path + sizeof pipes - 1 + 5;
    struct entity *e = find_entity(s, "ingestionPipeline", fqn);
    if (e && !e->deleted)
      reply_entity(r, 200, e);
    else
      reply_msg(r, 404, "ingestionPipeline instance for %s not found", fqn);
  } else if (put && pipeline_path && plen > sizeof pipes - 1 + sizeof pstat - 1 &&
             strcmp(path + plen - (sizeof pstat - 1), pstat) == 0) {
    char *fqn = strndup(path + sizeof pipes - 1, plen - (sizeof pipes - 1) - (sizeof pstat - 1));
    if (!fqn)
      abort();
    log_body(s, "pipelineStatus", body);
    put_pipeline_status(s, r, fqn, body);
    free(fqn);
  } else if (get && strcmp(path, "users/loggedInUser") == 0) {
    reply_logged_in_user(r);
  } else if (get && strncmp(path, "metadata/types/name/", 20) == 0) {
    const char *fields = arg(c, "fields");
    reply_type(s, r, path + 20, fields && strstr(fields, "customProperties"));
  } else if (put && strncmp(path, "metadata/types/", 15) == 0 && !strchr(path + 15, '/')) {
    put_custom_property(s, r, path + 15, body);
  } else if (put && strcmp(path, "lineage") == 0) {
    log_body(s, "lineage", body);
    put_lineage(s, r, body);
  } else if ((put || post) && strncmp(path, "usage/", 6) == 0 && name_sep) {
    char type[64];
    snprintf(type, sizeof type, "%.*s", (int)(name_sep - path - 6), path + 6);
    log_body(s, "usage", body);
    put_usage(s, r, type, name_sep + 6, body, post);
  } else if (put && strlen(path) > 8 && strcmp(path + strlen(path) - 8, "/restore") == 0 &&
             type_of_collection(path, strlen(path) - 8)) {
    restore_entity(s, r, type_of_collection(path, strlen(path) - 8), body);
  } else if (put && type_of_collection(path, strlen(path))) {
    const char *type = type_of_collection(path, strlen(path));
    log_body(s, type, body);
    put_entity(s, r, type, body);
  } else if (get && strcmp(path, "search/query") == 0) {
    search(s, r, arg(c, "q"), arg(c, "index"));
  } else if (get && name_sep && type_of_collection(path, (size_t)(name_sep - path))) {
    const char *type = type_of_collection(path, (size_t)(name_sep - path));
    struct entity *e = find_entity(s, type, name_sep + 6);
    if (e && !e->deleted)
      reply_entity(r, 200, e);
    else
      reply_msg(r, 404, "%s instance for %s not found", type, name_sep + 6);
  } else if (get && strrchr(path, '/') &&
             type_of_collection(path, (size_t)(strrchr(path, '/') - path))) {
    /* EntityResource.get by id (fields= is ignored: every field is shown) */
    const char *type = type_of_collection(path, (size_t)(strrchr(path, '/') - path));
    struct entity *e = find_by_id(s, strrchr(path, '/') + 1);
    if (e && !e->deleted && strcmp(e->type, type) == 0)
      reply_entity(r, 200, e);
    else
      reply_msg(r, 404, "%s instance for %s not found", type, strrchr(path, '/') + 1);
  } else if (get && type_of_collection(path, strlen(path))) {
    list(s, r, type_of_collection(path, strlen(path)), arg(c, "service"), arg(c, "limit"),
         arg(c, "after"));
  } else if (strcmp(method, "DELETE") == 0 && strrchr(path, '/') &&
             type_of_collection(path, (size_t)(strrchr(path, '/') - path))) {
    s->deletes++;
    struct entity *e = find_by_id(s, strrchr(path, '/') + 1);
    if (!e || e->deleted)
      reply_msg(r, 404, "entity %s not found", strrchr(path, '/') + 1);
    else {
      e->deleted = true;
      reply_entity(r, 200, e);
    }
  } else {
    reply_msg(r, 404, "om-sim has no route %s /api/v1/%s", method, path);
  }
out:
  yajl_tree_free(body);
}

struct upload {
  char *data; /* owned */
  size_t len;
  bool too_big;
};

#define LOGIN_PAGE                                                                                 \
  "<!DOCTYPE html><html><head><title>Sign in</title></head><body>login</body></html>"

/* --faults reply=...: what a proxy, a login wall or a broken server puts in front of the API.
 * Every /api request gets a 200 HTML login page, a 200 "{", a 200 with an empty body, or a 302
 * to /login, whatever it asked; nothing is stored. */
static enum MHD_Result hostile_reply(struct sim *s, struct MHD_Connection *c) {
  bool redirect = strcmp(s->hostile, "redirect") == 0;
  const char *body = strcmp(s->hostile, "brace") == 0   ? "{"
                     : strcmp(s->hostile, "empty") == 0 ? ""
                                                        : LOGIN_PAGE;
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
  if (!resp)
    return MHD_NO;
  bool json = strcmp(s->hostile, "brace") == 0;
  MHD_add_response_header(resp, "Content-Type", json ? "application/json" : "text/html");
  if (redirect)
    MHD_add_response_header(resp, "Location", "/login");
  enum MHD_Result ret = MHD_queue_response(c, redirect ? 302 : 200, resp);
  MHD_destroy_response(resp);
  return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls) {
  struct sim *s = cls;
  struct upload *up = *con_cls;
  if (!up) {
    up = calloc(1, sizeof *up);
    if (!up)
      return MHD_NO;
    *con_cls = up;
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (up->len + *upload_data_size > MAX_UPLOAD)
      up->too_big = true;
    else {
      char *p = realloc(up->data, up->len + *upload_data_size + 1);
      if (!p)
        return MHD_NO;
      up->data = p;
      memcpy(up->data + up->len, upload_data, *upload_data_size);
      up->len += *upload_data_size;
      up->data[up->len] = '\0';
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  struct reply r = {0};
  bool api = strncmp(url, "/api/v1/", 8) == 0;
  if (api)
    s->requests++;
  if (api && s->hostile)
    return hostile_reply(s, c);
  if (strcmp(url, "/__sim/store") == 0)
    dump_store(s, &r);
  else if (strcmp(url, "/__sim/stats") == 0)
    dump_stats(s, &r);
  else if (strcmp(url, "/__sim/seed") == 0)
    seed_one(s, &r, arg(c, "type"), arg(c, "fqn"), arg(c, "columns"));
  else if (strcmp(url, "/__sim/faults") == 0)
    set_faults(s, &r, arg(c, "spec"));
  else if (!api)
    reply_msg(&r, 404, "om-sim serves /api/v1 and /__sim only");
  else if (strcmp(method, "GET") == 0 && strcmp(url, "/api/v1/system/version") == 0)
    reply_version(&r); /* public, as on the real server; never faulted */
  else if (!authorized(s, c)) {
    s->auth_failures++;
    reply_msg(&r, 401, "Not Authorized! Token not present or invalid");
  } else if (up->too_big)
    reply_msg(&r, 413, "request body larger than 8 MiB");
  else if (s->p5xx > 0 && rand_r(&s->seed) < s->p5xx * ((double)RAND_MAX + 1)) {
    s->f5xx++;
    reply_msg(&r, 503, "om-sim: injected server error");
  } else if (s->p429 > 0 && rand_r(&s->seed) < s->p429 * ((double)RAND_MAX + 1)) {
    s->f429++;
    reply_msg(&r, 429, "om-sim: injected throttling");
  } else
    route_api(s, c, method, url + 8, up->data, up->len, &r);
  if (api && r.status >= 200 && r.status < 300)
    s->s2xx++;
  else if (api && r.status >= 400 && r.status < 500)
    s->s4xx++;
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      strlen(r.body ? r.body : ""), r.body ? r.body : "", MHD_RESPMEM_MUST_FREE);
  if (!r.body) /* MUST_FREE of a literal would be fatal */
    return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response(c, r.status, resp);
  MHD_destroy_response(resp);
  return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  struct upload *up = *con_cls;
  if (up) {
    free(up->data);
    free(up);
    *con_cls = NULL;
  }
}

/* ---- setup -------------------------------------------------------------------------------- */

static int parse_faults(struct sim *s, const char *spec) {
  char *copy = strdup(spec), *save = NULL;
  int rc = 0;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) {
      rc = -1;
      break;
    }
    *eq++ = '\0';
    if (strcmp(tok, "5xx") == 0)
      s->p5xx = strtod(eq, NULL);
    else if (strcmp(tok, "429") == 0)
      s->p429 = strtod(eq, NULL);
    else if (strcmp(tok, "reject-kind") == 0)
      free(s->reject_kind), s->reject_kind = strdup(eq);
    else if (strcmp(tok, "reject-name") == 0)
      free(s->reject_name), s->reject_name = strdup(eq);
    else if (strcmp(tok, "search") == 0 && strcmp(eq, "any") == 0)
      s->search_any = true;
    else if (strcmp(tok, "cursor") == 0 && strcmp(eq, "repeat") == 0)
      s->cursor_repeat = true;
    else if (strcmp(tok, "reply") == 0 && (strcmp(eq, "html") == 0 || strcmp(eq, "brace") == 0 ||
                                           strcmp(eq, "empty") == 0 || strcmp(eq, "redirect") == 0))
      free(s->hostile), s->hostile = strdup(eq);
    else {
      rc = -1;
      break;
    }
  }
  free(copy);
  return rc;
}

static int seed_file(struct sim *s, const char *path, const char *type) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "om-sim: cannot read %s\n", path);
    return -1;
  }
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0] || line[0] == '#')
      continue;
    char *rest = strchr(line, ' '); /* a user's email, a table's columns */
    if (rest)
      *rest++ = '\0';
    seed_entity(s, type, line, rest);
  }
  fclose(f);
  return 0;
}

/* Reads a whole PEM file into a string the caller frees; NULL with a message otherwise. */
static char *read_pem(const char *flag, const char *path) {
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t len = 0;
  if (!f) {
    fprintf(stderr, "om-sim: %s %s: %s\n", flag, path, strerror(errno));
    return NULL;
  }
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    char *nb = realloc(buf, len + got + 1);
    if (!nb)
      goto fail;
    buf = nb;
    memcpy(buf + len, chunk, got);
    len += got;
  }
  if (!buf || ferror(f))
    goto fail;
  buf[len] = '\0';
  if (!strstr(buf, "-----BEGIN "))
    goto fail;
  fclose(f);
  return buf;
fail:
  fprintf(stderr, "om-sim: %s %s: not a readable PEM file\n", flag, path);
  free(buf);
  fclose(f);
  return NULL;
}

int main(int argc, char **argv) {
  struct sim s = {0};
  const char *tls_cert_path = NULL, *tls_key_path = NULL;
  char *tls_cert = NULL, *tls_key = NULL; /* owned; outlive the daemon */
  s.by_key = host_om_map_new();
  s.by_id = host_om_map_new();
  unsigned int port = 0;
  int rc = 2;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      fprintf(stderr, "om-sim: %s needs a value\n", a);
      goto out;
    }
    i++;
    if (strcmp(a, "--port") == 0)
      port = (unsigned int)strtoul(v, NULL, 10);
    else if (strcmp(a, "--jwt") == 0)
      s.jwt = v;
    else if (strcmp(a, "--seed") == 0)
      s.seed = (unsigned int)strtoul(v, NULL, 10);
    else if (strcmp(a, "--faults") == 0) {
      if (parse_faults(&s, v) != 0) {
        fprintf(stderr,
                "om-sim: bad --faults '%s' "
                "(5xx=P,429=P,reject-kind=K,reject-name=N,reply=html|brace|empty|redirect,"
                "search=any,cursor=repeat)\n",
                v);
        goto out;
      }
    } else if (strcmp(a, "--seed-tables") == 0 || strcmp(a, "--seed-users") == 0 ||
               strcmp(a, "--seed-pipelines") == 0) {
      const char *type = strcmp(a, "--seed-users") == 0       ? "user"
                         : strcmp(a, "--seed-pipelines") == 0 ? "ingestionPipeline"
                                                              : "table";
      if (seed_file(&s, v, type) != 0)
        goto out;
    } else if (strcmp(a, "--tls-cert") == 0) {
      tls_cert_path = v;
    } else if (strcmp(a, "--tls-key") == 0) {
      tls_key_path = v;
    } else if (strcmp(a, "--bodies") == 0) {
      if (!(s.bodies = fopen(v, "a"))) {
        fprintf(stderr, "om-sim: cannot write %s\n", v);
        goto out;
      }
    } else {
      fprintf(stderr, "om-sim: unknown option %s\n", a);
      goto out;
    }
  }
  if (!tls_cert_path != !tls_key_path) {
    fputs("om-sim: --tls-cert and --tls-key go together\n", stderr);
    goto out;
  }
  if (tls_cert_path && (!(tls_cert = read_pem("--tls-cert", tls_cert_path)) ||
                        !(tls_key = read_pem("--tls-key", tls_key_path))))
    goto out;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* before MHD's thread starts, so it inherits it */
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* TLS options go in through MHD_OPTION_ARRAY so one call serves both schemes. */
  struct MHD_OptionItem tls_opts[] = {
      {tls_cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, tls_key},
      {MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert},
      {MHD_OPTION_END, 0, NULL},
  };
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (tls_cert ? MHD_USE_TLS : 0),
      (uint16_t)port, NULL, NULL, handle, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
      MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "om-sim: cannot listen on 127.0.0.1:%u\n", port);
    rc = 1;
    goto out;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("listening on %s://127.0.0.1:%u\n", tls_cert ? "https" : "http", info ? info->port : port);
  fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  MHD_stop_daemon(d);
  rc = 0;
out:
  free_sim(&s);
  free(tls_cert);
  free(tls_key);
  return rc;
}
