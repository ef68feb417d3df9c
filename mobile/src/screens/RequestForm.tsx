// Requests on an enrollment: report an absence (a meeting date), transfer (another class, with
// the prorated price difference first), drop (a last day and a reason), or book a makeup with a
// credit (a class and one of its meeting dates).
import { useState } from "react";

import { ok } from "../api/client";
import { type Enrollment, typed } from "../api/types";
import { day, money } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { Body, Button, Chips, ErrorNotice, Field, Loading, Notice, Screen, Title, useAction, useLoad } from "../ui";

type Params = { type: "absence" | "transfer" | "drop" | "makeup"; enrollmentId?: number; tokenId?: number };

export default function RequestFormScreen({ route }: { route: { params: Params } }) {
  const { type, enrollmentId, tokenId } = route.params;
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { settings } = useSession();
  const enrollments = useLoad(async () => typed<Enrollment[]>(await ok(api.GET("/api/v1/enrollments"))), [api]);
  const enrollment = (enrollments.data ?? []).find((e) => e.id === enrollmentId);
  const needsOfferings = type === "transfer" || type === "makeup";
  const offerings = useLoad(
    async () => (needsOfferings ? (await ok(api.GET("/api/v1/offerings", { params: { query: { kind: "class", page_size: 100 } } }))).results : []),
    [api, needsOfferings],
  );
  const [meeting, setMeeting] = useState<string | null>(null);
  const [target, setTarget] = useState<number | null>(null);
  const [reason, setReason] = useState("");
  const [effective, setEffective] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const targetDetail = useLoad(
    async () => (type === "makeup" && target ? ok(api.GET("/api/v1/offerings/{offering_id}", { params: { path: { offering_id: target } } })) : null),
    [api, type, target],
  );
  const preview = useLoad(
    async () =>
      type === "transfer" && target && enrollmentId
        ? ok(api.GET("/api/v1/requests/transfer-preview", { params: { query: { enrollment: enrollmentId, offering: target } } }))
        : null,
    [api, type, target, enrollmentId],
  );
  const action = useAction();
  const submit = () =>
    action.run(async () => {
      const body =
        type === "absence"
          ? { type, enrollment: enrollmentId, meeting_date: meeting ?? undefined, reason }
          : type === "transfer"
            ? { type, enrollment: enrollmentId, offering: target ?? undefined, reason }
            : type === "drop"
              ? { type, enrollment: enrollmentId, effective_date: effective.trim(), reason }
              : { type, makeup_token: tokenId, offering: target ?? undefined, meeting_date: meeting ?? undefined, reason: "" };
      const created = await ok(api.POST("/api/v1/requests", { body }));
      setDone(t("request.sent", { status: t(`requests.status.${created.status}` as "requests.status.pending") }));
    });
  const meetingsFrom = type === "absence" ? (enrollment?.next_meetings ?? []) : (targetDetail.data?.meetings ?? []).filter((d) => d >= new Date().toISOString().slice(0, 10));
  return (
    <Screen>
      <Title>{t(`request.${type}.title`)}</Title>
      {enrollment ? <Body muted>{`${enrollment.student.first_name} · ${enrollment.offering.name}`}</Body> : null}
      {enrollments.loading || offerings.loading ? <Loading /> : null}
      {needsOfferings && (
        <Chips
          label={t("request.target")}
          options={(offerings.data ?? []).filter((o) => o.id !== enrollment?.offering.id).map((o) => ({ value: o.id, label: o.name }))}
          value={target}
          onChange={setTarget}
        />
      )}
      {preview.data ? <Body>{t("request.preview", { amount: money(preview.data.difference, preview.data.currency, language) })}</Body> : null}
      <ErrorNotice error={preview.error} />
      {(type === "absence" || type === "makeup") && (
        <Chips label={t("request.meeting")} options={meetingsFrom.slice(0, 10).map((d) => ({ value: d, label: day(d, language) }))} value={meeting} onChange={setMeeting} />
      )}
      {type === "drop" && <Field label={t("request.effective")} value={effective} onChangeText={setEffective} placeholder="2027-01-31" />}
      {type !== "makeup" && (
        <Field label={t("request.reason")} value={reason} onChangeText={setReason} multiline error={action.fields.reason} />
      )}
      {type === "drop" && settings?.drop_notice_days ? <Body muted>{`${settings.drop_notice_days}+`}</Body> : null}
      <ErrorNotice error={action.error} />
      {done ? (
        <>
          <Notice kind="success">{done}</Notice>
          <Button title={t("requests.title")} onPress={() => navigation.navigate("Requests")} />
        </>
      ) : (
        <Button title={t("request.submit")} onPress={submit} busy={action.busy} />
      )}
    </Screen>
  );
}
