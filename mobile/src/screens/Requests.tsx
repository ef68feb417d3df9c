// The family's requests with their status and the business's note; pending ones can be
// cancelled.
import { useIsFocused } from "@react-navigation/native";

import { ok } from "../api/client";
import { day } from "../format";
import { useI18n } from "../i18n";
import { useApi } from "../session";
import { Body, Button, Card, ErrorNotice, Loading, Screen, Title, useAction, useLoad } from "../ui";

export default function RequestsScreen() {
  const { t, language } = useI18n();
  const api = useApi();
  const focused = useIsFocused();
  const requests = useLoad(() => ok(api.GET("/api/v1/requests")), [api, focused]);
  const action = useAction();
  const cancel = (id: number) =>
    action.run(async () => {
      await ok(api.POST("/api/v1/requests/{request_id}/cancel", { params: { path: { request_id: id } } }));
      await requests.reload();
    });
  const list = [...(requests.data ?? [])].reverse();
  return (
    <Screen onRefresh={() => void requests.reload()}>
      <Title>{t("requests.title")}</Title>
      {requests.loading && !requests.data ? <Loading /> : null}
      <ErrorNotice error={requests.error ?? action.error} />
      {requests.data && list.length === 0 && <Body>{t("app.none")}</Body>}
      {list.map((r) => (
        <Card key={r.id}>
          <Title level={3}>{`${t(`requests.type.${r.type}` as "requests.type.absence")} · ${(r.student as { first_name?: string }).first_name ?? ""}`}</Title>
          <Body>{t(`requests.status.${r.status}` as "requests.status.pending")}</Body>
          {r.meeting_date ? <Body muted>{day(r.meeting_date, language)}</Body> : null}
          {r.effective_date ? <Body muted>{day(r.effective_date, language)}</Body> : null}
          {r.staff_note ? <Body>{`“${r.staff_note}”`}</Body> : null}
          {r.status === "pending" && <Button kind="link" title={t("requests.cancel")} onPress={() => cancel(r.id)} />}
        </Card>
      ))}
    </Screen>
  );
}
