/* <etl/plugin.h> is C89: this file is compiled with -std=c89 -pedantic-errors (tests/unit/
 * local.mk), so a header that needs C99 (inline, // comments, declarations after statements)
 * fails the build of the test suite. It then uses the header's macros and inline function the
 * way a C89 host would, and prints TAP. */
#include <etl/plugin.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  struct etl_host_services svc;
  struct etl_plugin desc;
  int ok_size, ok_name, ok_kind;
  memset(&svc, 0, sizeof svc);
  memset(&desc, 0, sizeof desc);
  svc.struct_size = ETL_HOST_SERVICES_MIN_SIZE;
  desc.struct_size = sizeof desc;
  ok_size = ETL_HAS_MEMBER(&svc, struct etl_host_services, diag) &&
            !ETL_HAS_MEMBER(&svc, struct etl_host_services, count) &&
            ETL_HAS_MEMBER(&desc, struct etl_plugin, interrupt);
  ok_name = strcmp(etl_status_name(ETL_ERR_CONNECT), "ETL_ERR_CONNECT") == 0 &&
            strcmp(etl_status_name(-99), "ETL_ERR_UNKNOWN") == 0;
  ok_kind = strcmp(ETL_KIND_DASHBOARD, "dashboard") == 0;
  printf("1..3\n");
  printf("%sok 1 - the minimum services table has diag and not count\n", ok_size ? "" : "not ");
  printf("%sok 2 - etl_status_name in C89\n", ok_name ? "" : "not ");
  printf("%sok 3 - entity kinds as macros\n", ok_kind ? "" : "not ");
  return 0;
}
