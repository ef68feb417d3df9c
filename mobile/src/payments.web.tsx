// The web build pays with a saved card only (the web portal has the full Payment Element).
import type { ReactNode } from "react";

export const paymentSheetAvailable = false;

export function PaymentsProvider({ children }: { publishableKey: string | null; stripeAccount: string | null; children: ReactNode }) {
  return <>{children}</>;
}

export function usePaymentSheet() {
  return async (_: { clientSecret: string; stripeAccount: string; merchant: string; setup?: boolean }): Promise<boolean> => {
    throw new Error("Card entry is not available here: use a saved card, or the website.");
  };
}
