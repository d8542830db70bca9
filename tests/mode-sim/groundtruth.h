/*
 * --ground-truth FILE: what a correct connector must extract from the served workspace, as
 * JSON (format in docs/mode-sim.md). Written before the server starts listening.
 */
#ifndef SIM_GROUNDTRUTH_H
#define SIM_GROUNDTRUTH_H

#include "workspace.h"

/* Writes the truth of ws to path. Returns 0, or -1 with a message naming path on stderr. */
int groundtruth_write(const struct sim_workspace *ws, const char *path);

#endif
