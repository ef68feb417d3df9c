// The family app: session (business, token, runtime config) -> theme and language -> payments
// -> navigation. Push registration follows the signed-in family.
import { StatusBar } from "expo-status-bar";
import { useEffect } from "react";
import { SafeAreaProvider } from "react-native-safe-area-context";

import { AppNavigator } from "./navigation";
import { PaymentsProvider } from "./payments";
import { registerForPush, unregisterPush } from "./push";
import { useI18n } from "./i18n";
import { SessionProvider, useSession } from "./session";
import { Loading } from "./ui";

function PushRegistration() {
  const { api, token, onSignOut } = useSession();
  const { language } = useI18n();
  useEffect(() => {
    if (!api || !token) return;
    let deviceId: number | null = null;
    registerForPush(api, language)
      .then((id) => {
        deviceId = id;
      })
      .catch(() => undefined); // no permission or no network: the family still gets email
    onSignOut(async () => {
      if (deviceId !== null) await unregisterPush(api, deviceId);
    });
  }, [api, token, language, onSignOut]);
  return null;
}

function Root() {
  const { ready, config } = useSession();
  if (!ready) return <Loading />;
  return (
    <PaymentsProvider publishableKey={config?.payments?.publishable_key ?? null} stripeAccount={config?.payments?.stripe_account ?? null}>
      <PushRegistration />
      <AppNavigator />
      <StatusBar style="auto" />
    </PaymentsProvider>
  );
}

export default function App() {
  return (
    <SafeAreaProvider>
      <SessionProvider>
        <Root />
      </SessionProvider>
    </SafeAreaProvider>
  );
}
