// Everything else: family, waitlist, requests, billing, store and news (as the business's
// switches allow), language, and signing out.
import { useI18n } from "../i18n";
import { useNav } from "../navigation";
import { useSession } from "../session";
import { Button, Chips, Screen, Title } from "../ui";

export default function MoreScreen() {
  const { t, language, setLanguage } = useI18n();
  const navigation = useNav();
  const { settings, signOut, business } = useSession();
  const storeOn = settings?.gift_certificates_enabled || (settings?.punch_passes_enabled && settings?.show_punch_passes !== false);
  return (
    <Screen>
      <Title>{business?.name ?? t("more.title")}</Title>
      <Button kind="secondary" title={t("family.title")} onPress={() => navigation.navigate("Family")} />
      <Button kind="secondary" title={t("waitlist.title")} onPress={() => navigation.navigate("Waitlist")} />
      <Button kind="secondary" title={t("requests.title")} onPress={() => navigation.navigate("Requests")} />
      <Button kind="secondary" title={t("billing.title")} onPress={() => navigation.navigate("Billing")} />
      {storeOn ? <Button kind="secondary" title={t("store.title")} onPress={() => navigation.navigate("Store")} /> : null}
      <Button kind="secondary" title={t("announcements.title")} onPress={() => navigation.navigate("Announcements")} />
      <Chips
        label={t("language")}
        options={[{ value: "en" as const, label: t("language.en") }, { value: "es" as const, label: t("language.es") }]}
        value={language}
        onChange={(v) => v && setLanguage(v)}
      />
      <Button kind="danger" title={t("auth.signout")} onPress={() => void signOut()} />
    </Screen>
  );
}
