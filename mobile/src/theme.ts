// The business's look, read at run time from its published design tokens (GET
// /api/v1/theme/tokens.json): a new colour or corner radius reaches installed apps without a
// new binary. Before the tokens arrive (or for the directory screen) the platform's defaults.
import { createContext, useContext } from "react";

import type { DesignTokens } from "./api/types";

export type Theme = {
  colors: {
    primary: string;
    onPrimary: string;
    secondary: string;
    accent: string;
    background: string;
    surface: string;
    text: string;
    muted: string;
    error: string;
    border: string;
  };
  radius: number;
  spacing: number;
  fontFamily?: string;
};

export const defaultTheme: Theme = {
  colors: {
    primary: "#1f4fd1",
    onPrimary: "#ffffff",
    secondary: "#0f766e",
    accent: "#b45309",
    background: "#ffffff",
    surface: "#f3f4f6",
    text: "#111827",
    muted: "#4b5563",
    error: "#b91c1c",
    border: "#d1d5db",
  },
  radius: 8,
  spacing: 8,
};

function hex(group: DesignTokens["color"], role: string): string | undefined {
  const token = group?.[role];
  if (!token || typeof token === "string") return undefined;
  return token.$value?.hex;
}

/** Theme from a DTCG token document; `dark` picks the dark scheme when the business has one. */
export function themeFromTokens(tokens: DesignTokens | null | undefined, dark = false): Theme {
  if (!tokens) return defaultTheme;
  const group = (dark && tokens["color-dark"]) || tokens.color;
  const c = defaultTheme.colors;
  const text = hex(group, "text") ?? c.text;
  const family = tokens.font?.family?.$value;
  return {
    colors: {
      primary: hex(group, "primary") ?? c.primary,
      onPrimary: hex(group, "on-primary") ?? c.onPrimary,
      secondary: hex(group, "secondary") ?? c.secondary,
      accent: hex(group, "accent") ?? c.accent,
      background: hex(group, "background") ?? c.background,
      surface: hex(group, "surface") ?? c.surface,
      text,
      muted: text,
      error: hex(group, "error") ?? c.error,
      border: hex(group, "surface") ?? c.border,
    },
    radius: tokens.radius?.base?.$value?.value ?? defaultTheme.radius,
    spacing: tokens.spacing?.base?.$value?.value ?? defaultTheme.spacing,
    fontFamily: Array.isArray(family) ? family[0] : family?.split(",")[0]?.replace(/["']/g, "").trim(),
  };
}

export const ThemeContext = createContext<Theme>(defaultTheme);
export const useTheme = () => useContext(ThemeContext);
