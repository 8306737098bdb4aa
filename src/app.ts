import { createBaseApp } from "./base-app";
import { billingRoutes } from "./routes/billing";

/** The Worker's HTTP app: Better Auth under /api/auth, billing under /api/billing, a health check. */
export const app = createBaseApp();

app.route("/api/billing", billingRoutes);
