// Sign in and sign up (with the business's required policies, typed signatures and referral
// question). Both answer a bearer token; the device name goes along when the API takes it.
import * as Device from "expo-device";
import { useState } from "react";
import { View } from "react-native";

import { ok } from "../api/client";
import type { Policy } from "../api/types";
import { BAKED_TENANT } from "../config";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { Body, Button, Card, Chips, ErrorNotice, Field, Loading, Notice, Screen, Title, useAction, useLoad } from "../ui";

function deviceFields(deviceId: string) {
  return { device: deviceId, device_name: Device.deviceName ?? Device.modelName ?? "Family app" };
}

export function SignInScreen() {
  const { t, language, setLanguage } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { signIn, business, chooseBusiness, settings, deviceId, config } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  const submit = () =>
    run(async () => {
      const body = { email: email.trim(), password, ...deviceFields(deviceId) };
      const { token } = await ok(api.POST("/api/v1/auth/token", { body }));
      await signIn(token);
    });
  if (settings && settings.mobile_app_enabled === false) {
    return (
      <Screen>
        <Notice kind="error">{t("app.disabled", { business: business?.name ?? "" })}</Notice>
      </Screen>
    );
  }
  return (
    <Screen>
      <Title>{config?.settings ? String(config.settings.welcome_heading || business?.name) : business?.name}</Title>
      {config?.announcements?.map((a) => (
        <Notice key={a.id}>{`${a.title}${a.body ? ` — ${a.body}` : ""}`}</Notice>
      ))}
      <Title level={2}>{t("auth.signin")}</Title>
      <Field label={t("auth.email")} value={email} onChangeText={setEmail} autoCapitalize="none" keyboardType="email-address" autoComplete="email" />
      <Field label={t("auth.password")} value={password} onChangeText={setPassword} secureTextEntry autoComplete="password" onSubmitEditing={submit} />
      <ErrorNotice error={error} />
      <Button title={t("auth.signin")} onPress={submit} busy={busy} disabled={!email || !password} />
      {settings?.visitors_may_create_accounts !== false && (
        <Button kind="secondary" title={t("auth.noAccount")} onPress={() => navigation.navigate("SignUp")} />
      )}
      {settings?.list_visible_when_logged_out !== false && (
        <Button kind="link" title={t("classes.search")} onPress={() => navigation.navigate("Classes")} />
      )}
      <Button kind="link" title={language === "en" ? t("language.es") : t("language.en")} onPress={() => setLanguage(language === "en" ? "es" : "en")} />
      {!BAKED_TENANT && <Button kind="link" title={t("find.change")} onPress={() => chooseBusiness(null)} />}
    </Screen>
  );
}

export function SignUpScreen() {
  const { t } = useI18n();
  const api = useApi();
  const { signIn, business, settings, config, deviceId } = useSession();
  const policies = useLoad(() => ok(api.GET("/api/v1/policies")), [api]);
  const [form, setForm] = useState({ first_name: "", last_name: "", email: "", password: "", phone: "", referral_source: "" });
  const [signatures, setSignatures] = useState<Record<number, string>>({});
  const { busy, error, run, fields } = useAction();
  const set = (name: keyof typeof form) => (value: string) => setForm({ ...form, [name]: value });
  if (settings?.visitors_may_create_accounts === false) {
    return (
      <Screen>
        <Notice>{t("auth.signupClosed", { business: business?.name ?? "" })}</Notice>
      </Screen>
    );
  }
  const required: Policy[] = (policies.data ?? []).filter((p) => p.required_at_signup && p.scope === "family");
  const submit = () =>
    run(async () => {
      const body = {
        ...form,
        email: form.email.trim(),
        policies: required.map((p) => ({ policy: p.id, version: p.version, signature: signatures[p.id] ?? "" })),
        ...deviceFields(deviceId),
      };
      const { token } = await ok(api.POST("/api/v1/auth/signup", { body }));
      await signIn(token);
    });
  return (
    <Screen>
      <Title>{t("auth.signup")}</Title>
      <Field label={t("auth.firstName")} value={form.first_name} onChangeText={set("first_name")} error={fields.first_name} autoComplete="given-name" />
      <Field label={t("auth.lastName")} value={form.last_name} onChangeText={set("last_name")} error={fields.last_name} autoComplete="family-name" />
      <Field label={t("auth.email")} value={form.email} onChangeText={set("email")} error={fields.email} autoCapitalize="none" keyboardType="email-address" />
      <Field label={t("auth.password")} value={form.password} onChangeText={set("password")} error={fields.password} secureTextEntry />
      <Field label={t("auth.phone")} value={form.phone} onChangeText={set("phone")} keyboardType="phone-pad" />
      {settings?.referral_source_required ? (
        <Chips
          label={t("auth.referral")}
          options={(config?.referral_sources ?? []).map((s) => ({ value: s, label: s }))}
          value={form.referral_source || null}
          onChange={(v) => set("referral_source")(v ?? "")}
        />
      ) : null}
      {policies.loading ? <Loading /> : null}
      {required.length > 0 && <Title level={2}>{t("auth.policies")}</Title>}
      {required.map((policy) => (
        <Card key={policy.id}>
          <Title level={3}>{policy.title}</Title>
          <Body>{policy.body}</Body>
          <View>
            <Field
              label={t("auth.signature", { policy: policy.title })}
              value={signatures[policy.id] ?? ""}
              onChangeText={(v) => setSignatures({ ...signatures, [policy.id]: v })}
            />
          </View>
        </Card>
      ))}
      <ErrorNotice error={error} />
      <Button title={t("auth.signup")} onPress={submit} busy={busy} disabled={policies.loading} />
    </Screen>
  );
}
