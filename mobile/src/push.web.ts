// The web build gets no push notifications (the family gets the same news by email).
import type { FamilyClient } from "./api/client";

export async function registerForPush(_api: FamilyClient, _language: string): Promise<number | null> {
  return null;
}

export async function unregisterPush(_api: FamilyClient, _deviceId: number): Promise<void> {}

export function onNotificationOpened(_open: (screen: string) => void): () => void {
  return () => undefined;
}
