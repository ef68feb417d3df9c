// Waitlists: the family's position, and offers to accept (the seat moves into the cart) or
// decline (it goes to the next family).
import { useIsFocused } from "@react-navigation/native";

import { ok } from "../api/client";
import { dateTime } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { Body, Button, Card, ErrorNotice, Loading, Screen, Title, useAction, useLoad } from "../ui";

export default function WaitlistScreen() {
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { config } = useSession();
  const focused = useIsFocused();
  const entries = useLoad(() => ok(api.GET("/api/v1/waitlist")), [api, focused]);
  const action = useAction();
  const zone = config?.tenant.timezone ?? "UTC";
  const accept = (entryId: number) =>
    action.run(async () => {
      await ok(api.POST("/api/v1/waitlist/{entry_id}/accept", { params: { path: { entry_id: entryId } } }));
      navigation.navigate("Cart");
    });
  const decline = (entryId: number) =>
    action.run(async () => {
      await ok(api.DELETE("/api/v1/waitlist/{entry_id}", { params: { path: { entry_id: entryId } } }));
      await entries.reload();
    });
  const live = (entries.data ?? []).filter((e) => e.status === "waiting" || e.status === "offered");
  return (
    <Screen onRefresh={() => void entries.reload()}>
      <Title>{t("waitlist.title")}</Title>
      {entries.loading && !entries.data ? <Loading /> : null}
      <ErrorNotice error={entries.error ?? action.error} />
      {entries.data && live.length === 0 && <Body>{t("app.none")}</Body>}
      {live.map((entry) => (
        <Card key={entry.id}>
          <Title level={3}>{entry.offering.name}</Title>
          <Body muted>{entry.student.first_name}</Body>
          {entry.status === "offered" ? (
            <>
              <Body>{t("waitlist.offered", { until: entry.offer_expires_at ? dateTime(entry.offer_expires_at, zone, language) : "" })}</Body>
              <Button title={`${t("waitlist.accept")} ${entry.offering.name}`} onPress={() => accept(entry.id)} busy={action.busy} />
              <Button kind="secondary" title={`${t("waitlist.decline")} ${entry.offering.name}`} onPress={() => decline(entry.id)} />
            </>
          ) : (
            <>
              <Body>{t("waitlist.position", { position: entry.position ?? "?" })}</Body>
              <Button kind="link" title={`${t("waitlist.leave")}: ${entry.offering.name}`} onPress={() => decline(entry.id)} />
            </>
          )}
        </Card>
      ))}
    </Screen>
  );
}
