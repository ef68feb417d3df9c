// An order: its lines and status; paying it with a saved card (any platform) or Stripe's
// payment sheet (phones). The order is paid when Stripe says so, so the screen checks again.
import { useEffect, useState } from "react";
import { View } from "react-native";

import { ok } from "../api/client";
import { dateTime, money } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { paymentSheetAvailable, usePaymentSheet } from "../payments";
import { useApi, useSession } from "../session";
import { Body, Button, Card, ErrorNotice, LoadFailed, Loading, Notice, Screen, Title, useAction, useLoad } from "../ui";

export default function OrderScreen({ route }: { route: { params: { id: number } } }) {
  const { id } = route.params;
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const { config, business } = useSession();
  const order = useLoad(() => ok(api.GET("/api/v1/orders/{order_id}", { params: { path: { order_id: id } } })), [api, id]);
  const cards = useLoad(() => ok(api.GET("/api/v1/payment-methods")), [api]);
  const [paying, setPaying] = useState(false);
  const action = useAction();
  const presentSheet = usePaymentSheet();
  const o = order.data;
  const awaiting = o?.status === "awaiting_payment";

  useEffect(() => {
    if (!paying || !awaiting) return;
    const poll = setTimeout(() => void order.reload(), 1500);
    return () => clearTimeout(poll);
  }, [paying, awaiting, order]);

  const paySaved = (methodId: number) =>
    action.run(async () => {
      await ok(api.POST("/api/v1/orders/{order_id}/pay", { params: { path: { order_id: id } }, body: { payment_method: methodId } }));
      setPaying(true);
      await order.reload();
    });
  const payWithSheet = () =>
    action.run(async () => {
      const payment = await ok(api.POST("/api/v1/orders/{order_id}/pay", { params: { path: { order_id: id } }, body: {} }));
      const paid = await presentSheet({ clientSecret: payment.client_secret, stripeAccount: payment.stripe_account, merchant: business?.name ?? "" });
      if (paid) {
        setPaying(true);
        await order.reload();
      }
    });
  if (!o) return <Screen>{order.loading ? <Loading /> : <ErrorNotice error={order.error} />}</Screen>;
  const zone = config?.tenant.timezone ?? "UTC";
  return (
    <Screen onRefresh={() => void order.reload()}>
      <Title>{t("order.title", { id: o.id })}</Title>
      <Body>{t(`order.status.${o.status}` as "order.status.confirmed")}</Body>
      <Card>
        {o.lines.map((line, i) => (
          <View key={i} style={{ flexDirection: "row", justifyContent: "space-between", gap: 8 }}>
            <View style={{ flex: 1 }}>
              <Body>{line.description}</Body>
            </View>
            <Body>{money(line.amount, o.currency, language)}</Body>
          </View>
        ))}
        <View style={{ flexDirection: "row", justifyContent: "space-between" }}>
          <Title level={3}>{t("cart.total")}</Title>
          <Title level={3}>{money(o.total, o.currency, language)}</Title>
        </View>
        {o.tenders.map((tender, i) => (
          <View key={`tender-${i}`} style={{ flexDirection: "row", justifyContent: "space-between", gap: 8 }}>
            <View style={{ flex: 1 }}>
              <Body>{tender.description}</Body>
            </View>
            <Body>{money(-tender.amount, o.currency, language)}</Body>
          </View>
        ))}
        {o.tenders.length > 0 && (
          <View style={{ flexDirection: "row", justifyContent: "space-between" }}>
            <Title level={3}>{t("order.amountDue")}</Title>
            <Title level={3}>{money(o.amount_due, o.currency, language)}</Title>
          </View>
        )}
      </Card>
      {o.status === "confirmed" && (
        <>
          <Notice kind="success">{t("order.paid")}</Notice>
          <Button title={t("order.schedule")} onPress={() => navigation.navigate("Tabs")} />
        </>
      )}
      {awaiting && (
        <>
          {o.expires_at ? <Body>{t("order.payBefore", { time: dateTime(o.expires_at, zone, language) })}</Body> : null}
          {paying ? <Notice>{t("order.processing")}</Notice> : null}
          <ErrorNotice error={action.error} />
          <LoadFailed load={cards} />
          {(cards.data ?? []).map((card) => (
            <Button key={card.id} title={t("order.payWith", { brand: card.brand.toUpperCase(), last4: card.last4 })} onPress={() => paySaved(card.id)} busy={action.busy} />
          ))}
          {paymentSheetAvailable && config?.payments?.publishable_key ? (
            <Button kind="secondary" title={t("order.payNewCard")} onPress={payWithSheet} busy={action.busy} />
          ) : cards.data && cards.data.length === 0 ? (
            <Notice>{t("order.noCards")}</Notice>
          ) : null}
        </>
      )}
    </Screen>
  );
}
