// The store, as the business allows: gift certificates (buy, check a balance, those bought)
// and punch passes (buy, visits left, use a visit).
import { useState } from "react";

import { ok } from "../api/client";
import { day, money } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { Body, Button, Card, Chips, ErrorNotice, Field, LoadFailed, Notice, Screen, Title, useAction, useLoad } from "../ui";

export default function StoreScreen() {
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { settings, config } = useSession();
  const currency = config?.tenant.currency ?? "USD";
  const giftsOn = settings?.gift_certificates_enabled === true;
  const passesOn = settings?.punch_passes_enabled === true && settings?.show_punch_passes !== false;
  const gifts = useLoad(async () => (giftsOn ? ok(api.GET("/api/v1/store/gift-certificates")) : []), [api, giftsOn]);
  const products = useLoad(async () => (passesOn ? ok(api.GET("/api/v1/store/punch-pass-products")) : []), [api, passesOn]);
  const passes = useLoad(async () => (passesOn ? ok(api.GET("/api/v1/store/punch-passes")) : []), [api, passesOn]);
  const [gift, setGift] = useState({ amount: "", recipient_name: "", recipient_email: "", message: "" });
  const [code, setCode] = useState("");
  const [balance, setBalance] = useState<string | null>(null);
  const [product, setProduct] = useState<number | null>(null);
  const action = useAction();
  const buyGift = () =>
    action.run(async () => {
      const order = await ok(
        api.POST("/api/v1/store/gift-certificates", { body: { ...gift, amount: Math.round(Number(gift.amount.replace(",", ".")) * 100) } }),
      );
      navigation.navigate("Order", { id: order.id });
    });
  const checkBalance = () =>
    action.run(async () => {
      const b = await ok(api.GET("/api/v1/store/gift-certificates/balance", { params: { query: { code: code.trim() } } }));
      setBalance(t("store.balance", { amount: money(b.balance, b.currency, language) }));
    });
  const buyPass = () =>
    action.run(async () => {
      const order = await ok(api.POST("/api/v1/store/punch-passes", { body: { product: product! } }));
      navigation.navigate("Order", { id: order.id });
    });
  return (
    <Screen>
      <Title>{t("store.title")}</Title>
      <ErrorNotice error={action.error} />
      {giftsOn && (
        <>
          <Title level={2}>{t("store.buyGift")}</Title>
          <Field label={`${t("store.amount")} (${currency})`} value={gift.amount} onChangeText={(v) => setGift({ ...gift, amount: v })} keyboardType="decimal-pad" error={action.fields.amount} />
          <Field label={t("store.recipientName")} value={gift.recipient_name} onChangeText={(v) => setGift({ ...gift, recipient_name: v })} error={action.fields.recipient_name} />
          <Field label={t("store.recipientEmail")} value={gift.recipient_email} onChangeText={(v) => setGift({ ...gift, recipient_email: v })} autoCapitalize="none" error={action.fields.recipient_email} />
          <Field label={t("store.message")} value={gift.message} onChangeText={(v) => setGift({ ...gift, message: v })} multiline />
          <Button title={t("store.buy")} onPress={buyGift} busy={action.busy} disabled={!gift.amount} />
          <Title level={2}>{t("store.balanceCheck")}</Title>
          <Field label={t("store.code")} value={code} onChangeText={setCode} autoCapitalize="characters" />
          <Button kind="secondary" title={t("store.balanceCheck")} onPress={checkBalance} disabled={!code.trim()} />
          {balance ? <Notice>{balance}</Notice> : null}
          <LoadFailed load={gifts} />
          {(gifts.data ?? []).map((g) => (
            <Card key={g.id}>
              <Body>{`${g.recipient_name} · ${money(g.balance, g.currency, language)} / ${money(g.initial_amount, g.currency, language)} · ${g.status}`}</Body>
            </Card>
          ))}
        </>
      )}
      {passesOn && (
        <>
          <Title level={2}>{t("store.passes")}</Title>
          <LoadFailed load={passes} />
          {(passes.data ?? []).map((p) => (
            <Card key={p.id}>
              <Title level={3}>{p.product.name}</Title>
              <Body>{t("store.visitsLeft", { left: p.visits_left, total: p.visits_total })}</Body>
              {p.expires_on ? <Body muted>{day(p.expires_on, language)}</Body> : null}
            </Card>
          ))}
          <LoadFailed load={products} />
          <Chips
            label={t("store.buy")}
            options={(products.data ?? []).map((p) => ({ value: p.id, label: `${p.name} · ${money(p.price, p.currency, language)}` }))}
            value={product}
            onChange={setProduct}
          />
          <Button title={t("store.buy")} onPress={buyPass} busy={action.busy} disabled={!product} />
        </>
      )}
    </Screen>
  );
}
