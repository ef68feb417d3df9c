// The signed-in state: which business (baked into a branded app, or chosen in the directory),
// the family's bearer token, the business's runtime config (switches, announcements, theme)
// and the language. Kept on the device between launches.
import * as Localization from "expo-localization";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { Platform, useColorScheme } from "react-native";

import { ApiError, type FamilyClient, familyClient, ok } from "./api/client";
import type { DesignTokens, PortalConfig, PortalSettings } from "./api/types";
import { BAKED_TENANT } from "./config";
import { I18nContext, type Language, translate } from "./i18n";
import { storage } from "./storage";
import { type Theme, ThemeContext, defaultTheme, themeFromTokens } from "./theme";

export type Business = { slug: string; name: string; origin: string; logoUrl?: string | null };

export type Session = {
  ready: boolean;
  business: Business | null;
  token: string | null;
  config: PortalConfig | null;
  settings: PortalSettings | null;
  api: FamilyClient | null;
  chooseBusiness: (business: Business | null) => Promise<void>;
  signIn: (token: string) => Promise<void>;
  signOut: () => Promise<void>;
  reloadConfig: () => Promise<void>;
  deviceId: string;
  onSignOut: (hook: () => Promise<void>) => void;
};

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** The family API client; screens under the signed-in navigator always have one. */
export function useApi(): FamilyClient {
  const { api } = useSession();
  if (!api) throw new Error("no business chosen");
  return api;
}

export function originOf(url: string): string {
  return url.replace(/\/api\/v1\/?$/, "").replace(/\/$/, "");
}

const KEYS = { business: "business", token: "token", language: "language", device: "device" };

function deviceLanguage(): Language {
  const code = Localization.getLocales?.()[0]?.languageCode ?? "en";
  return code === "es" ? "es" : "en";
}

export function SessionProvider({ children, initial }: { children: ReactNode; initial?: Partial<{ business: Business; token: string; language: Language }> }) {
  const baked: Business | null = BAKED_TENANT
    ? { slug: BAKED_TENANT.slug, name: BAKED_TENANT.name, origin: originOf(BAKED_TENANT.apiBaseUrl) }
    : null;
  const [ready, setReady] = useState(false);
  const [business, setBusiness] = useState<Business | null>(initial?.business ?? baked);
  const [token, setToken] = useState<string | null>(initial?.token ?? null);
  const [language, setLanguageState] = useState<Language>(initial?.language ?? deviceLanguage());
  const [config, setConfig] = useState<PortalConfig | null>(null);
  const [tokens, setTokens] = useState<DesignTokens | null>(null);
  const [deviceId, setDeviceId] = useState("app");
  const signOutHooks = useRef<(() => Promise<void>)[]>([]);
  const live = useRef({ token, language });
  live.current = { token, language };
  const dark = useColorScheme() === "dark";

  useEffect(() => {
    (async () => {
      const [b, tk, lang, dev] = await Promise.all([
        storage.get(KEYS.business),
        storage.get(KEYS.token),
        storage.get(KEYS.language),
        storage.get(KEYS.device),
      ]);
      if (!baked && b && !initial?.business) setBusiness(JSON.parse(b));
      if (tk && !initial?.token) setToken(tk);
      if (lang === "en" || lang === "es") setLanguageState(lang);
      if (dev) setDeviceId(dev);
      else {
        const id = `${Platform.OS}-${Math.random().toString(36).slice(2, 12)}`;
        setDeviceId(id);
        await storage.set(KEYS.device, id);
      }
      setReady(true);
    })();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const api = useMemo(
    () =>
      business
        ? familyClient(business.origin, () => ({
            token: live.current.token,
            language: live.current.language,
            onUnauthorized: () => {
              setToken(null);
              void storage.remove(KEYS.token);
            },
          }))
        : null,
    [business],
  );

  const reloadConfig = useCallback(async () => {
    if (!api) return;
    const portal = await ok(api.GET("/api/v1/portal"));
    setConfig(portal);
    try {
      setTokens((await ok(api.GET("/api/v1/theme/tokens.json"))) as DesignTokens);
    } catch (exc) {
      if (!(exc instanceof ApiError)) throw exc;
    }
  }, [api]);

  useEffect(() => {
    setConfig(null);
    setTokens(null);
    if (api) reloadConfig().catch(() => setConfig(null));
  }, [api, token, reloadConfig]);

  const session: Session = {
    ready,
    business,
    token,
    config,
    settings: (config?.settings as unknown as PortalSettings) ?? null,
    api,
    deviceId,
    chooseBusiness: async (next) => {
      setToken(null);
      await storage.remove(KEYS.token);
      setBusiness(next);
      if (next) await storage.set(KEYS.business, JSON.stringify(next));
      else await storage.remove(KEYS.business);
    },
    signIn: async (next) => {
      setToken(next);
      await storage.set(KEYS.token, next);
    },
    signOut: async () => {
      for (const hook of signOutHooks.current) await hook().catch(() => undefined);
      if (api && token) await api.POST("/api/v1/auth/logout").catch(() => undefined);
      setToken(null);
      await storage.remove(KEYS.token);
    },
    reloadConfig,
    onSignOut: (hook) => {
      signOutHooks.current = [hook];
    },
  };
  const theme: Theme = tokens ? themeFromTokens(tokens, dark) : defaultTheme;
  const i18n = {
    language,
    t: (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) =>
      translate(language, key, vars),
    setLanguage: (next: Language) => {
      setLanguageState(next);
      void storage.set(KEYS.language, next);
    },
  };
  return (
    <SessionContext.Provider value={session}>
      <I18nContext.Provider value={i18n}>
        <ThemeContext.Provider value={theme}>{children}</ThemeContext.Provider>
      </I18nContext.Provider>
    </SessionContext.Provider>
  );
}
