import { render } from "@testing-library/react-native";
import { SafeAreaProvider } from "react-native-safe-area-context";

import { Loading } from "../src/ui";
import { AppNavigator } from "../src/navigation";
import { SessionProvider, useSession } from "../src/session";
import type { Language } from "../src/i18n";

export const ACME = { slug: "acme", name: "Acme Gymnastics", origin: "http://acme.test" };

function Ready() {
  const { ready } = useSession();
  return ready ? <AppNavigator /> : <Loading />;
}

export function renderApp({ token = "tok", language = "en", business = ACME }: { token?: string | null; language?: Language; business?: typeof ACME | null } = {}) {
  return render(
    <SafeAreaProvider initialMetrics={{ frame: { x: 0, y: 0, width: 390, height: 844 }, insets: { top: 0, left: 0, right: 0, bottom: 0 } }}>
      <SessionProvider initial={{ business: business ?? undefined, token: token ?? undefined, language }}>
        <Ready />
      </SessionProvider>
    </SafeAreaProvider>,
  );
}
