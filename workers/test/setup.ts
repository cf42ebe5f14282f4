import { applyD1Migrations, env } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    }
  }
}

// The same SQL `wrangler d1 migrations apply` runs locally, applied to each test's isolated D1.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
