// The Expo app config. The shared app ("Family Portal", every business through the platform
// directory) is the default; a branded build (branded_apps/ writes branding.json beside this
// file) bakes one business in: its name, identifiers, icons, colours and API address.
import fs from "node:fs";
import path from "node:path";

import type { ConfigContext, ExpoConfig } from "expo/config";

type Branding = {
  name: string;
  slug: string;
  scheme: string;
  version: string;
  buildNumber: number;
  iosBundleIdentifier: string;
  androidPackage: string;
  supportsTablet?: boolean;
  colors: { primary: string; background: string };
  tenant: { slug: string; name: string; apiBaseUrl: string; runtimeConfigUrl?: string };
  platformUrl?: string;
  easProjectId?: string;
  locales?: string[];
};

const brandingFile = path.join(__dirname, "branding.json");
const branding: Branding | null = fs.existsSync(brandingFile)
  ? JSON.parse(fs.readFileSync(brandingFile, "utf8"))
  : null;

// The platform's address (the business directory), for the shared app and the demo.
const platformUrl = process.env.APP_PLATFORM_URL ?? branding?.platformUrl ?? "http://localhost:8000";

export default ({ config }: ConfigContext): ExpoConfig => {
  const name = branding?.name ?? "Family Portal";
  const colors = branding?.colors ?? { primary: "#1f4fd1", background: "#ffffff" };
  return {
    ...config,
    name,
    slug: branding?.slug ?? "family-portal",
    scheme: branding?.scheme ?? "familyportal",
    version: branding?.version ?? "1.0.0",
    orientation: "portrait",
    userInterfaceStyle: "automatic",
    icon: branding ? "./assets/icon.png" : undefined,
    primaryColor: colors.primary,
    backgroundColor: colors.background,
    platforms: ["ios", "android", "web"],
    ios: {
      bundleIdentifier: branding?.iosBundleIdentifier ?? "app.familyportal.shared",
      buildNumber: String(branding?.buildNumber ?? 1),
      supportsTablet: branding?.supportsTablet ?? false,
      infoPlist: { ITSAppUsesNonExemptEncryption: false },
    },
    android: {
      package: branding?.androidPackage ?? "app.familyportal.shared",
      versionCode: branding?.buildNumber ?? 1,
      adaptiveIcon: branding
        ? { foregroundImage: "./assets/adaptive-icon-foreground.png", backgroundColor: colors.primary }
        : undefined,
      permissions: ["POST_NOTIFICATIONS"],
    },
    web: { output: "single", bundler: "metro", name },
    locales: undefined,
    plugins: [
      ...(branding
        ? [["expo-splash-screen", { image: "./assets/splash.png", imageWidth: 200, resizeMode: "contain", backgroundColor: colors.background }] as [string, object]]
        : []),
      ["expo-notifications", { color: colors.primary }],
      ["@stripe/stripe-react-native", { merchantIdentifier: "", enableGooglePay: false }],
      "expo-secure-store",
      "expo-localization",
    ],
    extra: {
      platformUrl,
      // A branded app talks to its one business; the shared app asks the directory.
      tenant: branding?.tenant ?? null,
      eas: branding?.easProjectId ? { projectId: branding.easProjectId } : undefined,
    },
  };
};
