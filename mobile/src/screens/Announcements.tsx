// The business's news for this family (their audience), newest rules first.
import { ok } from "../api/client";
import { useI18n } from "../i18n";
import { useApi } from "../session";
import { Body, Card, ErrorNotice, Loading, Screen, Title, useLoad } from "../ui";

export default function AnnouncementsScreen() {
  const { t } = useI18n();
  const api = useApi();
  const news = useLoad(() => ok(api.GET("/api/v1/announcements")), [api]);
  return (
    <Screen onRefresh={() => void news.reload()}>
      <Title>{t("announcements.title")}</Title>
      {news.loading && !news.data ? <Loading /> : <ErrorNotice error={news.error} />}
      {news.data?.length === 0 && <Body>{t("app.none")}</Body>}
      {news.data?.map((a) => (
        <Card key={a.id}>
          <Title level={3}>{a.title}</Title>
          {a.body ? <Body>{a.body}</Body> : null}
        </Card>
      ))}
    </Screen>
  );
}
