/*
 * bm_proc_info / bm_proc_children on macOS, from libproc. The struct layout
 * of proc_bsdinfo comes from the SDK's <sys/proc_info.h>, never from offsets
 * computed in TypeScript.
 */
#include <errno.h>
#include <libproc.h>
#include <string.h>
#include <sys/proc.h>
#include <sys/proc_info.h>

#include "bm_sensor.h"

static uint8_t state_letter(uint32_t status) {
  switch (status) {
    case SRUN: return 'R';
    case SSLEEP: return 'S';
    case SSTOP: return 'T';
    case SZOMB: return 'Z';
    default: return '?';
  }
}

int32_t bm_proc_info(int32_t pid, int32_t *ppid, double *start_ms, uint8_t *state) {
  if (!ppid || !start_ms || !state) return -1;
  if (pid <= 0) return 1;
  struct proc_bsdinfo info;
  memset(&info, 0, sizeof info);
  errno = 0;
  int r = proc_pidinfo(pid, PROC_PIDTBSDINFO, 0, &info, (int)sizeof info);
  if (r <= 0) return errno == ESRCH ? 1 : -1;
  /* a short answer means a layout this build does not know: refuse to guess */
  if (r < (int)sizeof info) return -1;
  *ppid = (int32_t)info.pbi_ppid;
  *state = state_letter(info.pbi_status);
  *start_ms = (double)info.pbi_start_tvsec * 1e3 + (double)info.pbi_start_tvusec / 1e3;
  return 0;
}

int32_t bm_proc_children(int32_t pid, int32_t *out, int32_t cap) {
  if (!out || cap < 0) return -1;
  if (pid <= 0 || cap == 0) return 0;
  /*
   * proc_listchildpids takes the buffer size in BYTES. Apple's libproc.c
   * returns a count (proc_listpids' byte count / sizeof(int)), but clamp to
   * cap and skip zero slots of the pre-zeroed buffer anyway, so a libproc that
   * returned bytes instead could never make us read past the buffer or report
   * pid 0 as a child.
   */
  memset(out, 0, (size_t)cap * sizeof *out);
  int r = proc_listchildpids((pid_t)pid, out, cap * (int)sizeof *out);
  if (r < 0) return errno == ESRCH ? 0 : -1;
  int32_t n = r < cap ? r : cap, k = 0;
  for (int32_t i = 0; i < n; i++) {
    if (out[i] > 0) out[k++] = out[i];
  }
  return k;
}
