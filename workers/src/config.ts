/** Typed reads of the Worker's string vars, with the defaults the product documents. */

const positive = (value: string | undefined, fallback: number): number => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

export function uploadLimits(env: Env): { maxBytes: number; expiryMs: number } {
  return {
    maxBytes: Math.floor(positive(env.MAX_UPLOAD_BYTES, 524_288_000)),
    expiryMs: positive(env.UPLOAD_EXPIRY_HOURS, 48) * 3_600_000,
  };
}

export const devAuthEnabled = (env: Env): boolean => env.DEV_AUTH === "true";
