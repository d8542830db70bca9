/*
 * test_mode_curl_once.c -- the Mode plugin initialises libcurl once per load, however often its
 * entry function is called, and undoes it when unloaded (plugin.h: no unload hook is needed).
 * This program defines curl_global_init and curl_global_cleanup itself and exports them
 * (-export-dynamic), so the plugin's calls land here and are counted. Prints TAP.
 */
#include <etl/plugin.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int curl_global_init(long flags);
void curl_global_cleanup(void);

static int inits, cleanups;

int curl_global_init(long flags) {
  (void)flags;
  inits++;
  return 0; /* CURLE_OK */
}

void curl_global_cleanup(void) {
  cleanups++;
}

static void run_services_diag(struct etl_run *run, enum etl_severity sev, unsigned flags,
                              const char *item, const char *message) {
  (void)run, (void)sev, (void)flags, (void)item, (void)message;
}

int main(void) {
  const char *top = getenv("ETL_TOP_BUILDDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/plugin/.libs/mode.so", top ? top : ".");
  struct etl_host_services svc = {.struct_size = sizeof svc,
                                  .abi_major = ETL_ABI_MAJOR,
                                  .abi_minor = ETL_ABI_MINOR,
                                  .diag = run_services_diag};
  printf("1..3\n");
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    printf("Bail out! dlopen %s: %s\n", path, dlerror());
    return 1;
  }
  void *sym = dlsym(lib, ETL_PLUGIN_ENTRY_SYMBOL);
  etl_plugin_entry_fn entry;
  memcpy(&entry, &sym, sizeof entry);
  const struct etl_plugin *a = sym ? entry(&svc) : NULL, *b = NULL;
  for (int i = 0; sym && i < 4; i++)
    b = entry(&svc);
  printf("%sok 1 - the entry function returns the same descriptor each call\n",
         a && a == b ? "" : "not ");
  printf("%sok 2 - five entry calls initialise libcurl once (%d)\n", inits == 1 ? "" : "not ",
         inits);
  dlclose(lib);
  printf("%sok 3 - unloading cleans libcurl up once (%d)\n", cleanups == 1 ? "" : "not ", cleanups);
  return 0;
}
