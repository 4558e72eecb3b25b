/*
 * answer_mem.h — the memory of large answers, kept for the next one (issue 20, 21 §2).
 * An answer larger than the server's mmap threshold (serve.c: 256 KiB) would be written
 * into fresh pages, one page fault per 4 KiB; where a fault costs 10-20 us (a virtual
 * machine without nested paging) those faults were a third to a half of the server's
 * CPU for a DAV initial sync or a /get of a month's instances. A few such buffers are
 * kept, bounded in size and in all; the HTTP layer hands them back once sent.
 */
#ifndef JMAPD_UTIL_ANSWER_MEM_H
#define JMAPD_UTIL_ANSWER_MEM_H

#include <stddef.h>

/* A kept buffer (malloc'd: free() is a valid way to drop it) and its usable size in
 * *cap, or NULL and *cap 0 when none is kept. */
void *answer_mem_take(size_t *cap);
/* Gives a sent answer's buffer back: kept when it is of a size worth keeping and there
 * is room, freed otherwise. NULL is ignored. (The signature of libmicrohttpd's free
 * callback.) */
void answer_mem_give(void *p);

#endif
