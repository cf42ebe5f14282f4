import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * Two projects:
 *  - workers: runs inside workerd (vitest-pool-workers) with the bindings of wrangler.toml and
 *    isolated storage per test file; D1 migrations applied by the setup file.
 *  - node: the transcoder (real ffmpeg) and end-to-end tests against the real local stack.
 */
export default defineConfig(async () => {
  // wrangler checks required secrets against the environment; the bindings below give the value.
  process.env.JWT_SECRET ??= "test-secret";
  const migrations = await readD1Migrations("migrations");
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  DEV_AUTH: "true",
                  JWT_SECRET: "test-secret",
                  // Test files open many uploads per user; the quota tests lower the limits themselves.
                  MAX_OPEN_UPLOADS_PER_USER: "1000",
                  MAX_OPEN_UPLOAD_BYTES_PER_USER: "1099511627776",
                  // A closed port: these tests talk to the transcoder only through an injected twin,
                  // and must never reach one that `npm start` runs on the default port.
                  TRANSCODER_URL: "http://127.0.0.1:9",
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["contract/**/*.test.ts", "workers/src/**/*.test.ts", "workers/test/**/*.test.ts"],
            exclude: ["workers/test/e2e/**", "workers/test/node/**"],
            setupFiles: ["workers/test/setup.ts"],
          },
        },
        {
          test: {
            name: "node",
            include: [
              "transcoder/src/**/*.test.ts",
              "web/src/**/*.test.ts",
              "workers/test/node/**/*.test.ts",
              "workers/test/e2e/**/*.test.ts",
            ],
            environment: "node",
            testTimeout: 240_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  };
});
