// Home: the business's welcome, waitlist offers waiting for an answer, news, and the way in
// to the class finder.
import { useIsFocused } from "@react-navigation/native";

import { ok } from "../api/client";
import { dateTime } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { Body, Button, Card, ErrorNotice, Notice, Screen, Title, useLoad } from "../ui";

export default function HomeScreen() {
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { business, config, settings, reloadConfig } = useSession();
  const focused = useIsFocused();
  const waitlist = useLoad(() => ok(api.GET("/api/v1/waitlist")), [api, focused]);
  const offers = (waitlist.data ?? []).filter((e) => e.status === "offered");
  const zone = config?.tenant.timezone ?? "UTC";
  const app = (config?.app ?? {}) as { latest_version?: string | null };
  return (
    <Screen onRefresh={() => { void waitlist.reload(); void reloadConfig(); }}>
      <Title>{settings?.welcome_heading || t("home.welcome", { business: business?.name ?? "" })}</Title>
      {settings?.welcome_message ? <Body>{settings.welcome_message}</Body> : null}
      {offers.length > 0 && (
        <Card label={t("home.offers")} onPress={() => navigation.navigate("Waitlist")}>
          <Title level={2}>{t("home.offers")}</Title>
          {offers.map((offer) => (
            <Body key={offer.id}>
              {t("home.offerLine", {
                student: offer.student.first_name,
                offering: offer.offering.name,
                until: offer.offer_expires_at ? dateTime(offer.offer_expires_at, zone, language) : "",
              })}
            </Body>
          ))}
        </Card>
      )}
      <ErrorNotice error={waitlist.error} />
      {settings?.show_classes !== false && <Button title={t("home.findClass")} onPress={() => navigation.navigate("ClassFinder")} />}
      {(config?.announcements ?? []).length > 0 && <Title level={2}>{t("home.announcements")}</Title>}
      {(config?.announcements ?? []).map((a) => (
        <Notice key={a.id} kind={a.severity === "critical" ? "error" : "info"}>{`${a.title}${a.body ? `\n${a.body}` : ""}`}</Notice>
      ))}
      {app.latest_version && app.latest_version !== "1.0.0" ? <Body muted>{t("home.update")}</Body> : null}
    </Screen>
  );
}
