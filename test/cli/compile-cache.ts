import module from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Setup file of the CLI project. Every CLI process a test starts (and this
// worker) compiles wrangler's ~10 MB bundle again, about 0.5 s of CPU each;
// Node's compile cache keeps the compiled code on disk, checked against the
// source, so only the first process of a run pays it. The spawned processes
// inherit the variable.
const dir = path.join(fileURLToPath(new URL("../..", import.meta.url)), "node_modules", ".cache", "node-compile-cache");
process.env.NODE_COMPILE_CACHE ??= dir;
// Node 22.1+ (the project's Node); older ones run without it.
module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE);
