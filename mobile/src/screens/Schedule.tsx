// The family's schedule: each enrollment with its next meetings, this term's meetings so far with
// the attendance staff took, and the requests the business allows on it (absence, transfer,
// drop); makeup credits to book.
import { useIsFocused } from "@react-navigation/native";

import { ok } from "../api/client";
import { day } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { Body, Button, Card, ErrorNotice, Loading, Screen, Title, useLoad } from "../ui";

type PastMeeting = { date: string; attendance: string };
const MARKS = ["present", "late", "excused", "absent"] as const;

// This term's meetings so far, newest first, each with its mark (or "Not marked").
function TermSoFar({ meetings }: { meetings: PastMeeting[] }) {
  const { t, language } = useI18n();
  const count = (mark: string) => meetings.filter((m) => m.attendance === mark).length;
  const counts = Object.fromEntries(MARKS.map((mark) => [mark, count(mark)]));
  return (
    <>
      <Title level={3}>{t("schedule.term")}</Title>
      <Body muted>{t("schedule.termCounts", { total: meetings.length, ...counts })}</Body>
      {[...meetings].reverse().map((m) => (
        <Body key={m.date} testID={`mark-${m.date}`}>
          {`${day(m.date, language)} · ${(MARKS as readonly string[]).includes(m.attendance) ? t(`schedule.mark.${m.attendance}` as "schedule.mark.present") : t("schedule.mark.none")}`}
        </Body>
      ))}
    </>
  );
}

export default function ScheduleScreen() {
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { settings } = useSession();
  const focused = useIsFocused();
  const enrollments = useLoad(() => ok(api.GET("/api/v1/enrollments")), [api, focused]);
  const tokens = useLoad(async () => (settings?.makeups_enabled ? ok(api.GET("/api/v1/makeup-tokens")) : []), [api, settings?.makeups_enabled]);
  const shown = (enrollments.data ?? []).filter((e) => ["active", "pending", "reserved"].includes(e.status));
  return (
    <Screen onRefresh={() => { void enrollments.reload(); void tokens.reload(); }}>
      <Title>{t("schedule.title")}</Title>
      {enrollments.loading && !enrollments.data ? <Loading /> : null}
      <ErrorNotice error={enrollments.error} />
      {enrollments.data && shown.length === 0 && <Body>{t("app.none")}</Body>}
      {shown.map((e) => (
        <Card key={e.id}>
          <Title level={3}>{`${e.student.first_name} · ${e.offering.name}`}</Title>
          <Body muted>{[t(`enrollment.status.${e.status}` as "enrollment.status.active"), e.location, e.instructors.join(", ")].filter(Boolean).join(" · ")}</Body>
          {e.next_meetings.length > 0 && <Body>{t("schedule.next", { dates: e.next_meetings.slice(0, 3).map((d) => day(d, language)).join(", ") })}</Body>}
          {e.past_meetings.length > 0 && <TermSoFar meetings={e.past_meetings} />}
          {e.status === "active" && settings?.absences_enabled && (
            <Button kind="secondary" title={`${t("schedule.absence")}: ${e.offering.name}`} onPress={() => navigation.navigate("RequestForm", { type: "absence", enrollmentId: e.id })} />
          )}
          {e.status === "active" && settings?.transfers_enabled && (
            <Button kind="link" title={`${t("schedule.transfer")}: ${e.offering.name}`} onPress={() => navigation.navigate("RequestForm", { type: "transfer", enrollmentId: e.id })} />
          )}
          {e.status === "active" && settings?.drops_enabled && (
            <Button kind="link" title={`${t("schedule.drop")}: ${e.offering.name}`} onPress={() => navigation.navigate("RequestForm", { type: "drop", enrollmentId: e.id })} />
          )}
        </Card>
      ))}
      {(tokens.data ?? []).filter((tk) => tk.status === "available").length > 0 && <Title level={2}>{t("requests.tokens")}</Title>}
      {(tokens.data ?? [])
        .filter((tk) => tk.status === "available")
        .map((tk) => (
          <Card key={tk.id}>
            <Body>{t("requests.tokenLine", { student: String((tk.student as { first_name?: string }).first_name ?? ""), program: tk.program, date: day(tk.expires_on, language) })}</Body>
            <Button kind="secondary" title={t("schedule.makeup")} onPress={() => navigation.navigate("RequestForm", { type: "makeup", tokenId: tk.id })} />
          </Card>
        ))}
    </Screen>
  );
}
