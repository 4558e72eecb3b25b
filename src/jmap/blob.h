/*
 * blob.h — blob ids: "G" + hex SHA-256 of the content (RFC 8620 §6: ids are
 * immutable and the same data may share one). Used by the methods in blob.c and by
 * the upload/download endpoints in http/.
 */
#ifndef JMAPD_BLOB_H
#define JMAPD_BLOB_H

#include <stdbool.h>
#include <stddef.h>

#define BLOB_ID_SIZE 66 /* "G" + 64 hex + NUL */

void blob_id_for(const void *data, size_t len, char out[BLOB_ID_SIZE]);
bool blob_id_valid(const char *id);

#endif
