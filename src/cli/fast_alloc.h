/*
 * fast_alloc.h — a fast allocator for jansson in the command-line conversions (`jmapd
 * convert`, `jmapd expand`): size-class slabs with per-thread free lists, never returned
 * to the OS before exit. json_set_alloc_funcs is process-wide, so only these short-lived
 * commands install it, before any JSON value exists; the library and the server never do.
 * It also turns off glibc's fast bins (mallopt M_MXFAST 0), see fast_alloc.c.
 * Sanitizer and fuzzing builds keep the real allocator (a no-op here) so leak and
 * use-after-free checking stays meaningful.
 */
#ifndef JMAPD_CLI_FAST_ALLOC_H
#define JMAPD_CLI_FAST_ALLOC_H

void cli_fast_json_alloc(void);

#endif
