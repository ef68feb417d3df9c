// The cart: each held seat with its live countdown (the hold lapses on the server when it
// reaches zero), server-side prices and discounts, an optional gift certificate, checkout.
import { useEffect, useState } from "react";
import { Text, View } from "react-native";
import { useIsFocused } from "@react-navigation/native";

import { ok } from "../api/client";
import type { Hold } from "../api/types";
import { countdown, day, money } from "../format";
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useApi, useSession } from "../session";
import { useTheme } from "../theme";
import { Body, Button, Card, ErrorNotice, Field, Loading, Notice, Screen, Title, useAction, useLoad } from "../ui";

function HoldTimer({ hold, loadedAt, onExpired }: { hold: Hold; loadedAt: number; onExpired: () => void }) {
  const { t } = useI18n();
  const theme = useTheme();
  const deadline = loadedAt + hold.seconds_left * 1000;
  const [left, setLeft] = useState(Math.max(0, Math.round((deadline - Date.now()) / 1000)));
  useEffect(() => {
    const tick = setInterval(() => {
      const next = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      setLeft(next);
      if (next === 0) {
        clearInterval(tick);
        onExpired();
      }
    }, 1000);
    return () => clearInterval(tick);
  }, [deadline, onExpired]);
  if (left === 0) return <Notice kind="error">{t("cart.expired")}</Notice>;
  return (
    <Text role="timer" aria-label={t("cart.timerLabel")} style={{ color: left < 120 ? theme.colors.error : theme.colors.text, fontSize: 16, fontWeight: "600" }}>
      {t("cart.heldFor", { time: countdown(left) })}
    </Text>
  );
}

export default function CartScreen() {
  const { t, language } = useI18n();
  const api = useApi();
  const navigation = useNav();
  const focused = useIsFocused();
  const [loadedAt, setLoadedAt] = useState(Date.now());
  const cart = useLoad(async () => {
    const body = await ok(api.GET("/api/v1/cart"));
    setLoadedAt(Date.now());
    return body;
  }, [api, focused]);
  const [gift, setGift] = useState("");
  const action = useAction();
  const { settings } = useSession();
  const c = cart.data;
  const monthly = (c?.items ?? []).filter((hold) => hold.tuition_billing === "monthly");
  const remove = (holdId: number) =>
    action.run(async () => {
      await ok(api.DELETE("/api/v1/cart/items/{hold_id}", { params: { path: { hold_id: holdId } } }));
      await cart.reload();
    });
  const checkout = () =>
    action.run(async () => {
      const order = await ok(api.POST("/api/v1/checkout", { body: gift.trim() ? { gift_certificate_code: gift.trim() } : {} }));
      navigation.navigate("Order", { id: order.id });
      void cart.reload();
    });
  return (
    <Screen onRefresh={() => void cart.reload()}>
      <Title>{t("cart.title")}</Title>
      {cart.loading && !c ? <Loading /> : null}
      <ErrorNotice error={cart.error} />
      {c && c.items.length === 0 && <Body>{t("cart.empty")}</Body>}
      {c?.items.map((hold) => (
        <Card key={hold.id}>
          <Title level={3}>{hold.offering.name}</Title>
          <Body muted>{hold.student.first_name}</Body>
          {hold.camp_days?.length ? <Body muted>{hold.camp_days.map((d) => day(d, language)).join(", ")}</Body> : null}
          <HoldTimer hold={hold} loadedAt={loadedAt} onExpired={() => void cart.reload()} />
          <Button kind="link" title={`${t("cart.remove")} ${hold.offering.name}`} onPress={() => remove(hold.id)} />
        </Card>
      ))}
      {c && c.items.length > 0 && (
        <Card>
          {c.lines.map((line, i) => (
            <View key={i} style={{ flexDirection: "row", justifyContent: "space-between", gap: 8 }}>
              <View style={{ flex: 1 }}>
                <Body>{line.description}</Body>
              </View>
              <Body>{money(line.amount, c.currency, language)}</Body>
            </View>
          ))}
          <View style={{ flexDirection: "row", justifyContent: "space-between" }}>
            <Title level={3}>{t("cart.total")}</Title>
            <Title level={3}>{money(c.total, c.currency, language)}</Title>
          </View>
        </Card>
      )}
      {c && c.items.length > 0 && (
        <>
          {monthly.length > 0 ? (
            <Notice>
              <Body>{t("cart.monthly", { day: settings?.billing_day ?? 1 })}</Body>
              {monthly.map((hold) => (
                <Body key={hold.id}>{`${hold.offering.name} — ${hold.student.first_name}: ${t("price.perMonth", { amount: money(hold.tuition, c.currency, language) })}`}</Body>
              ))}
            </Notice>
          ) : null}
          <Field label={t("cart.gift")} value={gift} onChangeText={setGift} autoCapitalize="characters" />
          <ErrorNotice error={action.error} />
          <Button title={t("cart.checkout")} onPress={checkout} busy={action.busy} />
        </>
      )}
    </Screen>
  );
}
