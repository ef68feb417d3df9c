// The family: guardians, students, emergency contacts, policies still to accept; forms to add
// a student, a guardian or a contact.
import { useState } from "react";
import { Image } from "react-native";

import { useIsFocused } from "@react-navigation/native";

import { ok } from "../api/client";
import { type Family, typed } from "../api/types";
import { day } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi } from "../session";
import { Body, Button, Card, Chips, ErrorNotice, Field, Loading, Notice, Screen, Title, useAction, useLoad } from "../ui";

export default function FamilyScreen() {
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const focused = useIsFocused(); // back from a form: show what it saved
  const family = useLoad(async () => typed<Family>(await ok(api.GET("/api/v1/family"))), [api, focused]);
  const [signatures, setSignatures] = useState<Record<string, string>>({});
  const action = useAction();
  const f = family.data;
  if (!f) return <Screen>{family.loading ? <Loading /> : <ErrorNotice error={family.error} />}</Screen>;
  const pending = f.policies_to_accept as { policy: { id: number; title: string; body: string; version: number }; student_id: number | null }[];
  const accept = () =>
    action.run(async () => {
      const policies = pending.map((p) => ({
        policy: p.policy.id,
        version: p.policy.version,
        signature: signatures[`${p.policy.id}:${p.student_id ?? ""}`] ?? "",
        student: p.student_id,
      }));
      await ok(api.POST("/api/v1/family/policies", { body: { policies } }));
      await family.reload();
    });
  const removeContact = (id: number) =>
    action.run(async () => {
      await ok(api.DELETE("/api/v1/family/emergency-contacts/{contact_id}", { params: { path: { contact_id: id } } }));
      await family.reload();
    });
  return (
    <Screen onRefresh={() => void family.reload()}>
      <Title>{f.name}</Title>
      <ErrorNotice error={action.error} />
      {pending.length > 0 && (
        <Card>
          <Title level={2}>{t("family.policies")}</Title>
          {pending.map((p) => (
            <Field
              key={`${p.policy.id}:${p.student_id ?? ""}`}
              label={t("auth.signature", { policy: p.policy.title })}
              value={signatures[`${p.policy.id}:${p.student_id ?? ""}`] ?? ""}
              onChangeText={(v) => setSignatures({ ...signatures, [`${p.policy.id}:${p.student_id ?? ""}`]: v })}
            />
          ))}
          <Button title={t("family.accept")} onPress={accept} busy={action.busy} />
        </Card>
      )}
      <Title level={2}>{t("family.students")}</Title>
      {f.students.map((s) => (
        <Card key={s.id} label={`${s.first_name} ${s.last_name}`} onPress={() => navigation.navigate("StudentForm", { id: s.id })}>
          {s.photo_url ? (
            // A signed link valid for 15 minutes: the screen reloads the family when it is shown again.
            <Image source={{ uri: s.photo_url }} style={{ width: 64, height: 64, borderRadius: 32 }} accessibilityLabel={t("family.photoOf", { name: s.first_name })} testID={`photo-${s.id}`} />
          ) : null}
          <Title level={3}>{`${s.first_name} ${s.last_name}`}</Title>
          <Body muted>{[day(s.date_of_birth, language), s.level?.name].filter(Boolean).join(" · ")}</Body>
        </Card>
      ))}
      <Button kind="secondary" title={t("family.addStudent")} onPress={() => navigation.navigate("StudentForm")} />
      <Title level={2}>{t("family.guardians")}</Title>
      {f.guardians.map((g) => (
        <Card key={g.id}>
          <Title level={3}>{`${g.first_name} ${g.last_name}${g.is_primary ? ` · ${t("family.primary")}` : ""}`}</Title>
          <Body muted>{[g.email, g.phone].filter(Boolean).join(" · ")}</Body>
        </Card>
      ))}
      {f.you.is_primary && <Button kind="secondary" title={t("family.addGuardian")} onPress={() => navigation.navigate("GuardianForm")} />}
      <Title level={2}>{t("family.contacts")}</Title>
      {f.emergency_contacts.map((c) => (
        <Card key={c.id}>
          <Title level={3}>{c.name}</Title>
          <Body muted>{[c.relationship, c.phone].filter(Boolean).join(" · ")}</Body>
          <Button kind="link" title={`${t("family.remove")} ${c.name}`} onPress={() => removeContact(c.id)} />
        </Card>
      ))}
      <Button kind="secondary" title={t("family.addContact")} onPress={() => navigation.navigate("ContactForm")} />
    </Screen>
  );
}

