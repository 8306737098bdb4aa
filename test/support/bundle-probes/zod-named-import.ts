import { z } from "zod";

/**
 * A realistic bundle mistake, for `pnpm bundle:check --inject` to refuse: a
 * request schema written with zod's named import (as drizzle-zod,
 * @hono/zod-openapi and most zod examples do), which drags zod's whole classic
 * API into the Worker. Never imported by the Worker.
 */
export const planRenameInput = z.object({ name: z.string().min(1).max(200) }).strict();
