// One class: schedule, price, instructors, meeting dates; hold a seat for a student (or join
// the waitlist when it is full).
import { useState } from "react";

import { ApiError, ok } from "../api/client";
import { type OfferingDetail, typed } from "../api/types";
import { day, money } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { Body, Button, Card, CheckChips, Chips, ErrorNotice, LoadFailed, Loading, Notice, Screen, Title, useAction, useLoad } from "../ui";
import { availabilityText, scheduleText } from "./Classes";
import WaitingRoom, { isWaitingRoom } from "./WaitingRoom";

export default function ClassDetailScreen({ route }: { route: { params: { id: number } } }) {
  const { id } = route.params;
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { token, settings } = useSession();
  const offering = useLoad(async () => typed<OfferingDetail>(await ok(api.GET("/api/v1/offerings/{offering_id}", { params: { path: { offering_id: id } } }))), [api, id]);
  const students = useLoad(async () => (token ? ok(api.GET("/api/v1/family/students")) : []), [api, token]);
  const [student, setStudent] = useState<number | null>(null);
  const [joined, setJoined] = useState<string | null>(null);
  const [days, setDays] = useState<string[]>([]);
  const action = useAction();
  const o = offering.data;
  if (!o) {
    return <Screen>{offering.loading ? <Loading /> : <ErrorNotice error={offering.error} />}</Screen>;
  }
  const active = (students.data ?? []).filter((s) => s.is_active);
  const chosen = student ?? (active.length === 1 ? active[0].id : null);
  // A camp booked by the day or week: the family picks from its choices (no waitlist).
  const byDay = o.camp_unit_price != null;
  const full = o.availability.status === "FULL" && !byDay;
  const add = () =>
    action.run(async () => {
      await ok(api.POST("/api/v1/cart/items", { body: { offering: o.id, student: chosen!, ...(byDay ? { days } : {}) } }));
      navigation.navigate("Cart");
    });
  const joinWaitlist = () =>
    action.run(async () => {
      const entry = await ok(api.POST("/api/v1/waitlist", { body: { offering: o.id, student: chosen! } }));
      setJoined(t("detail.joined", { student: entry.student.first_name, position: entry.position ?? "?" }));
    });
  return (
    <Screen>
      <Title>{o.name}</Title>
      <Body muted>{[o.program.name, o.location?.name, o.term?.name].filter(Boolean).join(" · ")}</Body>
      <Body>{scheduleText(t, o)}</Body>
      <Body>{`${day(o.schedule.start_date, language)} – ${day(o.schedule.end_date, language)}`}</Body>
      {o.ages.min !== null || o.ages.max !== null ? <Body>{t("detail.ages", { min: o.ages.min ?? 0, max: o.ages.max ?? "+" })}</Body> : null}
      {settings?.show_levels !== false && o.levels.length > 0 ? <Body>{o.levels.map((l) => l.name).join(", ")}</Body> : null}
      {byDay ? (
        <Body>{`${t(o.camp_selection === "week" ? "detail.perWeek" : "detail.perDay")}: ${money(o.camp_unit_price ?? 0, o.price.currency, language)}${o.price.registration_fee ? ` · ${t("detail.fee")}: ${money(o.price.registration_fee, o.price.currency, language)}` : ""}`}</Body>
      ) : (
        <Body>{`${t("detail.tuition")}: ${o.price.tuition_billing === "monthly" ? t("price.perMonth", { amount: money(o.price.tuition, o.price.currency, language) }) : money(o.price.tuition, o.price.currency, language)}${o.price.registration_fee ? ` · ${t("detail.fee")}: ${money(o.price.registration_fee, o.price.currency, language)}` : ""}`}</Body>
      )}
      {o.price.tuition_billing === "monthly" ? <Body muted>{t("price.billingDay", { day: settings?.billing_day ?? 1 })}</Body> : null}
      <Body>{availabilityText(t, o)}</Body>
      {o.description ? <Body>{o.description}</Body> : null}
      {o.instructors.length > 0 && (
        <Card>
          <Title level={2}>{t("detail.instructors")}</Title>
          {o.instructors.map((i) => (
            <Body key={i.id}>{[i.display_name, i.bio].filter(Boolean).join(" — ")}</Body>
          ))}
        </Card>
      )}
      {!token ? (
        <Button title={t("detail.signInToEnroll")} onPress={() => navigation.navigate("SignIn")} />
      ) : students.error && !students.data ? (
        // The family's students did not load (busy server, lost connection): say so and offer
        // another try, rather than "add a student first" to a family that has students.
        isWaitingRoom(students.error) ? (
          <WaitingRoom error={students.error} retry={() => void students.reload()} />
        ) : (
          <LoadFailed load={students} />
        )
      ) : active.length === 0 && !students.loading ? (
        <>
          <Notice>{t("detail.needStudent")}</Notice>
          <Button title={t("family.addStudent")} onPress={() => navigation.navigate("StudentForm")} />
        </>
      ) : (
        <>
          <Chips label={t("detail.student")} options={active.map((s) => ({ value: s.id, label: `${s.first_name} ${s.last_name}` }))} value={chosen} onChange={setStudent} />
          {byDay ? (
            <CheckChips
              label={t(o.camp_selection === "week" ? "detail.chooseWeeks" : "detail.chooseDays")}
              options={(o.camp_choices ?? []).map((c) => ({
                value: c.start,
                disabled: c.status === "FULL",
                label: `${o.camp_selection === "week" ? t("detail.weekOf", { day: day(c.start, language) }) : day(c.start, language)} · ${money(c.price, o.price.currency, language)}${c.status === "FULL" ? ` · ${t("detail.full")}` : ""}`,
              }))}
              values={days}
              onChange={setDays}
            />
          ) : null}
          {isWaitingRoom(action.error) ? <WaitingRoom error={action.error} retry={full ? joinWaitlist : add} /> : <ErrorNotice error={action.error} />}
          {action.error instanceof ApiError && action.error.code === "policy_acceptance_required" ? (
            // The way forward: the family screen lists every policy still to sign.
            <Button kind="secondary" title={t("detail.acceptPolicies")} onPress={() => navigation.navigate("Family")} />
          ) : null}
          {joined ? <Notice kind="success">{joined}</Notice> : null}
          {full ? (
            <Button title={t("detail.waitlist")} onPress={joinWaitlist} busy={action.busy} disabled={!chosen || !!joined} />
          ) : (
            <Button title={t("detail.add")} onPress={add} busy={action.busy} disabled={!chosen || (byDay && days.length === 0)} />
          )}
        </>
      )}
      {o.meetings.length > 0 && (
        <Card>
          <Title level={2}>{t("detail.meetings")}</Title>
          <Body>{o.meetings.slice(0, 12).map((m) => day(m, language)).join("\n")}</Body>
        </Card>
      )}
    </Screen>
  );
}
