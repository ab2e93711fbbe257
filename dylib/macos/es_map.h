/*
 * es_map.h - copies the fields bm uses out of an es_message_t into the
 * platform-neutral bm_mac_event (dylib/common/macos_translate.h). Plain C
 * against the EndpointSecurity API, so it builds into the macOS dylib with the
 * SDK and into the Linux unit test (dylib/tests/test_macos_translate.c) with
 * the test-only declarations in dylib/macos/test_es_decls.
 */
#ifndef BM_ES_MAP_H
#define BM_ES_MAP_H

#include <EndpointSecurity/EndpointSecurity.h>

#include "../common/macos_translate.h"

/* Which bm record kind an ES event type becomes (0 = not one bm records). */
uint8_t bm_es_kind(es_event_type_t type);

/*
 * Fills ev from msg (no copies: ev points into msg, which must stay retained
 * while ev is used). Returns 1 when the message becomes a record, 0 when bm
 * does not record it (e.g. a close that did not modify the file).
 */
int bm_es_map(const es_message_t *msg, bm_mac_event *ev);

/* Fills a bm_mac_proc from an es_process_t of a message of `version`. */
void bm_es_map_proc(const es_process_t *p, uint32_t version, bm_mac_proc *out);

/* Fills a bm_mac_file from an es_file_t (NULL -> empty). */
void bm_es_map_file(const es_file_t *f, bm_mac_file *out);

#endif
