/*
 * fuzz_dav_sync.c — libFuzzer target over the subscriber's reading of a remote
 * server's RFC 6578 sync-collection answer (feeds/dav_sync.c dav_listing_parse; issue
 * 17, draft-ietf-calext-subscription-upgrade-13 §7): untrusted XML from the network.
 * What must hold: a refusal says why (an error, or a refused token); an accepted answer
 * lists members each as a path on the collection's origin (one of another origin is
 * left out); nothing leaks (AddressSanitizer) whatever the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/dav_sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char coll[] = "https://dav.example.com/cal/home/";
    struct dav_listing l;
    memset(&l, 0, sizeof l);
    int rc = dav_listing_parse(coll, (const char *)data, size, &l);
    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1 && !l.error && !l.bad_token)
        abort(); /* a refusal always says why */
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        /* each member as its path on the collection's origin: one of another origin
         * is left out, never kept as an absolute URL */
        const char *h = l.m[i].href;
        if (!h || h[0] != '/')
            abort();
    }
    dav_listing_clear(&l);
    return 0;
}
