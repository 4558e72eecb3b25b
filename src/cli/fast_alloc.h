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

#include <stddef.h>

void cli_fast_json_alloc(void);

/* Huge pages for the memory of a large conversion: thousands of 4 KiB page faults (a fifth
 * of a run) become a few dozen where the system grants transparent huge pages on request
 * (madvise mode); otherwise nothing changes. cli_advise_huge advises the whole 2 MiB pages
 * inside a large block; cli_fast_heap grows the malloc heap once by about expect bytes (the
 * parsed tree and temporaries) and advises that. No-ops in sanitizer and fuzzing builds. */
void cli_advise_huge(void *p, size_t n);
void cli_fast_heap(size_t expect);

#endif
