/**
 * ProcessInspector over the native library (ffi/proc.ts): the default on
 * macOS, where the C side reads libproc (proc_pidinfo PROC_PIDTBSDINFO,
 * proc_listchildpids) with the SDK's struct layouts. On Linux the same ABI
 * reads /proc, which is how this class is tested here.
 */
import { nativeChildren, nativeProcessInfo } from "../../ffi/proc.ts";
import type { ProcessInfo, ProcessInspector } from "./process_inspector.ts";

export class NativeProcessInspector implements ProcessInspector {
  /**
   * libraryPath: default resolved (and ownership-checked) by ffi/library.ts.
   * Loads the library now, so a missing or unsafe one fails here, not mid-kill.
   */
  constructor(private readonly libraryPath?: string) {
    nativeProcessInfo(Deno.pid, libraryPath);
  }

  info(pid: number): ProcessInfo | undefined {
    return nativeProcessInfo(pid, this.libraryPath);
  }

  children(pid: number): number[] {
    return nativeChildren(pid, this.libraryPath);
  }
}
