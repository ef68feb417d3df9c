import { countdown, money } from "../src/format";
import { en, es, translate } from "../src/i18n";
import { defaultTheme, themeFromTokens } from "../src/theme";
import { pollDelaySeconds } from "../src/screens/WaitingRoom";
import { TOKENS } from "./server";

test("English and Spanish have the same messages, with the same placeholders", () => {
  expect(Object.keys(es).sort()).toEqual(Object.keys(en).sort());
  for (const key of Object.keys(en) as (keyof typeof en)[]) {
    const names = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
    expect([key, names(es[key])]).toEqual([key, names(en[key])]);
  }
  expect(translate("es", "cart.heldFor", { time: "4:59" })).toBe("Reservado por 4:59");
});

test("the theme comes from the business's published tokens", () => {
  const theme = themeFromTokens(TOKENS);
  expect(theme.colors.primary).toBe("#aa0055");
  expect(theme.colors.background).toBe("#fffaf0");
  expect(theme.radius).toBe(14);
  expect(theme.colors.error).toBe(defaultTheme.colors.error); // not in the tokens: the default
  expect(themeFromTokens(null)).toBe(defaultTheme);
});

test("money in minor units and the hold countdown", () => {
  expect(money(12050, "usd")).toBe("$120.50");
  expect(countdown(65)).toBe("1:05");
  expect(countdown(-3)).toBe("0:00");
});

test("the waiting room polls at the server's poll_seconds, within 1-60 s", () => {
  expect(pollDelaySeconds(1)).toBe(1);
  expect(pollDelaySeconds(20)).toBe(20);
  expect(pollDelaySeconds(0.2)).toBe(1);
  expect(pollDelaySeconds(3600)).toBe(60);
  expect(pollDelaySeconds(undefined)).toBe(2);
  expect(pollDelaySeconds(Number.NaN)).toBe(2);
});
