/*
 * cxx_plugin.cpp -- a plugin written in C++, to prove that <etl/plugin.h> serves one: the entry
 * function defined with ETL_PLUGIN_DEFINE in a .cpp file gets C linkage from the header's
 * declaration, so the exported name is the plain `etl_plugin_entry` every host looks up.
 *
 * serviceConnection.config: {"count": N} (0..1000, default 3). It emits N charts with ids
 * "cxx-<i>" and data {"name": "cxx-<i>", "n": i}, then ETL_DONE. Built only when configure
 * found a C++ compiler; never installed.
 */
#include <etl/plugin.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace {

struct instance {
  const etl_host_services *svc; // the host's table, static in the host
  etl_run *run;
  long count = 3;
  long next = 0;
  std::atomic<int> stop{0}; // set by interrupt() from another thread
  std::string id, json;     // what the entity handed out points into
  etl_entity entity{};
};

// Reads {"count": N}; a plain scan keeps the example free of a JSON library.
bool parse_count(const char *json, size_t len, long *out) {
  std::string text(json, len);
  size_t at = text.find("\"count\"");
  if (at == std::string::npos)
    return true;
  at = text.find(':', at);
  if (at == std::string::npos)
    return false;
  char *end = nullptr;
  long n = std::strtol(text.c_str() + at + 1, &end, 10);
  if (end == text.c_str() + at + 1 || n < 0 || n > 1000)
    return false;
  *out = n;
  return true;
}

etl_status cxx_open(const etl_open_args *args, void **out) {
  *out = nullptr;
  if (args->services->abi_major != ETL_ABI_MAJOR)
    return ETL_ERR_UNSUPPORTED; // no service of another major may be called
  instance *in = new (std::nothrow) instance;
  if (!in)
    return ETL_ERR_NOMEM;
  in->svc = args->services;
  in->run = args->run;
  if (!parse_count(args->config_json, args->config_json_len, &in->count)) {
    in->svc->diag(in->run, ETL_SEV_ERROR, 0, nullptr,
                  "serviceConnection.config.count: expected a whole number from 0 to 1000");
    delete in;
    return ETL_ERR_CONFIG;
  }
  *out = in;
  return ETL_OK;
}

bool cancelled(const instance *in) {
  if (in->stop.load())
    return true;
  return ETL_HAS_MEMBER(in->svc, etl_host_services, cancelled) && in->svc->cancelled &&
         in->svc->cancelled(in->run);
}

etl_status cxx_next(void *p, const etl_entity **out) {
  instance *in = static_cast<instance *>(p);
  *out = nullptr;
  if (cancelled(in))
    return ETL_ERR_CANCELLED;
  if (in->next >= in->count)
    return ETL_DONE;
  in->id = "cxx-" + std::to_string(in->next);
  in->json = "{\"data\":{\"name\":\"" + in->id + "\",\"n\":" + std::to_string(in->next) + "}}";
  in->next++;
  in->entity.struct_size = sizeof in->entity;
  in->entity.kind = ETL_KIND_CHART;
  in->entity.id = in->id.c_str();
  in->entity.json = in->json.data();
  in->entity.json_len = in->json.size();
  *out = &in->entity;
  return ETL_OK;
}

void cxx_close(void *p) { delete static_cast<instance *>(p); }

void cxx_interrupt(void *p) { static_cast<instance *>(p)->stop.store(1); }

const char schema[] = "{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
                      " \"type\": \"object\", \"properties\": {\"count\": {\"type\": \"integer\","
                      " \"minimum\": 0, \"maximum\": 1000}}}";

// Positional: C++ before C++20 has no designated initializers.
const etl_plugin descriptor = {
    sizeof(etl_plugin), ETL_ABI_MAJOR, ETL_ABI_MINOR, "cxx_plugin", "0.1.0",
    "a test plugin written in C++", schema, cxx_open, nullptr, cxx_next, cxx_close,
    cxx_interrupt,
};

} // namespace

ETL_PLUGIN_DEFINE(cxx_plugin)(const etl_host_services *services) {
  (void)services;
  return &descriptor;
}
