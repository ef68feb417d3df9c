// The shared app's first screen: find a business by name or code in the platform directory.
import { useState } from "react";
import { Image, View } from "react-native";

import { ok, platformClient } from "../api/client";
import type { DirectoryEntry } from "../api/types";
import { PLATFORM_URL } from "../config";
import { useI18n } from "../i18n";
import { originOf, useSession } from "../session";
import { Body, Button, Card, ErrorNotice, Field, Notice, Screen, Title, useAction } from "../ui";

export default function FindBusinessScreen() {
  const { t, language, setLanguage } = useI18n();
  const { chooseBusiness } = useSession();
  const [q, setQ] = useState("");
  const [results, setResults] = useState<DirectoryEntry[] | null>(null);
  const { busy, error, run } = useAction();
  const search = () =>
    run(async () => {
      const page = await ok(platformClient(PLATFORM_URL).GET("/api/platform/v1/directory", { params: { query: { q: q.trim() } } }));
      setResults(page.results);
    });
  return (
    <Screen>
      <Title>{t("find.title")}</Title>
      <Field label={t("find.label")} value={q} onChangeText={setQ} onSubmitEditing={search} autoCapitalize="none" returnKeyType="search" />
      <Button title={t("find.search")} onPress={search} busy={busy} disabled={!q.trim()} />
      <ErrorNotice error={error} />
      {results?.length === 0 && <Notice>{t("find.none", { q })}</Notice>}
      {results?.map((entry) => (
        <Card
          key={entry.slug}
          label={entry.name}
          onPress={() => chooseBusiness({ slug: entry.slug, name: entry.name, origin: originOf(entry.api_base_url), logoUrl: entry.logo_url })}
        >
          <View style={{ flexDirection: "row", alignItems: "center", gap: 12 }}>
            {entry.logo_url ? <Image source={{ uri: entry.logo_url }} style={{ width: 40, height: 40 }} accessibilityIgnoresInvertColors alt="" /> : null}
            <View>
              <Title level={3}>{entry.name}</Title>
              <Body muted>{entry.slug}</Body>
            </View>
          </View>
        </Card>
      ))}
      <Button kind="link" title={language === "en" ? t("language.es") : t("language.en")} onPress={() => setLanguage(language === "en" ? "es" : "en")} />
    </Screen>
  );
}
