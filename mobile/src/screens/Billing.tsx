// Money: the ledger with its running balance (30 days or all), credit, the statement PDF, cards
// on file (the default one is what autopay charges), and orders still to pay.
import { useState } from "react";
import { View } from "react-native";

import { ok } from "../api/client";
import { dateTime, money } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { paymentSheetAvailable, usePaymentSheet } from "../payments";
import { useApi, useSession } from "../session";
import { openStatement } from "../statement";
import { Body, Button, Card, Chips, ErrorNotice, LoadFailed, Loading, Notice, Screen, Title, useAction, useLoad } from "../ui";

export default function BillingScreen() {
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { settings, config, business, token } = useSession();
  const [period, setPeriod] = useState<"30d" | "all">("30d");
  const ledger = useLoad(() => ok(api.GET("/api/v1/ledger", { params: { query: { period } } })), [api, period]);
  const cardsOn = settings?.stored_payment_method_policy !== "off";
  const cards = useLoad(async () => (cardsOn ? ok(api.GET("/api/v1/payment-methods")) : []), [api, cardsOn]);
  const action = useAction();
  const presentSheet = usePaymentSheet();
  const zone = config?.tenant.timezone ?? "UTC";
  const l = ledger.data;
  const setDefault = (id: number) =>
    action.run(async () => {
      await ok(api.POST("/api/v1/payment-methods/{method_id}/default", { params: { path: { method_id: id } } }));
      await cards.reload();
    });
  const remove = (id: number) =>
    action.run(async () => {
      await ok(api.DELETE("/api/v1/payment-methods/{method_id}", { params: { path: { method_id: id } } }));
      await cards.reload();
    });
  const addCard = () =>
    action.run(async () => {
      const setup = await ok(api.POST("/api/v1/payment-methods/setup"));
      if (await presentSheet({ clientSecret: setup.client_secret, stripeAccount: setup.stripe_account, merchant: business?.name ?? "", setup: true })) await cards.reload();
    });
  const statement = () =>
    action.run(async () => {
      const today = new Date().toISOString().slice(0, 10);
      const from = `${new Date().getFullYear()}-01-01`;
      await openStatement(`${business!.origin}/api/v1/ledger/statement?from=${from}&to=${today}`, token!);
    });
  // The ledger answers the unpaid orders too (checkouts not yet paid are not in the ledger).
  const unpaid = l?.unpaid_orders ?? [];
  return (
    <Screen onRefresh={() => { void ledger.reload(); void cards.reload(); }}>
      <Title>{t("billing.title")}</Title>
      <ErrorNotice error={action.error} />
      {unpaid.length > 0 && <Title level={2}>{t("billing.unpaid")}</Title>}
      {l &&
        unpaid.map((o) => (
          <Card key={o.order_id} label={t("order.title", { id: o.order_id })} onPress={() => navigation.navigate("Order", { id: o.order_id })}>
            <Body>{`${t("order.title", { id: o.order_id })} · ${money(o.amount_due, l.currency, language)}`}</Body>
            {o.description ? <Body muted>{o.description}</Body> : null}
          </Card>
        ))}
      {l && (
        <Card>
          <View style={{ flexDirection: "row", justifyContent: "space-between" }}>
            <Title level={3}>{t("billing.balance")}</Title>
            <Title level={3}>{money(l.balance, l.currency, language)}</Title>
          </View>
          {l.owed !== l.balance ? (
            <>
              <View style={{ flexDirection: "row", justifyContent: "space-between" }}>
                <Title level={3}>{t("billing.owed")}</Title>
                <Title level={3}>{money(l.owed, l.currency, language)}</Title>
              </View>
              <Body muted>{t("billing.owedNote")}</Body>
            </>
          ) : null}
          {l.past_due > 0 ? <Body>{`${t("billing.pastDue")}: ${money(l.past_due, l.currency, language)}`}</Body> : null}
          {l.credit ? <Body>{`${t("billing.credit")}: ${money(l.credit, l.currency, language)}`}</Body> : null}
        </Card>
      )}
      <Chips label={t("billing.title")} options={[{ value: "30d" as const, label: t("billing.period30") }, { value: "all" as const, label: t("billing.periodAll") }]} value={period} onChange={(v) => setPeriod(v ?? "30d")} />
      {ledger.loading && !l ? <Loading /> : <ErrorNotice error={ledger.error} />}
      {l?.entries.map((entry) => (
        <View key={entry.id} style={{ flexDirection: "row", justifyContent: "space-between", gap: 8 }}>
          <View style={{ flex: 1 }}>
            <Body>{entry.description}</Body>
            <Body muted>{dateTime(entry.created_at, zone, language)}</Body>
          </View>
          <Body>{money(entry.amount, entry.currency, language)}</Body>
        </View>
      ))}
      <Button kind="secondary" title={t("billing.statement")} onPress={statement} busy={action.busy} />
      <Title level={2}>{t("billing.cards")}</Title>
      {!cardsOn ? (
        <Notice>{t("billing.cardsOff")}</Notice>
      ) : (
        <>
          <Body muted>{t("billing.autopay")}</Body>
          <LoadFailed load={cards} />
          {(cards.data ?? []).map((card) => (
            <Card key={card.id}>
              <Title level={3}>{`${card.brand.toUpperCase()} •••• ${card.last4}`}</Title>
              <Body muted>{`${card.exp_month ?? ""}/${card.exp_year ?? ""}${card.is_default ? ` · ${t("billing.default")}` : ""}`}</Body>
              {!card.is_default && <Button kind="link" title={t("billing.makeDefault")} onPress={() => setDefault(card.id)} />}
              <Button kind="link" title={`${t("family.remove")} •••• ${card.last4}`} onPress={() => remove(card.id)} />
            </Card>
          ))}
          {paymentSheetAvailable && config?.payments?.publishable_key ? <Button kind="secondary" title={t("billing.addCard")} onPress={addCard} /> : null}
        </>
      )}
    </Screen>
  );
}
