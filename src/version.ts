/** bm's version; packaging and `bm version` read it from here. */
export const VERSION = "0.1.0";