export function StudentFormScreen({ route }: { route: { params?: { id?: number } } }) {
  const id = route.params?.id;
  const { t } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const existing = useLoad(async () => (id ? ok(api.GET("/api/v1/family/students/{student_id}", { params: { path: { student_id: id } } })) : null), [api, id]);
  const [form, setForm] = useState<{ first_name?: string; last_name?: string; date_of_birth?: string; gender?: string; medical_notes?: string }>({});
  const action = useAction();
  const value = { ...(existing.data ?? {}), ...form } as { first_name?: string; last_name?: string; date_of_birth?: string; gender?: string; medical_notes?: string };
  const save = () =>
    action.run(async () => {
      const body = {
        first_name: value.first_name ?? "",
        last_name: value.last_name ?? "",
        date_of_birth: (value.date_of_birth ?? "").trim(),
        gender: value.gender || "unspecified",
        medical_notes: value.medical_notes ?? "",
      };
      if (id) await ok(api.PATCH("/api/v1/family/students/{student_id}", { params: { path: { student_id: id } }, body }));
      else await ok(api.POST("/api/v1/family/students", { body }));
      navigation.goBack();
    });
  const f = action.fields;
  return (
    <Screen>
      <Title>{id ? `${value.first_name ?? ""} ${value.last_name ?? ""}` : t("family.addStudent")}</Title>
      <Field label={t("auth.firstName")} value={value.first_name ?? ""} onChangeText={(v) => setForm({ ...form, first_name: v })} error={f.first_name} />
      <Field label={t("auth.lastName")} value={value.last_name ?? ""} onChangeText={(v) => setForm({ ...form, last_name: v })} error={f.last_name} />
      <Field label={t("student.birth")} value={value.date_of_birth ?? ""} onChangeText={(v) => setForm({ ...form, date_of_birth: v })} error={f.date_of_birth} placeholder="2018-05-01" />
      <Chips
        label={t("student.gender")}
        options={[{ value: "female", label: t("gender.female") }, { value: "male", label: t("gender.male") }]}
        value={value.gender && value.gender !== "unspecified" ? value.gender : null}
        onChange={(v) => setForm({ ...form, gender: v ?? "unspecified" })}
      />
      <Field label={t("student.medical")} value={value.medical_notes ?? ""} onChangeText={(v) => setForm({ ...form, medical_notes: v })} multiline />
      <ErrorNotice error={action.error} />
      <Button title={t("app.save")} onPress={save} busy={action.busy} />
    </Screen>
  );
}

export function GuardianFormScreen() {
  const { t } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const [form, setForm] = useState({ first_name: "", last_name: "", email: "", phone: "", relationship: "" });
  const action = useAction();
  const save = () =>
    action.run(async () => {
      await ok(api.POST("/api/v1/family/guardians", { body: form }));
      navigation.goBack();
    });
  const f = action.fields;
  return (
    <Screen>
      <Title>{t("family.addGuardian")}</Title>
      <Field label={t("auth.firstName")} value={form.first_name} onChangeText={(v) => setForm({ ...form, first_name: v })} error={f.first_name} />
      <Field label={t("auth.lastName")} value={form.last_name} onChangeText={(v) => setForm({ ...form, last_name: v })} error={f.last_name} />
      <Field label={t("auth.email")} value={form.email} onChangeText={(v) => setForm({ ...form, email: v })} error={f.email} autoCapitalize="none" />
      <Field label={t("auth.phone")} value={form.phone} onChangeText={(v) => setForm({ ...form, phone: v })} />
      <Field label={t("contact.relationship")} value={form.relationship} onChangeText={(v) => setForm({ ...form, relationship: v })} />
      <ErrorNotice error={action.error} />
      <Button title={t("app.save")} onPress={save} busy={action.busy} />
    </Screen>
  );
}

export function ContactFormScreen() {
  const { t } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const [form, setForm] = useState({ name: "", phone: "", relationship: "" });
  const action = useAction();
  const save = () =>
    action.run(async () => {
      await ok(api.POST("/api/v1/family/emergency-contacts", { body: form }));
      navigation.goBack();
    });
  return (
    <Screen>
      <Title>{t("family.addContact")}</Title>
      <Field label={t("contact.name")} value={form.name} onChangeText={(v) => setForm({ ...form, name: v })} error={action.fields.name} />
      <Field label={t("auth.phone")} value={form.phone} onChangeText={(v) => setForm({ ...form, phone: v })} error={action.fields.phone} keyboardType="phone-pad" />
      <Field label={t("contact.relationship")} value={form.relationship} onChangeText={(v) => setForm({ ...form, relationship: v })} />
      {action.error ? <ErrorNotice error={action.error} /> : <Notice>{t("family.contacts")}</Notice>}
      <Button title={t("app.save")} onPress={save} busy={action.busy} />
    </Screen>
  );
}
