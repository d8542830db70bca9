/*
 * site_cli.h -- `etlhost site CATALOG -o DIR` (docs/catalog.md): main.c hands it the arguments
 * after the command word.
 */
#ifndef HOST_SITE_CLI_H
#define HOST_SITE_CLI_H

/* argv[0] is "site", its options and arguments follow; verbosity is what etlhost's options
 * before the command said (-v adds one, -q takes one). Returns the process exit status (0 written, 1 written with failed
 * pictures or not written, 2 usage or catalog error). */
int host_site_main(int argc, char **argv, int verbosity);

#endif
