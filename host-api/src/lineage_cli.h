/*
 * lineage_cli.h -- `etlhost lineage CATALOG [options]`: the command line of lineage.h.
 */
#ifndef HOST_LINEAGE_CLI_H
#define HOST_LINEAGE_CLI_H

/* Runs the command. argv[0] is "lineage", the options and CATALOG follow (in any order);
 * verbosity is what etlhost's options before the command said (-v adds one, -q takes one).
 * Returns etlhost's exit code (runner.h HOST_EXIT_*): 2 for usage errors, a catalog that cannot
 * be read and an unknown focus; 1 when the picture could not be drawn or written. */
int host_lineage_cli(int argc, char **argv, int verbosity);

#endif
