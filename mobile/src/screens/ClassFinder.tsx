// "Find the right class": one of the family's students (signed in), or an age and gender.
import { useState } from "react";

import { ok } from "../api/client";
import { type Offering, typed } from "../api/types";
import { useI18n } from "../i18n";
import { useApi, useSession } from "../session";
import { Body, Button, Chips, ErrorNotice, Field, LoadFailed, Notice, Screen, Title, useAction, useLoad } from "../ui";
import { OfferingCard } from "./Classes";

export default function ClassFinderScreen() {
  const { t } = useI18n();
  const api = useApi();
  const { token } = useSession();
  const students = useLoad(async () => (token ? ok(api.GET("/api/v1/family/students")) : []), [api, token]);
  const [student, setStudent] = useState<number | null>(null);
  const [age, setAge] = useState("");
  const [gender, setGender] = useState<"female" | "male" | null>(null);
  const [results, setResults] = useState<Offering[] | null>(null);
  const { busy, error, run } = useAction();
  const find = () =>
    run(async () => {
      const query = student ? { student } : { age: Number(age), gender: gender ?? undefined };
      const page = await ok(api.GET("/api/v1/offerings/match", { params: { query: { ...query, page_size: 50 } } }));
      setResults(typed<Offering[]>(page.results));
    });
  return (
    <Screen>
      <Title>{t("finder.title")}</Title>
      <Body>{t("finder.intro")}</Body>
      {/* The finder still works by age when the students did not load; say why they are missing. */}
      <LoadFailed load={students} />
      {(students.data ?? []).length > 0 && (
        <Chips label={t("finder.forStudent")} options={(students.data ?? []).map((s) => ({ value: s.id, label: s.first_name }))} value={student} onChange={setStudent} />
      )}
      {!student && (
        <>
          <Field label={t("classes.age")} value={age} onChangeText={(v) => setAge(v.replace(/\D/g, ""))} keyboardType="number-pad" />
          <Chips label={t("finder.gender")} options={[{ value: "female" as const, label: t("gender.female") }, { value: "male" as const, label: t("gender.male") }]} value={gender} onChange={setGender} />
        </>
      )}
      <Button title={t("finder.show")} onPress={find} busy={busy} disabled={!student && !age} />
      <ErrorNotice error={error} />
      {results?.length === 0 && <Notice>{t("classes.none")}</Notice>}
      {results?.map((o) => <OfferingCard key={o.id} offering={o} />)}
    </Screen>
  );
}
