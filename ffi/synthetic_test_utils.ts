/**
 * Tests and benchmarks only: the test build of the native library
 * (`make -C dylib test-lib`, dylib/build/test/) and the hooks only it exports
 * (dylib/include/bm_sensor_testing.h): a sensor with no OS source, fed with
 * encoded records. A shipped library exports none of them, so product code
 * never imports this module (tests/test_only_imports_test.ts checks).
 */
import { type AbiSymbols, load, openHandle, SensorBinding, sourceOf } from "./binding.ts";
import { libraryFileName } from "./library.ts";
import { SYMBOLS } from "./symbols.ts";

/** The ABI plus the hooks of bm_sensor_testing.h that TS uses. */
export const TEST_SYMBOLS = {
  ...SYMBOLS,
  bm_sensor_open_synthetic: { parameters: ["buffer", "buffer", "u32"], result: "pointer" },
  bm_sensor_inject: { parameters: ["pointer", "buffer", "u32", "u32"], result: "i32" },
} as const satisfies AbiSymbols & Deno.ForeignLibraryInterface;

const dylib = new URL("../dylib/", import.meta.url).pathname;

/** Where the test build lives (it may not be built yet: see buildTestLibrary). */
export function testLibraryPath(): string {
  return `${dylib}build/test/${libraryFileName()}`;
}

let built = false;

/**
 * Builds the test build once per process (make test-lib: the library, and on
 * Linux the guardian it starts from beside itself); returns its path.
 */
export function buildTestLibrary(): string {
  if (!built) {
    const r = new Deno.Command("make", { args: ["-s", "-C", dylib, "test-lib"] }).outputSync();
    if (!r.success) {
      throw new Error(`make -C dylib test-lib failed: ${new TextDecoder().decode(r.stderr)}`);
    }
    built = true;
  }
  return testLibraryPath();
}

export interface SyntheticOptions {
  /** key=value lines as bm_sensor_open takes them (OS keys are ignored). */
  config: string;
  /** Default: the test build, built if needed. */
  libraryPath?: string;
  /** Drain buffer size in bytes (default 1 MiB). */
  bufferBytes?: number;
  /** bm.source of decoded events (default from the OS). */
  source?: string;
}

/** A binding over bm_sensor_open_synthetic: records come only from `inject`. */
export class SyntheticBinding extends SensorBinding {
  #lib: Deno.DynamicLibrary<typeof TEST_SYMBOLS>;

  private constructor(
    lib: Deno.DynamicLibrary<typeof TEST_SYMBOLS>,
    h: Deno.PointerObject,
    bufferBytes: number,
    source: string,
  ) {
    super(lib, h, bufferBytes, source);
    this.#lib = lib;
  }

  /** Opens a synthetic sensor; throws BmError with the library's reason. */
  static openSynthetic(o: SyntheticOptions): SyntheticBinding {
    const lib = load(o.libraryPath ?? buildTestLibrary(), TEST_SYMBOLS);
    const h = openHandle(lib.symbols.bm_sensor_open_synthetic, o.config);
    return new SyntheticBinding(lib, h, o.bufferBytes ?? 1 << 20, sourceOf(o));
  }

  /** Queues `count` copies of an encoded record (record_encoder_test_utils.ts); -1 closed. */
  inject(record: Uint8Array<ArrayBuffer>, count: number): number {
    const h = this.handle;
    if (h === null) return -1;
    return this.#lib.symbols.bm_sensor_inject(h, record, record.length, count >>> 0);
  }
}
