// Class search with the business's own filters (programs, locations, levels, days, times,
// ages), availability as the business shows it (numbers or FULL/OPEN).
import { useCallback, useState } from "react";
import { View } from "react-native";

import { ApiError, ok } from "../api/client";
import { type Offering, type OfferingFilters, type PaginatedOfferings, typed } from "../api/types";
import { money } from "../format";
import { type T, useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { Body, Button, Card, Chips, ErrorNotice, Field, Loading, Notice, Screen, Title, Toggle, useLoad } from "../ui";
import WaitingRoom, { isWaitingRoom } from "./WaitingRoom";

type Query = {
  q: string;
  kind: string | null;
  program: number | null;
  location: number | null;
  level: number | null;
  day: string | null;
  time_of_day: string | null;
  age: string;
  has_openings: boolean;
};
const EMPTY: Query = { q: "", kind: null, program: null, location: null, level: null, day: null, time_of_day: null, age: "", has_openings: false };

export function availabilityText(t: T, offering: Offering): string {
  const a = offering.availability;
  const seats = a.status === "FULL" ? t("classes.full") : a.openings === null || a.openings === undefined ? t("classes.open") : t("classes.openings", { count: a.openings });
  return a.waitlist ? `${seats} · ${t("classes.waitlist", { count: a.waitlist })}` : seats;
}

export function scheduleText(t: T, offering: Offering): string {
  const days = offering.schedule.days.map((d) => t(`day.${d}` as "day.mon")).join(", ");
  return `${days} ${offering.schedule.start_time}–${offering.schedule.end_time}`;
}

export function OfferingCard({ offering }: { offering: Offering }) {
  const { t, language } = useI18n();
  const navigation = useNav();
  return (
    <Card label={offering.name} onPress={() => navigation.navigate("ClassDetail", { id: offering.id })}>
      <Title level={3}>{offering.name}</Title>
      <Body muted>{[t(`kind.${offering.kind}` as "kind.class"), offering.program.name, offering.location?.name].filter(Boolean).join(" · ")}</Body>
      <Body>{scheduleText(t, offering)}</Body>
      <Body>{`${money(offering.price.tuition, offering.price.currency, language)} · ${availabilityText(t, offering)}`}</Body>
    </Card>
  );
}

export default function ClassesScreen() {
  const { t } = useI18n();
  const api = useApi();
  const { settings } = useSession();
  const [draft, setDraft] = useState<Query>(EMPTY);
  const [query, setQuery] = useState<Query>(EMPTY);
  const [showFilters, setShowFilters] = useState(false);
  const filters = useLoad(() => ok(api.GET("/api/v1/offerings/filters")), [api]);
  const results = useLoad(
    async () =>
      typed<PaginatedOfferings>(
        await ok(
        api.GET("/api/v1/offerings", {
          params: {
            query: {
              q: query.q || undefined,
              kind: query.kind ?? undefined,
              program: query.program ? String(query.program) : undefined,
              location: query.location ? String(query.location) : undefined,
              level: query.level ? String(query.level) : undefined,
              day: query.day ?? undefined,
              time_of_day: query.time_of_day ?? undefined,
              age: query.age ? Number(query.age) : undefined,
              has_openings: query.has_openings || undefined,
              page_size: 50,
            },
          },
        }),
      )),
    [api, query],
  );
  const retry = useCallback(() => void results.reload(), [results]);
  const f: OfferingFilters | null = filters.data;
  const apply = () => {
    setQuery(draft);
    setShowFilters(false);
  };
  return (
    <Screen onRefresh={retry}>
      <Field label={t("classes.search")} value={draft.q} onChangeText={(q) => setDraft({ ...draft, q })} onSubmitEditing={apply} returnKeyType="search" />
      <View style={{ flexDirection: "row", gap: 8 }}>
        <View style={{ flex: 1 }}>
          <Button title={t("find.search")} onPress={apply} />
        </View>
        <View style={{ flex: 1 }}>
          <Button kind="secondary" title={t("classes.filters")} onPress={() => setShowFilters(!showFilters)} />
        </View>
      </View>
      {showFilters && f && (
        <Card>
          {f.kinds.length > 1 && (
            <Chips label={t("classes.kind")} options={f.kinds.map((k) => ({ value: k.id, label: t(`kind.${k.id}` as "kind.class") }))} value={draft.kind} onChange={(kind) => setDraft({ ...draft, kind })} />
          )}
          {f.programs.length > 1 && <Chips label={t("classes.program")} options={f.programs.map((p) => ({ value: p.id, label: p.name }))} value={draft.program} onChange={(program) => setDraft({ ...draft, program })} />}
          {f.locations.length > 1 && <Chips label={t("classes.location")} options={f.locations.map((l) => ({ value: l.id, label: l.name }))} value={draft.location} onChange={(location) => setDraft({ ...draft, location })} />}
          {settings?.show_levels !== false && f.levels.length > 0 && (
            <Chips label={t("classes.level")} options={f.levels.map((l) => ({ value: l.id, label: l.name }))} value={draft.level} onChange={(level) => setDraft({ ...draft, level })} />
          )}
          <Chips label={t("classes.day")} options={f.days.map((d) => ({ value: d, label: t(`day.${d}` as "day.mon") }))} value={draft.day} onChange={(day) => setDraft({ ...draft, day })} />
          <Chips label={t("classes.time")} options={f.times_of_day.map((d) => ({ value: d, label: t(`time.${d}` as "time.morning") }))} value={draft.time_of_day} onChange={(time_of_day) => setDraft({ ...draft, time_of_day })} />
          <Field label={t("classes.age")} value={draft.age} onChangeText={(age) => setDraft({ ...draft, age: age.replace(/\D/g, "") })} keyboardType="number-pad" />
          <Toggle label={t("classes.openOnly")} value={draft.has_openings} onChange={(has_openings) => setDraft({ ...draft, has_openings })} />
          <Button title={t("classes.apply")} onPress={apply} />
          <Button kind="link" title={t("classes.clear")} onPress={() => { setDraft(EMPTY); setQuery(EMPTY); }} />
        </Card>
      )}
      {results.loading && !results.data ? <Loading /> : null}
      {isWaitingRoom(results.error) ? (
        <WaitingRoom error={results.error as ApiError} retry={retry} />
      ) : results.error instanceof ApiError && results.error.code === "login_required" ? (
        <Notice>{t("classes.loginRequired")}</Notice>
      ) : (
        <ErrorNotice error={results.error} />
      )}
      {results.data && <Body muted>{t("classes.count", { count: results.data.count })}</Body>}
      {results.data?.count === 0 && <Notice>{t("classes.none")}</Notice>}
      {results.data?.results.map((offering) => <OfferingCard key={offering.id} offering={offering} />)}
    </Screen>
  );
}
