// Card payments on phones: Stripe's payment sheet (card data goes to Stripe, never to us), on
// the business's connected account. Saved cards are charged by the server (POST
// /orders/{id}/pay with payment_method) on every platform.
import { StripeProvider, useStripe } from "@stripe/stripe-react-native";
import type { ReactNode } from "react";

export const paymentSheetAvailable = true;

export function PaymentsProvider({ publishableKey, stripeAccount, children }: { publishableKey: string | null; stripeAccount: string | null; children: ReactNode }) {
  if (!publishableKey) return <>{children}</>;
  return (
    <StripeProvider publishableKey={publishableKey} stripeAccountId={stripeAccount ?? undefined}>
      <>{children}</>
    </StripeProvider>
  );
}

/** Presents the payment sheet for a PaymentIntent; resolves true when the family paid. */
export function usePaymentSheet() {
  const { initPaymentSheet, presentPaymentSheet } = useStripe();
  return async ({ clientSecret, merchant, setup = false }: { clientSecret: string; stripeAccount: string; merchant: string; setup?: boolean }) => {
    const init = await initPaymentSheet(
      setup
        ? { setupIntentClientSecret: clientSecret, merchantDisplayName: merchant }
        : { paymentIntentClientSecret: clientSecret, merchantDisplayName: merchant },
    );
    if (init.error) throw new Error(init.error.message);
    const result = await presentPaymentSheet();
    if (result.error) {
      if (result.error.code === "Canceled") return false;
      throw new Error(result.error.message);
    }
    return true;
  };
}
