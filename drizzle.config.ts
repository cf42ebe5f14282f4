import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes the SQL migration that `wrangler d1 migrations apply` runs.
export default defineConfig({
  dialect: "sqlite",
  schema: "./workers/src/db/schema.ts",
  out: "./migrations",
});
