// What the binary was built with (app.config.ts `extra`): the platform's address and, in a
// branded app, its one business.
import Constants from "expo-constants";

export type BakedTenant = { slug: string; name: string; apiBaseUrl: string };

type Extra = { platformUrl?: string; tenant?: BakedTenant | null };

// The web build can be given these at run time (saas_platform/app_web.py writes
// window.__FAMILY_APP__ into index.html), so one build serves any server.
const runtime = (globalThis as { __FAMILY_APP__?: Extra }).__FAMILY_APP__ ?? {};
const extra = { ...((Constants.expoConfig?.extra ?? {}) as Extra), ...runtime };

export const PLATFORM_URL: string = (extra.platformUrl ?? "http://localhost:8000").replace(/\/$/, "");
export const BAKED_TENANT: BakedTenant | null = extra.tenant ?? null;
export const APP_ID: string =
  Constants.expoConfig?.ios?.bundleIdentifier ?? Constants.expoConfig?.android?.package ?? "shared";
